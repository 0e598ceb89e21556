#!/usr/bin/env bash
# A flipped byte in a pack: fsck names the object and the file; checkout
# fails (exit 3) without leaving a partial file or temp files.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
gen_file big 400000 seed-big
big_sum=$(sha_of big)
expect_exit 0 lmdata add big
packs_big=$(ls .lmdata/cache/packs/*.pack)
expect_eq "$(echo "$packs_big" | wc -l)" 1 "packs after the first add"
printf 'small and healthy\n' >small
expect_exit 0 lmdata add small
git commit -qm data || fail "git commit failed"
expect_exit 0 lmdata fsck

# Flip one byte in the middle of big's pack.
python3 - "$packs_big" <<'PY' || fail "cannot corrupt the pack"
import os, sys
p = sys.argv[1]
os.chmod(p, 0o644)
with open(p, "r+b") as f:
    n = os.path.getsize(p)
    f.seek(n // 2)
    b = f.read(1)
    f.seek(n // 2)
    f.write(bytes([b[0] ^ 0x5a]))
PY

expect_exit 1 lmdata fsck
printf '%s\n' "$OUT$ERR" | grep -Eq 'damaged: object [0-9a-f]{64}' ||
	fail "fsck does not name a damaged object:
$OUT
$ERR"
printf '%s\n' "$OUT$ERR" | grep -Eq 'damaged: big uses a damaged object [0-9a-f]{64}' ||
	fail "fsck does not name the tracked path 'big':
$OUT
$ERR"
obj=$(printf '%s\n' "$OUT$ERR" | sed -n 's/.*damaged: object \([0-9a-f]\{64\}\).*/\1/p' | head -n1)
printf '%s\n' "$OUT$ERR" | grep -q "big uses a damaged object $obj" ||
	fail "fsck: the object named for big ($obj) is not the damaged one"
printf '%s\n' "$OUT$ERR" | grep -q 'small' && fail "fsck blames the healthy file 'small':
$OUT$ERR"
expect_exit 1 lmdata fsck --json
expect_json
printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["clean"] is False, j
assert j["problems"], j
' || fail "fsck --json does not report the damage: $OUT"

# The data on disk is still fine, so status stays clean.
expect_exit 0 lmdata status --check

# Deleted file + damaged store: checkout fails, nothing partial is left.
rm big
expect_exit 3 lmdata checkout
expect_err_contains "big"
expect_no_file big
expect_no_tmp_files
expect_exit 3 lmdata checkout big
expect_no_file big
expect_no_tmp_files
expect_exit 3 lmdata checkout --force big
expect_no_file big
expect_no_tmp_files

# The healthy file can still be checked out on its own.
rm small
expect_exit 0 lmdata checkout small
expect_eq "$(cat small)" "small and healthy" "small restored"

# A forced checkout over existing local data that fails keeps that data.
printf 'local copy\n' >big
expect_exit 3 lmdata checkout --force big
expect_eq "$(cat big)" "local copy" "big after failed forced checkout"
expect_no_tmp_files

# Dropping the damaged pack and re-adding a good copy heals the store.
# (Re-adding without dropping it is t0015.)
gen_file big 400000 seed-big
expect_eq "$(sha_of big)" "$big_sum" "regenerated big"
rm -f "$packs_big" "${packs_big%.pack}.idx"
expect_exit 0 lmdata add big
expect_exit 0 lmdata fsck
rm big
expect_exit 0 lmdata checkout big
expect_eq "$(sha_of big)" "$big_sum" "big after healing"
exit 0
