# tests/bench/rss-lib.sh: options, scratch folder and peak memory of a
# command, for the *-rss.sh benchmarks.  Source it after setting NAME (the
# script's name), SIZES (the default sizes) and HELP_LINES (the lines of
# the script's header that --help prints, as sed's "2,16").
#
#   rss_setup "$@"  parse --lmdata PATH (required), --sizes LIST, --work DIR
#                and --keep; set LMDATA (absolute), SIZES, and WORK (a new
#                scratch folder under --work, removed at exit unless --keep)
#   rss CMD...   run CMD under GNU time and print its peak RSS (%M) and its
#                sampled peak anonymous memory, in MiB, as "TOTAL/ANON"; its
#                stdout goes to $RSS_OUT (default a scratch file).  A failing
#                CMD stops the benchmark with its stderr.
#
# Anonymous memory (heap, stacks: RssAnon in /proc/PID/status) is sampled
# every 2 ms.  The rest of the peak RSS is file pages: mostly the store's
# and the remote's pack indexes, which are mmap'd and searched per object
# (56 bytes each) and which the kernel can drop at any time.

rss_setup() {
	local parent=${TMPDIR:-/tmp}
	LMDATA=
	KEEP=0
	while (($#)); do
		case $1 in
		--lmdata) LMDATA=${2:?--lmdata needs a path}; shift 2 ;;
		--sizes) SIZES=${2:?--sizes needs a list}; shift 2 ;;
		--work) parent=${2:?--work needs a directory}; shift 2 ;;
		--keep) KEEP=1; shift ;;
		-h|--help) sed -n "${HELP_LINES}p" "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
		*) echo "$NAME: unknown option '$1'" >&2; exit 2 ;;
		esac
	done
	[ -n "$LMDATA" ] || { echo "$NAME: --lmdata PATH is required" >&2; exit 2; }
	[ -x /usr/bin/time ] || { echo "$NAME: needs GNU time (/usr/bin/time)" >&2; exit 2; }
	LMDATA=$(cd "$(dirname "$LMDATA")" && pwd)/$(basename "$LMDATA")
	WORK=$(mktemp -d "$parent/lmdata-${NAME%.sh}.XXXXXX")
	trap 'if [ "$KEEP" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi' EXIT
}

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
