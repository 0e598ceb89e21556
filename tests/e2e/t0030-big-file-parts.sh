#!/usr/bin/env bash
# A big file's chunk list in parts (two levels: the file list names parts,
# each part lists a run of chunks).  $LMDATA_HOOKS is lmdata built with the
# test hook that sets the most chunks per part (LMDATA_TEST_PART_CHUNKS), so
# a 4 MiB file has about 25 parts; everything but 'add' runs the real
# binary, which reads whatever a store holds.  Checks: checkout after rm and
# cat give the same bytes; an insertion in the middle adds a part or two and
# a few chunks, not a new list; gc keeps the parts and chunks of every kept
# version; fsck names a damaged part and every file that uses it, and
# --repair then re-adding heals; push and pull through a folder remote.
. "$(dirname "$0")/remote-lib.sh"

[ -n "${LMDATA_HOOKS:-}" ] && [ -x "$LMDATA_HOOKS" ] ||
	fail "set LMDATA_HOOKS to the lmdata-test-hooks binary (meson test does)"
hooked() { LMDATA_TEST_PART_CHUNKS=16 timeout -k 5 "$E2E_CMD_TIMEOUT" "$LMDATA_HOOKS" "$@"; }

# objects TYPE: how many index entries of that type the store has
# (1 data, 2 file list, 3 tree, 4 part).  objects_ids TYPE: their ids.
idx_py='
import glob, struct, sys
store, want, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ids = set()
for ip in glob.glob(store + "/packs/*.idx"):
    d = open(ip, "rb").read()
    n = struct.unpack_from("<I", d, 8)[0]
    for i in range(n):
        e = d[48 + 1024 + 56 * i: 48 + 1024 + 56 * (i + 1)]
        if e[52] == want:
            ids.add(e[:32].hex())
print(len(ids) if mode == "count" else "\n".join(sorted(ids)))
'
objects() { python3 -c "$idx_py" "$REPO/.lmdata/cache" "$1" count; }
object_ids() { python3 -c "$idx_py" "$REPO/.lmdata/cache" "$1" ids; }

new_lmdata_repo repo
gen_file big 4194304 seed-parts
want=$(sha_of big)
cp big "$TMP_ROOT/good-copy"
expect_exit 0 hooked add big
git commit -qm "big v1" || fail "git commit failed"
nparts=$(objects 4)
nfiles=$(objects 2)
[ "$nparts" -ge 10 ] || fail "expected many parts for a 4 MiB file, got $nparts"
expect_eq "$nfiles" 1 "file lists"
note "v1: $nparts parts, $(objects 1) chunks"

# Adding again is a no-op: the same parts, nothing new.
touch big
expect_exit 0 hooked add big
expect_eq "$(objects 4)" "$nparts" "parts after re-adding the same bytes"

# The real binary reads it: fsck, checkout after rm, cat.
expect_exit 0 lmdata fsck
rm big
expect_exit 0 lmdata checkout big
expect_eq "$(sha_of big)" "$want" "big after checkout"
expect_exit 0 lmdata status --check
lmdata cat HEAD big >"$TMP_ROOT/cat.out" || fail "lmdata cat failed"
expect_eq "$(sha_of "$TMP_ROOT/cat.out")" "$want" "lmdata cat"

# Insert 1000 bytes in the middle: the parts are cut where chunk ids say,
# so only the parts around the insertion are new (and the file list).
before_parts=$(object_ids 4)
before_bytes=$(store_bytes)
python3 - big <<'PY' || fail "cannot edit big"
import sys
p = sys.argv[1]
d = open(p, "rb").read()
m = len(d) // 2
open(p, "wb").write(d[:m] + b"x" * 1000 + d[m:])
PY
want2=$(sha_of big)
expect_exit 0 hooked add big
git commit -qm "big v2" || fail "git commit failed"
after_parts=$(object_ids 4)
new_parts=$(comm -13 <(echo "$before_parts") <(echo "$after_parts") | wc -l)
growth=$(( $(store_bytes) - before_bytes ))
note "v2: $new_parts new parts, store grew by $growth bytes"
[ "$new_parts" -ge 1 ] && [ "$new_parts" -le 3 ] || fail "an insertion made $new_parts new parts"
[ "$growth" -lt 200000 ] || fail "an insertion of 1000 bytes grew the store by $growth bytes"
expect_exit 0 lmdata fsck
rm big
expect_exit 0 lmdata checkout big
expect_eq "$(sha_of big)" "$want2" "big v2 after checkout"
lmdata cat HEAD~1 big >"$TMP_ROOT/cat.out" || fail "lmdata cat HEAD~1 failed"
expect_eq "$(sha_of "$TMP_ROOT/cat.out")" "$want" "lmdata cat of v1"

# gc keeping every commit keeps both versions' parts and chunks...
expect_exit 0 lmdata gc --all-commits
expect_exit 0 lmdata fsck
expect_eq "$(object_ids 4)" "$after_parts" "parts after gc --all-commits"
lmdata cat HEAD~1 big >"$TMP_ROOT/cat.out" || fail "lmdata cat HEAD~1 failed after gc"
expect_eq "$(sha_of "$TMP_ROOT/cat.out")" "$want" "v1 after gc --all-commits"
# ...and keeping only the work tree drops v1's own parts, none of v2's.
expect_exit 0 lmdata gc --workspace
expect_exit 0 lmdata fsck
v2_parts=$(object_ids 4)
[ "$(echo "$v2_parts" | wc -l)" -lt "$(echo "$after_parts" | wc -l)" ] || fail "gc --workspace kept every part of v1"
[ -z "$(comm -23 <(echo "$v2_parts") <(echo "$after_parts"))" ] || fail "parts appeared during gc"
[ -z "$(comm -13 <(echo "$before_parts") <(echo "$after_parts") | comm -23 - <(echo "$v2_parts"))" ] ||
	fail "gc --workspace dropped a part of v2"
rm big
expect_exit 0 lmdata checkout big
expect_eq "$(sha_of big)" "$want2" "big v2 after gc --workspace"

# Push to a folder remote, then a fresh clone pulls the same bytes (fetch
# goes manifests -> file lists -> parts -> chunks).
expect_exit 0 lmdata remote add -d origin "$TMP_ROOT/remote"
git commit -qm remote .lmdata/config || fail "git commit failed"
expect_exit 0 lmdata push
expect_exit 0 lmdata status -c --check
expect_exit 0 lmdata fsck --remote
git clone -q "$REPO" "$TMP_ROOT/clone" || fail "git clone failed"
(
	cd "$TMP_ROOT/clone" || fail "cd clone"
	REPO=$PWD
	expect_exit 0 lmdata pull
	expect_eq "$(sha_of big)" "$want2" "big in the clone"
	expect_eq "$(object_ids 4)" "$v2_parts" "parts fetched into the clone"
	expect_exit 0 lmdata fsck
	expect_exit 0 lmdata status -c --check
) || exit 1
# gc --remote keeps what the work tree needs (parts included).
expect_exit 0 lmdata gc --remote --workspace --grace 0
(
	git clone -q "$REPO" "$TMP_ROOT/clone2" || fail "git clone failed"
	cd "$TMP_ROOT/clone2" || fail "cd clone2"
	expect_exit 0 lmdata pull
	expect_eq "$(sha_of big)" "$want2" "big after gc --remote"
) || exit 1

# Two files sharing parts (v1 as 'old', v2 as 'big'); one shared part
# damaged in the pack.  Only that object's bytes are changed: its block is
# decompressed, the byte flipped and the block recompressed to the same
# length (a zstd skippable frame pads it), so fsck's verdict on each object
# is about that part alone.
cp "$TMP_ROOT/good-copy" old
expect_exit 0 hooked add old
git commit -qm "old" || fail "git commit failed"
shared=$(comm -12 <(echo "$v2_parts") <(echo "$before_parts") | head -n1)
[ -n "$shared" ] || fail "no part shared by v1 and v2"
python3 - "$REPO/.lmdata/cache" "$shared" "$TMP_ROOT" <<'PY' || fail "cannot damage part $shared"
import glob, os, struct, subprocess, sys
store, want, tmp = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3]
for ip in glob.glob(store + "/packs/*.idx"):
    d = open(ip, "rb").read()
    n = struct.unpack_from("<I", d, 8)[0]
    for i in range(n):
        e = d[48 + 1024 + 56 * i: 48 + 1024 + 56 * (i + 1)]
        if e[:32] == want and e[52] == 4:
            pack = ip[:-4] + ".pack"
            boff, = struct.unpack_from("<Q", e, 32)
            roff, olen = struct.unpack_from("<II", e, 44)
            break
    else:
        continue
    break
else:
    sys.exit("part not in any index")
os.chmod(pack, 0o644)
with open(pack, "r+b") as f:
    f.seek(boff)
    hdr = f.read(24)
    flags, count, raw_len, stored = struct.unpack_from("<IIII", hdr, 4)
    pay_off = boff + 24 + 40 * count
    f.seek(pay_off)
    payload = f.read(stored)
    if flags & 1:
        open(tmp + "/blk.zst", "wb").write(payload)
        subprocess.run(["zstd", "-q", "-d", "-f", tmp + "/blk.zst", "-o", tmp + "/blk"], check=True)
        raw = bytearray(open(tmp + "/blk", "rb").read())
    else:
        raw = bytearray(payload)
    assert len(raw) == raw_len
    raw[roff + olen // 2] ^= 0x5a
    if flags & 1:
        open(tmp + "/blk", "wb").write(raw)
        subprocess.run(["zstd", "-q", "-19", "--no-check", "-f", tmp + "/blk", "-o", tmp + "/blk.zst"], check=True)
        new = open(tmp + "/blk.zst", "rb").read()
        pad = stored - len(new)
        assert pad >= 8, "recompressed block is not smaller"
        new += struct.pack("<II", 0x184D2A50, pad - 8) + b"\0" * (pad - 8)
    else:
        new = bytes(raw)
    assert len(new) == stored
    f.seek(pay_off)
    f.write(new)
PY
expect_exit 1 lmdata fsck
for f in big old; do
	printf '%s\n' "$OUT" | grep -q "damaged: $f uses a damaged part of its chunk list $shared" ||
		fail "fsck does not name part $shared for '$f':
$OUT
$ERR"
done
printf '%s\n' "$OUT" | grep -q "damaged: object $shared in pack" || fail "fsck does not list the damaged part:
$OUT"
printf '%s\n' "$OUT" | grep "damaged: object" | grep -v "$shared" | grep -q . &&
	fail "fsck names other objects than the damaged part:
$OUT"
rm big
expect_exit 3 lmdata checkout big
expect_no_file big

# Like a damaged file list: --repair drops it, the files still lack it
# (named), re-adding a good copy brings it back.
expect_exit 1 lmdata fsck --repair
expect_output_contains "dropped 1 damaged object"
expect_out_contains "damaged: old uses a part of its chunk list missing from the store $shared"
cp "$TMP_ROOT/good-copy" old
expect_exit 0 hooked add old
expect_exit 0 lmdata fsck
expect_exit 0 lmdata checkout big
expect_eq "$(sha_of big)" "$want2" "big after repair"
exit 0
