#!/usr/bin/env bash
# fsck's advice for a damaged store is "re-add them from a good copy"
# (after 'lmdata fsck --repair', when the advice says so): following it
# must actually repair the store.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
gen_file big 400000 seed-big
want=$(sha_of big)
cp big "$TMP_ROOT/good-copy"
expect_exit 0 lmdata add big
git commit -qm big || fail "git commit failed"
pack=$(ls .lmdata/cache/packs/*.pack)
python3 - "$pack" <<'PY' || fail "cannot corrupt the pack"
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
expect_output_contains "re-add them from a good copy"
expect_output_contains "fsck --repair"

# Follow the advice: drop the damaged objects (the file still lacks its
# data, so fsck still exits 1), then re-add the good copy.
expect_exit 1 lmdata fsck --repair
expect_output_contains "dropped"
cp "$TMP_ROOT/good-copy" big
expect_exit 0 lmdata add big
expect_exit 0 lmdata fsck
rm big
expect_exit 0 lmdata checkout big
expect_eq "$(sha_of big)" "$want" "big after re-adding a good copy"
exit 0
