#!/usr/bin/env bash
# fsck --remote [--read-data]: presence of every needed object on the
# remote, and the integrity of every pack there.
. "$(dirname "$0")/remote-lib.sh"

new_lmdata_repo repo
make_dataset
expect_exit 0 lmdata remote add -d origin "$TMP_ROOT/remote"

expect_exit 1 lmdata fsck --remote
expect_out_contains "is not on the remote"
expect_out_contains "data/big.bin"
expect_exit 0 lmdata push
expect_exit 0 lmdata fsck --remote
expect_out_contains "ok:"
expect_exit 0 lmdata fsck --remote --read-data --json
expect_json
expect_exit 0 lmdata fsck --remote data/shards
expect_exit 2 lmdata fsck --read-data

# One flipped byte in a remote pack: --read-data names the pack.
big=$(ls -S "$TMP_ROOT"/remote/packs/*.pack | head -n1)
chmod u+w "$big"
printf '\x00' | dd of="$big" bs=1 seek=100 conv=notrunc status=none
expect_exit 0 lmdata fsck --remote
expect_exit 1 lmdata fsck --remote --read-data
expect_out_contains "$(basename "$big" .pack)"
expect_out_contains "checksum mismatch"

# A pack gone from the remote: the objects it held are reported missing.
rm -f "${big%.pack}.idx" "$big"
expect_exit 1 lmdata fsck --remote
expect_out_contains "is not on the remote"
# ...and push repairs it.
expect_exit 0 lmdata push
expect_exit 0 lmdata fsck --remote --read-data

# A damaged index on the remote does not stop anything: a fresh clone's
# fsck --remote names the pack, its fetch says why objects are absent, and
# gc --remote keeps the pack.  Deleting the index and pushing from a clone
# that has the pack sends a good index (not the pack again).
git add -A >/dev/null 2>&1; git commit -qm data || fail "git commit failed"
idx=$(ls -S "$TMP_ROOT"/remote/packs/*.idx | head -n1)
pack=$(basename "$idx" .idx)
chmod u+w "$idx"
printf '\x01' | dd of="$idx" bs=1 seek=70 conv=notrunc status=none
git clone -q "$REPO" "$TMP_ROOT/clone" || fail "git clone failed"
cd "$TMP_ROOT/clone" || fail "cd clone"
expect_exit 1 lmdata fsck --remote
expect_out_contains "$pack"
expect_out_contains "damaged index"
expect_exit 3 lmdata pull
expect_err_contains "damaged index"
cd "$REPO" || fail "cd repo"
rm -rf .lmdata/state/remote-origin/idx
expect_exit 0 lmdata gc --remote --all-commits --grace 0
expect_file "$TMP_ROOT/remote/packs/$pack.pack"
rm -f "$idx"
pack_mtime=$(stat -c %Y.%y "$TMP_ROOT/remote/packs/$pack.pack")
expect_exit 0 lmdata push
expect_file "$idx"
expect_eq "$(stat -c %Y.%y "$TMP_ROOT/remote/packs/$pack.pack")" "$pack_mtime" "the pack was not sent again"
cd "$TMP_ROOT/clone" || fail "cd clone"
expect_exit 0 lmdata pull
expect_exit 0 lmdata fsck
expect_exit 0 lmdata fsck --remote
