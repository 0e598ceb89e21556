#!/usr/bin/env bash
# Peak memory of lmdata on one big file as the file doubles (issue 2:
# "memory does not grow with file size").  For each size it makes a fresh
# repository, adds the file, and measures add, fsck, checkout after rm
# (sha256 checked), cat to /dev/null and gc: peak RSS with GNU time's %M,
# and the peak of anonymous memory (heap), sampled.  A big file's chunk
# list is stored in parts read one at a time, so the heap should stay flat;
# the parts column says how many there were.  RSS also counts the pages of
# the store's mmap'd pack indexes that were touched (56 bytes per chunk).
#
#   tests/bench/bigfile-rss.sh --lmdata build/src/cli/lmdata [--sizes "1 2 4"]
#                              [--work DIR] [--keep]
#
# Sizes are in GiB (default 1 2 4).  The data is pseudo-random (seeded, so
# every run measures the same bytes), one file of the largest size whose
# prefixes are the smaller ones; it needs about 3x the largest size of free
# space under --work (default $TMPDIR or /tmp).  A measurement, not a test:
# exits 0 unless a command fails or restores wrong bytes.
set -Eeuo pipefail
export LC_ALL=C

NAME=bigfile-rss.sh
SIZES="1 2 4"
HELP_LINES=2,16
. "$(dirname "$0")/rss-lib.sh"
rss_setup "$@"

max=0
for s in $SIZES; do ((s > max)) && max=$s; done
echo "generating $max GiB of pseudo-random data..." >&2
python3 - "$WORK/data" "$max" <<'PY'
import random, sys
r = random.Random(20240601)
with open(sys.argv[1], "wb") as f:
    for _ in range(int(sys.argv[2]) * 64):
        f.write(r.randbytes(16 << 20))
PY

# parts: how many part objects (type 4) the store's indexes list.
parts() {
	python3 - "$1" <<'PY'
import glob, struct, sys
n = 0
for ip in glob.glob(sys.argv[1] + "/packs/*.idx"):
    d = open(ip, "rb").read()
    for i in range(struct.unpack_from("<I", d, 8)[0]):
        n += d[48 + 1024 + 56 * i + 52] == 4
print(n)
PY
}

echo "peak RSS / peak anonymous memory, MiB:"
printf '%-8s %6s %12s %12s %12s %12s %12s\n' size parts add fsck checkout cat gc
for s in $SIZES; do
	repo=$WORK/repo-$s
	mkdir -p "$repo"
	cd "$repo"
	git init -q .
	git config user.name bench
	git config user.email bench@example.com
	"$LMDATA" --no-progress init >/dev/null
	head -c $((s << 30)) "$WORK/data" >big
	want=$(sha256sum <big | cut -d' ' -f1)
	a=$(rss "$LMDATA" --no-progress add big)
	git commit -qm big
	n=$(parts .lmdata/cache)
	f=$(rss "$LMDATA" --no-progress fsck)
	rm big
	c=$(rss "$LMDATA" --no-progress checkout big)
	[ "$(sha256sum <big | cut -d' ' -f1)" = "$want" ] || { echo "bigfile-rss.sh: wrong bytes after checkout" >&2; exit 1; }
	k=$(RSS_OUT=/dev/null rss "$LMDATA" --no-progress cat HEAD big)
	g=$(LMDATA_GC_GRACE_SECONDS=0 rss "$LMDATA" --no-progress gc --workspace)
	printf '%-8s %6s %12s %12s %12s %12s %12s\n' "${s}GiB" "$n" "$a" "$f" "$c" "$k" "$g"
	cd "$WORK"
	rm -rf "$repo"
done
