#!/usr/bin/env bash
# Peak memory of the remote commands as the number of objects doubles
# ("memory stays flat however big the corpus").  For each size it makes a
# repository whose chunks average 1 KiB (so 512 MiB is ~450k objects, as
# many as ~7 GiB at the default 16 KiB), adds one file of pseudo-random
# bytes, and measures push to a folder remote, status -c, fsck --remote,
# gc --remote --workspace --dry-run, and fetch into an emptied store
# (then checkout, sha256 checked): peak RSS (GNU time's %M) and the
# sampled peak of anonymous memory (heap).  File pages (the mmap'd pack
# indexes of the store and of the remote's cache, 56 bytes per object)
# make up the rest of RSS; the heap is what must stay flat.
#
#   tests/bench/remote-rss.sh --lmdata build/src/cli/lmdata [--sizes "128 256 512"]
#                             [--work DIR] [--keep]
#
# Sizes in MiB (default 128 256 512); needs about 4x the largest size of
# free space under --work (default $TMPDIR or /tmp).  A measurement, not a
# test: exits 0 unless a command fails or restores wrong bytes.
set -Eeuo pipefail
export LC_ALL=C

NAME=remote-rss.sh
SIZES="128 256 512"
HELP_LINES=2,18
. "$(dirname "$0")/rss-lib.sh"
rss_setup "$@"
max=0
for s in $SIZES; do ((s > max)) && max=$s; done
echo "generating $max MiB of pseudo-random data..." >&2
python3 - "$WORK/data" "$max" <<'PY'
import random, sys
r = random.Random(20261125)
with open(sys.argv[1], "wb") as f:
    for _ in range(int(sys.argv[2])):
        f.write(r.randbytes(1 << 20))
PY

# objects: how many objects the store's indexes list.
objects() {
	python3 - "$1" <<'PY'
import glob, struct, sys
print(sum(struct.unpack_from("<I", open(p, "rb").read(16), 8)[0] for p in glob.glob(sys.argv[1] + "/packs/*.idx")))
PY
}

echo "peak RSS / peak anonymous memory, MiB:"
printf '%-8s %8s %12s %12s %12s %12s %12s\n' size objects push status-c fsck-r gc-r fetch
for s in $SIZES; do
	repo=$WORK/repo-$s
	mkdir -p "$repo"
	cd "$repo"
	git init -q .
	git config user.name bench
	git config user.email bench@example.com
	"$LMDATA" --no-progress init >/dev/null
	sed -i 's/^\tmin = .*/\tmin = 256/; s/^\tavg = .*/\tavg = 1024/; s/^\tmax = .*/\tmax = 4096/' .lmdata/config
	head -c $((s << 20)) "$WORK/data" >data
	want=$(sha256sum <data | cut -d' ' -f1)
	"$LMDATA" --no-progress add data >/dev/null
	git commit -qm data
	"$LMDATA" remote add -d origin "$WORK/remote-$s" >/dev/null
	n=$(objects .lmdata/cache)
	p=$(rss "$LMDATA" --no-progress push)
	st=$(rss "$LMDATA" --no-progress status -c)
	f=$(rss "$LMDATA" --no-progress fsck --remote)
	g=$(rss "$LMDATA" --no-progress gc --remote --workspace --dry-run)
	rm -rf .lmdata/cache data
	fe=$(rss "$LMDATA" --no-progress fetch)
	"$LMDATA" --no-progress checkout data >/dev/null
	[ "$(sha256sum <data | cut -d' ' -f1)" = "$want" ] || { echo "remote-rss.sh: wrong bytes after fetch" >&2; exit 1; }
	printf '%-8s %8s %12s %12s %12s %12s %12s\n' "${s}MiB" "$n" "$p" "$st" "$f" "$g" "$fe"
	cd "$WORK"
	rm -rf "$repo" "$WORK/remote-$s"
done
