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
