#!/usr/bin/env bash
# fetch asks for chunks in bounded batches, so its memory does not grow
# with the corpus.  $LMDATA_HOOKS with LMDATA_TEST_FETCH_BATCH=3 fetches
# three missing chunks at a time (and spills its count's chunk ids after
# three), so a dataset of a few hundred chunks takes hundreds of batches;
# with LMDATA_TEST_PACK_TARGET=1 each block it receives is a pack, so it
# also gives its packs multi-pack indexes as it seals them (the packer).
# The data shares chunks every way: across files, across versions, a file
# copied, a file that is one chunk of another (its file id is that chunk's
# id), a big file's chunk list in parts.  Each fetch through tiny batches
# must report the same objects, transferred and already as the real
# binary's (bytes and ranges differ: a batch joins only its own blocks
# into ranges, and the bytes between two joined blocks count as received),
# leave the same objects in the store, fsck clean, and check out the same
# bytes; a fetch that fails half-way keeps what it stored and a rerun
# fetches only the rest.
. "$(dirname "$0")/remote-lib.sh"

[ -n "${LMDATA_HOOKS:-}" ] && [ -x "$LMDATA_HOOKS" ] ||
	fail "set LMDATA_HOOKS to the lmdata-test-hooks binary (meson test does)"
case $LMDATA_HOOKS in /*) ;; *) LMDATA_HOOKS=$PWD/$LMDATA_HOOKS ;; esac
batched() { LMDATA_TEST_FETCH_BATCH=3 LMDATA_TEST_PACK_TARGET=1 timeout -k 5 "$E2E_CMD_TIMEOUT" "$LMDATA_HOOKS" "$@"; }
# The original store's blocks hold 40 kB (two or three chunks), so the
# chunks are spread over a few hundred blocks.
small_blocks() { LMDATA_TEST_BLOCK_TARGET=40000 timeout -k 5 "$E2E_CMD_TIMEOUT" "$LMDATA_HOOKS" "$@"; }
parts() { LMDATA_TEST_PART_CHUNKS=16 small_blocks "$@"; }

object_ids() { store_object_ids "$1"; }

# chunk_ids FILE STORE: the ids of FILE's chunks in order, found by
# matching its bytes against the lengths and ids of the store's chunks.
chunks_py='
import glob, hashlib, struct, sys
data = open(sys.argv[1], "rb").read()
lens = {}
for ip in glob.glob(sys.argv[2] + "/packs/*.idx"):
    d = open(ip, "rb").read()
    n = struct.unpack_from("<I", d, 8)[0]
    for i in range(n):
        e = d[48 + 1024 + 56 * i: 48 + 1024 + 56 * (i + 1)]
        if e[52] == 1:
            lens.setdefault(struct.unpack_from("<I", e, 48)[0], set()).add(e[:32])
# depth first: a chunk of an older version may match and lead nowhere
dead = set()
def chain(pos):
    if pos == len(data):
        return []
    if pos in dead:
        return None
    for L in sorted(lens):
        if pos + L > len(data):
            break
        h = hashlib.sha256(data[pos:pos + L]).digest()
        if h in lens[L]:
            rest = chain(pos + L)
            if rest is not None:
                return [h.hex()] + rest
    dead.add(pos)
    return None
out = chain(0)
if out is None:
    sys.exit("no chain of chunks makes " + sys.argv[1])
print("\n".join(out))
'
chunk_ids() { python3 -c "$chunks_py" "$1" "$REPO/.lmdata/cache"; }

# field JSON KEY
field() { printf '%s' "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"; }

new_lmdata_repo repo
expect_exit 0 lmdata remote add -d origin "$TMP_ROOT/remote"
git commit -qm remote .lmdata/config || fail "git commit failed"

# v1.  big.bin: about 150 chunks in parts of at most 16.  d/: f1 and a
# copy, f1 with an insertion, f1's halves swapped, shards (two equal),
# an empty file.
gen_file big.bin 2500000 seed-big
mkdir -p d/sub
gen_file d/f1.bin 400000 seed-f1
cp d/f1.bin d/f3.bin
python3 - <<'PY' || fail "cannot derive files from f1"
d = open("d/f1.bin", "rb").read()
m = len(d) // 2
open("d/f2.bin", "wb").write(d[:m] + b"inserted" * 60 + d[m:])
open("d/sub/f4.bin", "wb").write(d[m:] + d[:m])
PY
for i in $(seq 1 10); do
	printf '{"id": %d, "text": "shard row %d"}\n' "$i" "$((i % 4))" >"d/sub/s$i.jsonl"
done
cp d/sub/s1.jsonl d/sub/s1-copy.jsonl
: >d/empty
expect_exit 0 parts add big.bin
expect_exit 0 small_blocks add d
# piece.bin: the bytes of one chunk of f1, so its file id is that chunk's id.
piece=$(chunk_ids d/f1.bin | sed -n 5p)
[ -n "$piece" ] || fail "f1 has fewer than 5 chunks"
python3 - "$REPO/.lmdata/cache" "$piece" <<'PY' || fail "cannot cut piece.bin"
import glob, hashlib, struct, sys
store, want = sys.argv[1], sys.argv[2]
d = open("d/f1.bin", "rb").read()
L = 0
for ip in glob.glob(store + "/packs/*.idx"):
    x = open(ip, "rb").read()
    n = struct.unpack_from("<I", x, 8)[0]
    for i in range(n):
        e = x[48 + 1024 + 56 * i: 48 + 1024 + 56 * (i + 1)]
        if e[:32].hex() == want:
            L = struct.unpack_from("<I", e, 48)[0]
for pos in range(len(d) - L + 1 if L else 0):
    if hashlib.sha256(d[pos:pos + L]).hexdigest() == want:
        open("piece.bin", "wb").write(d[pos:pos + L])
        break
else:
    sys.exit("chunk not found in f1")
PY
expect_exit 0 small_blocks add piece.bin
expect_eq "$(manifest_field piece.bin.lmd sha256)" "$piece" "piece.bin's id"
git commit -qm v1 || fail "git commit failed"
declare -A want1
for f in big.bin piece.bin d/f1.bin d/f2.bin d/f3.bin d/sub/f4.bin d/sub/s7.jsonl; do want1[$f]=$(sha_of "$f"); done
TREE1=$(tree_sum d)

# v2: an insertion in big.bin (a new part or two, a few chunks), f1 grows,
# f5 is big.bin's first 300 kB.
python3 - <<'PY' || fail "cannot edit v2"
d = open("big.bin", "rb").read()
m = len(d) // 3
open("big.bin", "wb").write(d[:m] + b"x" * 1000 + d[m:])
open("d/f5.bin", "wb").write(d[:300000])
with open("d/f1.bin", "ab") as f:
    f.write(bytes(range(256)) * 200)
PY
expect_exit 0 parts add big.bin
expect_exit 0 small_blocks add d
git commit -qm v2 || fail "git commit failed"
BIG2=$(sha_of big.bin)
TREE2=$(tree_sum d)
expect_exit 0 lmdata push --all-commits
expect_exit 0 lmdata fsck --remote

# fetch_all MODE DIR: clone into DIR, fetch v1, then v1 and v2, then
# nothing; the three JSON summaries go to DIR.{1,2,3}.json.
fetch_all() {
	local mode=$1 dir=$TMP_ROOT/$2 fetch=lmdata
	[ "$mode" = batched ] && fetch=batched
	git clone -q "$REPO" "$dir" || fail "git clone failed"
	(
		cd "$dir" || fail "cd $dir"
		expect_exit 0 $fetch fetch --rev HEAD~1 --json
		printf '%s\n' "$OUT" >"$dir.1.json"
		expect_exit 0 $fetch fetch --rev HEAD~1 --rev HEAD --json
		printf '%s\n' "$OUT" >"$dir.2.json"
		expect_exit 0 $fetch fetch --rev HEAD~1 --rev HEAD --json
		printf '%s\n' "$OUT" >"$dir.3.json"
		expect_exit 0 lmdata fsck
	) || exit 1
}
fetch_all normal plain
fetch_all batched small

compare_py='
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for k in ("objects", "objects_transferred", "already"):
    assert a[k] == b[k], (k, a, b)
# ranges are joined within a batch only: more of them, never fewer
assert b["transfers"] >= a["transfers"], (a, b)
print(a["objects"], a["objects_transferred"], a["already"], a["transfers"], b["transfers"], a["bytes"], b["bytes"])
'
for step in 1 2 3; do
	nums=$(python3 -c "$compare_py" "$TMP_ROOT/plain.$step.json" "$TMP_ROOT/small.$step.json") ||
		fail "fetch step $step: batched and plain summaries differ:
$(cat "$TMP_ROOT/plain.$step.json" "$TMP_ROOT/small.$step.json")"
	note "step $step: objects, transferred, already; ranges and bytes plain, batched: $nums"
done
s1=$(cat "$TMP_ROOT/small.1.json")
s2=$(cat "$TMP_ROOT/small.2.json")
s3=$(cat "$TMP_ROOT/small.3.json")
[ "$(field "$s1" transfers)" -gt 50 ] || fail "three chunks at a time took few ranges: $s1"
# v1 into an empty store: everything is new.
expect_eq "$(field "$s1" already)" 0 "already, v1 into an empty store"
expect_eq "$(field "$s1" objects)" "$(field "$s1" objects_transferred)" "objects and transferred, v1"
# Nothing left: every object counted once, none transferred.
expect_eq "$(field "$s3" objects_transferred)" 0 "transferred by a fetch with nothing to do"
expect_eq "$(field "$s3" already)" "$(field "$s3" objects)" "already by a fetch with nothing to do"
expect_eq "$(field "$s3" objects)" "$(field "$s2" objects)" "objects of v1 and v2"
# ...and that is every object in the store (the remote holds only these).
expect_eq "$(object_ids "$TMP_ROOT/small" | wc -l)" "$(field "$s3" objects)" "objects in the fetched store"
expect_eq "$(object_ids "$TMP_ROOT/small")" "$(object_ids "$TMP_ROOT/plain")" "objects fetched, batched vs plain"
npacks=$(ls "$TMP_ROOT"/small/.lmdata/cache/packs/*.pack | wc -l)
nlayers=$(ls "$TMP_ROOT"/small/.lmdata/cache/packs/*.midx | wc -l)
note "batched: $npacks packs, $nlayers multi-pack indexes"
[ "$npacks" -gt 50 ] && [ "$nlayers" -ge 1 ] || fail "expected a pack per block and a multi-pack index, got $npacks packs, $nlayers indexes"
expect_eq "$(object_ids "$TMP_ROOT/small")" "$(object_ids "$REPO")" "objects fetched vs the original store"

# Both versions check out to the same bytes.
cd "$TMP_ROOT/small" || fail "cd small"
expect_exit 0 lmdata checkout
expect_eq "$(sha_of big.bin)" "$BIG2" "big.bin v2"
expect_eq "$(tree_sum d)" "$TREE2" "d v2"
expect_exit 0 lmdata checkout HEAD~1
for f in "${!want1[@]}"; do
	expect_eq "$(sha_of "$f")" "${want1[$f]}" "$f v1"
done
expect_eq "$(tree_sum d)" "$TREE1" "d v1"
expect_no_file d/f5.bin

# A fetch that fails half-way (one block of f1's new tail arrives damaged
# every time) keeps what it stored; the rerun fetches only the rest.
cd "$REPO" || fail "cd repo"
tail_chunk=$(chunk_ids d/f1.bin | tail -n 1)
cp -a "$TMP_ROOT/remote" "$TMP_ROOT/damaged"
python3 - "$TMP_ROOT/damaged" "$tail_chunk" <<'PY' || fail "cannot damage the remote"
import glob, os, struct, sys
remote, want = sys.argv[1], bytes.fromhex(sys.argv[2])
for ip in glob.glob(remote + "/packs/*.idx"):
    d = open(ip, "rb").read()
    n = struct.unpack_from("<I", d, 8)[0]
    for i in range(n):
        e = d[48 + 1024 + 56 * i: 48 + 1024 + 56 * (i + 1)]
        if e[:32] == want and e[52] == 1:
            off, blen = struct.unpack_from("<QI", e, 32)
            pack = ip[:-4] + ".pack"
            os.chmod(pack, 0o644)
            with open(pack, "r+b") as f:
                f.seek(off + blen - 20)
                b = f.read(1)
                f.seek(off + blen - 20)
                f.write(bytes([b[0] ^ 0x5a]))
            sys.exit(0)
sys.exit("chunk not on the remote")
PY
git clone -q "$REPO" "$TMP_ROOT/resume" || fail "git clone failed"
cd "$TMP_ROOT/resume" || fail "cd resume"
expect_exit 0 lmdata remote add damaged "$TMP_ROOT/damaged"
expect_exit 3 batched fetch -r damaged --rev HEAD~1 --rev HEAD
expect_err_contains "does not match its hashes"
# (fsck names what the work tree still lacks; nothing stored is damaged)
run lmdata fsck
contains "$OUT$ERR" "damaged: object" && fail "damaged objects stored by a failed fetch:
$OUT
$ERR"
kept=$(object_ids "$TMP_ROOT/resume" | grep -c ' 1$')
note "the failed fetch kept $kept chunks"
[ "$kept" -gt 20 ] || fail "the failed fetch kept only $kept chunks"
expect_exit 0 batched fetch --rev HEAD~1 --rev HEAD --json
rest=$(field "$OUT" objects_transferred)
all=$(field "$s3" objects)
[ "$rest" -gt 0 ] && [ "$rest" -lt "$((all / 2))" ] || fail "the rerun fetched $rest objects of $all"
expect_eq "$(field "$OUT" objects)" "$(field "$s2" objects)" "objects counted by the rerun"
expect_exit 0 lmdata fsck
expect_eq "$(object_ids "$TMP_ROOT/resume")" "$(object_ids "$TMP_ROOT/plain")" "objects after the rerun"
expect_exit 0 lmdata checkout
expect_eq "$(sha_of big.bin)" "$BIG2" "big.bin after the rerun"
expect_eq "$(tree_sum d)" "$TREE2" "d after the rerun"
expect_no_tmp_files "$TMP_ROOT/resume"
left=$(find "$TMP_ROOT"/plain/.lmdata "$TMP_ROOT"/small/.lmdata "$TMP_ROOT"/resume/.lmdata -name '.lmd-ids-*' | wc -l)
expect_eq "$left" 0 "temp files left by fetch's count"
exit 0
