#!/usr/bin/env bash
# A store of many packs (~250) read and written by the real binary with
# the open-file limit far below the pack count (ulimit -n 48): status, ls,
# checkout, cat, fsck; a damaged block named by fsck, refused by checkout,
# healed by fsck --repair and a re-add; add of new data; push to a folder
# remote and fetch + checkout in a fresh clone; rm + gc.  A store of a
# thousand packs (~110 GiB) must not need a thousand descriptors.
#
# Then, without a limit, gc merging small packs: ~40 packs from 40 adds
# become at most 2; a second gc changes nothing; packs younger than the
# grace period (default, no LMDATA_GC_GRACE_SECONDS) are never merged.
#
# $LMDATA_HOOKS (lmdata-test-hooks) builds the many-pack store: with
# LMDATA_TEST_PACK_TARGET=1 every block (~1 MiB of raw data, or whatever
# one add has left) is sealed as its own pack, so the store is grown by
# many small adds rather than by much data.
. "$(dirname "$0")/remote-lib.sh"

[ -n "${LMDATA_HOOKS:-}" ] && [ -x "$LMDATA_HOOKS" ] ||
	fail "set LMDATA_HOOKS to the lmdata-test-hooks binary (meson test does)"
case $LMDATA_HOOKS in /*) ;; *) LMDATA_HOOKS=$PWD/$LMDATA_HOOKS ;; esac
hooked() { LMDATA_TEST_PACK_TARGET=1 timeout -k 5 "$E2E_CMD_TIMEOUT" "$LMDATA_HOOKS" "$@"; }

FD_LIMIT=48

packs() { ls "$REPO"/.lmdata/cache/packs/ 2>/dev/null | sed -n 's/\.pack$//p' | LC_ALL=C sort; }
npacks() { packs | wc -l; }

# object_ids TYPE: ids of the objects of that type (1 data, 2 file list,
# 3 tree, 4 part) the store's indexes list, one per line, sorted (idx_py
# takes index files to read as further arguments).
idx_py='
import glob, struct, sys
store, want = sys.argv[1], int(sys.argv[2])
ids = set()
for ip in sys.argv[3:] or glob.glob(store + "/packs/*.idx"):
    d = open(ip, "rb").read()
    n = struct.unpack_from("<I", d, 8)[0]
    for i in range(n):
        e = d[48 + 1024 + 56 * i: 48 + 1024 + 56 * (i + 1)]
        if e[52] == want:
            ids.add(e[:32].hex())
print("\n".join(sorted(ids)))
'
object_ids() { python3 -c "$idx_py" "$REPO/.lmdata/cache" "$1"; }

# ---------------------------------------------------------------- the store
new_lmdata_repo repo
gen_file a.bin 3145728 seed-a
python3 - b.jsonl <<'PY' || fail "cannot generate b.jsonl"
import random, sys
r = random.Random("seed-b")
with open(sys.argv[1], "w") as f:
    n = 0
    while n < 2 << 20:
        line = '{"id": %d, "text": "%s"}\n' % (n, " ".join(str(r.getrandbits(40)) for _ in range(12)))
        f.write(line)
        n += len(line)
PY
gen_file c.bin 1572864 seed-c
cp a.bin "$TMP_ROOT/a.good"
before_a=$(packs)
expect_exit 0 hooked add a.bin
a_packs=$(comm -13 <(echo "$before_a") <(packs))
expect_exit 0 hooked add b.jsonl
before_c=$(packs)
expect_exit 0 hooked add c.bin
c_packs=$(comm -13 <(echo "$before_c") <(packs))
# c.bin's chunks: the data objects of the packs its add made (random
# bytes: no other file shares them).
c_chunks=$(for p in $c_packs; do
	python3 -c "$idx_py" "$REPO/.lmdata/cache" 1 "$REPO/.lmdata/cache/packs/$p.idx"
done | LC_ALL=C sort -u)
c_id=$(sha_of c.bin)
# The folder grows one file per add: each add seals the new file's block
# and the new tree, two packs.
mkdir shards "$TMP_ROOT/staged"
python3 - "$TMP_ROOT/staged" <<'PY' || fail "cannot generate the shards"
import random, sys
for i in range(1, 121):
    r = random.Random("seed-shard-%d" % i)
    open("%s/s%d.bin" % (sys.argv[1], i), "wb").write(r.randbytes(6000 + i * 37))
PY
for i in $(seq 1 120); do
	mv "$TMP_ROOT/staged/s$i.bin" shards/
	hooked -q add shards >/dev/null 2>"$ERR_FILE" || fail "hooked add shards ($i) failed: $(cat "$ERR_FILE")"
done
git commit -qm "many packs" || fail "git commit failed"
n=$(npacks)
note "store: $n packs, $(store_bytes) bytes"
[ "$n" -ge 200 ] && [ "$n" -le 320 ] || fail "expected 200-320 packs, got $n"
[ "$n" -gt $((FD_LIMIT * 4)) ] || fail "$n packs is not far over the limit of $FD_LIMIT descriptors"
sum_a=$(sha_of a.bin) sum_b=$(sha_of b.jsonl) sum_c=$(sha_of c.bin)
sum_shards=$(tree_sum shards)
sum_s7=$(sha_of shards/s7.bin)

# The real binary, with far fewer descriptors than packs.
(
	ulimit -n $FD_LIMIT || fail "cannot set ulimit -n $FD_LIMIT"
	expect_eq "$(ulimit -n)" $FD_LIMIT "open-file limit"

	expect_exit 0 lmdata status --check
	expect_exit 0 lmdata status
	expect_exit 0 lmdata ls
	expect_eq "$(printf '%s\n' "$OUT" | wc -l)" 123 "files listed by ls"
	printf '%s\n' "$OUT" | grep -q "$sum_a.* a.bin\$" || fail "ls lacks a.bin with its sha256:
$OUT"
	printf '%s\n' "$OUT" | grep -q "$sum_s7.* shards/s7.bin\$" || fail "ls lacks shards/s7.bin with its sha256:
$OUT"

	rm -r a.bin b.jsonl c.bin shards
	expect_exit 0 lmdata checkout
	expect_eq "$(sha_of a.bin)" "$sum_a" "a.bin after checkout"
	expect_eq "$(sha_of b.jsonl)" "$sum_b" "b.jsonl after checkout"
	expect_eq "$(sha_of c.bin)" "$sum_c" "c.bin after checkout"
	expect_eq "$(tree_sum shards)" "$sum_shards" "shards after checkout"
	expect_exit 0 lmdata status --check
	lmdata cat HEAD a.bin >"$TMP_ROOT/cat.out" || fail "lmdata cat HEAD a.bin failed"
	expect_eq "$(sha_of "$TMP_ROOT/cat.out")" "$sum_a" "lmdata cat HEAD a.bin"
	lmdata cat HEAD shards/s7.bin >"$TMP_ROOT/cat.out" || fail "lmdata cat HEAD shards/s7.bin failed"
	expect_eq "$(sha_of "$TMP_ROOT/cat.out")" "$sum_s7" "lmdata cat HEAD shards/s7.bin"
	expect_exit 0 lmdata fsck
	expect_exit 0 lmdata fsck --json
	expect_json
) || exit 1

# One byte flipped in the middle of one of a.bin's chunks, in one of the
# packs its add made (random data: the block is stored raw, so exactly
# that chunk is damaged).
damaged=$(python3 - "$REPO/.lmdata/cache" $a_packs <<'PY'
import os, struct, sys
store = sys.argv[1]
for pid in sys.argv[2:]:
    d = open("%s/packs/%s.idx" % (store, pid), "rb").read()
    n = struct.unpack_from("<I", d, 8)[0]
    for i in range(n):
        e = d[48 + 1024 + 56 * i: 48 + 1024 + 56 * (i + 1)]
        if e[52] != 1:
            continue
        boff, = struct.unpack_from("<Q", e, 32)
        roff, olen = struct.unpack_from("<II", e, 44)
        pack = "%s/packs/%s.pack" % (store, pid)
        with open(pack, "rb") as f:
            f.seek(boff)
            flags, count = struct.unpack_from("<II", f.read(24), 4)
        if flags & 1:
            continue  # compressed: try another
        os.chmod(pack, 0o644)
        with open(pack, "r+b") as f:
            at = boff + 24 + 40 * count + roff + olen // 2
            f.seek(at)
            b = f.read(1)
            f.seek(at)
            f.write(bytes([b[0] ^ 0x5a]))
        print(pid, e[:32].hex())
        sys.exit(0)
sys.exit("no raw data block in a.bin's packs")
PY
) || fail "cannot damage a pack"
read -r bad_pack bad_obj <<<"$damaged"
note "damaged object $bad_obj in pack $bad_pack"

(
	ulimit -n $FD_LIMIT || fail "cannot set ulimit -n $FD_LIMIT"
	expect_exit 1 lmdata fsck
	printf '%s\n' "$OUT" | grep -q "damaged: object $bad_obj in pack $bad_pack" ||
		fail "fsck does not name object $bad_obj in pack $bad_pack:
$OUT
$ERR"
	printf '%s\n' "$OUT" | grep -q "damaged: a.bin uses a damaged object $bad_obj" ||
		fail "fsck does not name a.bin:
$OUT
$ERR"
	printf '%s\n' "$OUT" | grep "damaged: object" | grep -v "$bad_obj" | grep -q . &&
		fail "fsck names other objects than $bad_obj:
$OUT"
	printf '%s\n' "$OUT" | grep -Eq 'damaged: (b.jsonl|c.bin|shards)' &&
		fail "fsck blames a healthy dataset:
$OUT"

	# checkout refuses to write a.bin from a damaged store; the others are fine.
	rm a.bin
	expect_exit 3 lmdata checkout a.bin
	expect_no_file a.bin
	expect_no_tmp_files
	rm c.bin
	expect_exit 0 lmdata checkout c.bin
	expect_eq "$(sha_of c.bin)" "$sum_c" "c.bin from the damaged store"

	# --repair drops the damaged object; re-adding a good copy heals.
	expect_exit 1 lmdata fsck --repair
	expect_output_contains "dropped 1 damaged object"
	expect_exit 1 lmdata fsck
	expect_out_contains "a.bin"
	cp "$TMP_ROOT/a.good" a.bin
	expect_exit 0 lmdata add a.bin
	expect_exit 0 lmdata fsck
	rm a.bin
	expect_exit 0 lmdata checkout a.bin
	expect_eq "$(sha_of a.bin)" "$sum_a" "a.bin after repair and re-add"

	# New data into the many-pack store.
	gen_file d.bin 2097152 seed-d
	sum_d=$(sha_of d.bin)
	printf '{"id": "new"}\n' >shards/new.jsonl
	expect_exit 0 lmdata add d.bin shards
	git commit -qm "more data" || fail "git commit failed"
	expect_exit 0 lmdata status --check
	rm -r d.bin shards
	expect_exit 0 lmdata checkout
	expect_eq "$(sha_of d.bin)" "$sum_d" "d.bin after checkout"
	expect_exit 0 lmdata fsck
	lmdata cat HEAD~1 shards/s7.bin >"$TMP_ROOT/cat.out" || fail "lmdata cat HEAD~1 shards/s7.bin failed"
	expect_eq "$(sha_of "$TMP_ROOT/cat.out")" "$sum_s7" "lmdata cat HEAD~1 shards/s7.bin"

	# Push every pack to a folder remote; a fresh clone fetches and checks out.
	expect_exit 0 lmdata remote add -d origin "$TMP_ROOT/remote"
	git commit -qm remote .lmdata/config || fail "git commit failed"
	expect_exit 0 lmdata push
	expect_exit 0 lmdata status -c --check
	# The packs the work tree needs: each shard's, a.bin's... (the 119
	# older trees of shards/ are in packs of their own, not pushed).
	nremote=$(ls "$TMP_ROOT"/remote/packs/*.pack | wc -l)
	[ "$nremote" -gt $((FD_LIMIT * 2)) ] || fail "only $nremote packs on the remote"
	git clone -q "$REPO" "$TMP_ROOT/clone" || fail "git clone failed"
	cd "$TMP_ROOT/clone" || fail "cd clone"
	REPO=$PWD
	expect_exit 0 lmdata fetch
	expect_exit 0 lmdata checkout
	for f in a.bin b.jsonl c.bin d.bin; do
		expect_eq "$(sha_of $f)" "$(sha_of "$TMP_ROOT/repo/$f")" "$f in the clone"
	done
	expect_eq "$(tree_sum shards)" "$(tree_sum "$TMP_ROOT/repo/shards")" "shards in the clone"
	expect_exit 0 lmdata status --check
	expect_exit 0 lmdata fsck
) || exit 1
sum_d=$(sha_of d.bin)
sum_shards=$(tree_sum shards)

# rm + gc: c.bin's data goes (and the old trees of the folder), the rest
# stays and checks out.
[ -n "$c_chunks" ] || fail "c.bin has no chunks in the store"
object_ids 2 | grep -qx "$c_id" || fail "c.bin's chunk list is not in the store"
(
	ulimit -n $FD_LIMIT || fail "cannot set ulimit -n $FD_LIMIT"
	expect_exit 0 lmdata rm c.bin
	git commit -qm "drop c.bin" || fail "git commit failed"
	before=$(store_bytes)
	expect_exit 0 lmdata gc --workspace
	after=$(store_bytes)
	note "gc: $before -> $after bytes, $(npacks) packs"
	[ $((before - after)) -ge 1500000 ] || fail "gc freed only $((before - after)) bytes of c.bin's 1.5 MiB"
	object_ids 2 | grep -qx "$c_id" && fail "c.bin's chunk list survived gc"
	[ -z "$(comm -12 <(echo "$c_chunks") <(object_ids 1))" ] || fail "c.bin's chunks survived gc"
	expect_exit 0 lmdata fsck
	rm -r a.bin b.jsonl d.bin shards
	expect_exit 0 lmdata checkout
	expect_eq "$(sha_of a.bin)" "$sum_a" "a.bin after gc"
	expect_eq "$(sha_of b.jsonl)" "$sum_b" "b.jsonl after gc"
	expect_eq "$(sha_of d.bin)" "$sum_d" "d.bin after gc"
	expect_eq "$(tree_sum shards)" "$sum_shards" "shards after gc"
	expect_exit 0 lmdata status --check
) || exit 1

# ------------------------------------------------------ merging small packs
# Real binary, default pack target (32 MiB): each add of a small file seals
# a pack of its own.  gc (grace 0, from lib.sh) merges the old small ones.
new_lmdata_repo merge
for i in $(seq -w 1 40); do
	gen_file "f$i.bin" $((5000 + 10#$i * 101)) "seed-merge-$i"
	lmdata -q add "f$i.bin" >/dev/null 2>"$ERR_FILE" || fail "add f$i.bin failed: $(cat "$ERR_FILE")"
done
git commit -qm "40 small files" || fail "git commit failed"
declare -A want
for f in f*.bin; do want[$f]=$(sha_of "$f"); done
n=$(npacks)
note "merge: $n packs before gc"
[ "$n" -ge 40 ] || fail "expected a pack per add, got $n"
expect_exit 0 lmdata fsck
expect_exit 0 lmdata gc --workspace
merged=$(packs)
n=$(npacks)
note "merge: $n packs after gc"
[ "$n" -le 2 ] || fail "gc left $n small packs (expected them merged into at most 2)"
expect_exit 0 lmdata gc --workspace
expect_eq "$(packs | tr '\n' ' ')" "$(echo "$merged" | tr '\n' ' ')" "packs after a second gc"
expect_exit 0 lmdata fsck
rm f*.bin
expect_exit 0 lmdata checkout
for f in "${!want[@]}"; do
	expect_eq "$(sha_of "$f")" "${want[$f]}" "$f after merge"
done

# Packs within the grace period are never merged: 6 new small packs (just
# written) and 3 made to look two hours old, gc with the default grace.
for i in 41 42 43; do
	gen_file "f$i.bin" $((7000 + i)) "seed-merge-$i"
	expect_exit 0 lmdata add "f$i.bin"
done
old=$(comm -13 <(echo "$merged") <(packs))
expect_eq "$(echo "$old" | wc -l)" 3 "packs of f41-f43"
for p in $old $merged; do
	touch -d '2 hours ago' ".lmdata/cache/packs/$p.pack" ".lmdata/cache/packs/$p.idx" || fail "cannot age pack $p"
done
before=$(packs)
for i in 44 45 46 47 48 49; do
	gen_file "f$i.bin" $((7000 + i)) "seed-merge-$i"
	expect_exit 0 lmdata add "f$i.bin"
done
young=$(comm -13 <(echo "$before") <(packs))
expect_eq "$(echo "$young" | wc -l)" 6 "packs of f44-f49"
git commit -qm "9 more" || fail "git commit failed"
for f in f4[1-9].bin; do want[$f]=$(sha_of "$f"); done
expect_exit 0 env -u LMDATA_GC_GRACE_SECONDS timeout -k 5 "$E2E_CMD_TIMEOUT" "$LMDATA" gc --workspace
for p in $young; do
	packs | grep -qx "$p" || fail "gc (default grace) touched young pack $p"
done
for p in $old; do
	packs | grep -qx "$p" && fail "gc (default grace) left old small pack $p unmerged"
done
n=$(npacks)
note "grace: $n packs after gc (6 young kept)"
[ "$n" -le 8 ] || fail "gc (default grace) left $n packs (6 young + at most 2 merged)"
expect_exit 0 lmdata fsck
rm f*.bin
expect_exit 0 lmdata checkout
for f in "${!want[@]}"; do
	expect_eq "$(sha_of "$f")" "${want[$f]}" "$f after the grace gc"
done
exit 0
