#!/usr/bin/env bash
# gc --remote: refuses without a scope; deletes only packs that hold
# nothing the work tree needs and that this clone has seen for the grace
# period; keeps partly-garbage packs; data stays pullable.
. "$(dirname "$0")/remote-lib.sh"

new_lmdata_repo repo
make_dataset
expect_exit 0 lmdata remote add -d origin "$TMP_ROOT/remote"
expect_exit 0 lmdata push
git commit -qm remote .lmdata/config || fail "git commit failed"

# A second dataset, pushed, then untracked: its pack is garbage.
gen_file old.bin 2000000 seed-old
expect_exit 0 lmdata add old.bin
git commit -qm "add old.bin" || fail "git commit failed"
expect_exit 0 lmdata push
n_before=$(ls "$TMP_ROOT"/remote/packs/*.pack | wc -l)
git tag with-old
expect_exit 0 lmdata rm old.bin
git commit -qm "drop old.bin" || fail "git commit failed"

# A tag still needs old.bin: the scopes of local gc keep it.
expect_exit 0 lmdata gc --remote --all-tags --grace 0 --json
printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["packs_removed"] == 0, j' || fail "gc --all-tags removed a tagged version: $OUT"
expect_exit 0 lmdata gc --remote --rev with-old --grace 0 -n --json
printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["packs_removed"] == 0, j' || fail "gc --rev removed that version: $OUT"
git tag -d with-old >/dev/null

expect_exit 2 lmdata gc --remote
expect_err_contains "scope"

# Within the grace period nothing goes.
expect_exit 0 lmdata gc --remote --workspace
expect_out_contains "removed 0 of"
expect_out_contains "first seen less than"
expect_eq "$(ls "$TMP_ROOT"/remote/packs/*.pack | wc -l)" "$n_before" "packs after gc within grace"

# Dry run with no grace: says, deletes nothing.
expect_exit 0 lmdata gc --remote --workspace --grace 0 --dry-run --json
expect_json
printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["dry_run"] and j["packs_removed"] >= 1, j' || fail "dry run: $OUT"
expect_eq "$(ls "$TMP_ROOT"/remote/packs/*.pack | wc -l)" "$n_before" "packs after dry run"

expect_exit 0 lmdata gc --remote --workspace --grace 0
n_after=$(ls "$TMP_ROOT"/remote/packs/*.pack | wc -l)
[ "$n_after" -lt "$n_before" ] || fail "gc removed nothing ($n_after packs)"
for p in "$TMP_ROOT"/remote/packs/*.pack; do expect_file "${p%.pack}.idx"; done
for i in "$TMP_ROOT"/remote/packs/*.idx; do expect_file "${i%.idx}.pack"; done

# What the work tree needs is all still there.
expect_exit 0 lmdata fsck --remote --read-data
git clone -q "$REPO" "$TMP_ROOT/clone" || fail "git clone failed"
cd "$TMP_ROOT/clone" || fail "cd clone"
expect_exit 0 lmdata pull
expect_eq "$(sha_of data/big.bin)" "$SHA_BIG" "big.bin after remote gc"
expect_eq "$(tree_sum data/shards)" "$TREE_SUM" "shards after remote gc"

# A clone missing trees locally refuses (it cannot know what data needs).
rm -rf .lmdata/cache
expect_exit 3 lmdata gc --remote --workspace --grace 0
expect_err_contains "fetch"
