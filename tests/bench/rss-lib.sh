# tests/bench/rss-lib.sh: peak memory of a command, for the *-rss.sh
# benchmarks.  Source it after setting WORK (a scratch folder) and NAME
# (the script's name, for errors).
#
#   rss CMD...   run CMD under GNU time and print its peak RSS (%M) and its
#                sampled peak anonymous memory, in MiB, as "TOTAL/ANON"; its
#                stdout goes to $RSS_OUT (default a scratch file).  A failing
#                CMD stops the benchmark with its stderr.
#
# Anonymous memory (heap, stacks: RssAnon in /proc/PID/status) is sampled
# every 2 ms.  The rest of the peak RSS is file pages: mostly the store's
# and the remote's pack indexes, which are mmap'd and searched per object
# (56 bytes each) and which the kernel can drop at any time.

[ -x /usr/bin/time ] || { echo "$NAME: needs GNU time (/usr/bin/time)" >&2; exit 2; }

RSS_SAMPLER='
import os, subprocess, sys, time
rss_file, anon_file, out = sys.argv[1:4]
with open(out, "wb") as o, open(os.environ["WORK"] + "/.err", "wb") as e:
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss_file] + sys.argv[4:], stdout=o, stderr=e)
    peak = 0
    while p.poll() is None:
        try:
            kids = open("/proc/%d/task/%d/children" % (p.pid, p.pid)).read().split()
            for c in kids:
                for line in open("/proc/%s/status" % c):
                    if line.startswith("RssAnon:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.002)
open(anon_file, "w").write("%d\n" % peak)
sys.exit(p.returncode)
'

rss() {
	WORK=$WORK python3 -c "$RSS_SAMPLER" "$WORK/.rss" "$WORK/.anon" "${RSS_OUT:-$WORK/.out}" "$@" || {
		echo "$NAME: '$*' failed:" >&2
		cat "$WORK/.err" >&2
		exit 1
	}
	printf '%s/%s' "$(awk '{ printf "%.1f", $1 / 1024 }' "$WORK/.rss")" "$(awk '{ printf "%.1f", $1 / 1024 }' "$WORK/.anon")"
}
