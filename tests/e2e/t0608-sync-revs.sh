#!/usr/bin/env bash
# push/fetch/pull of versions other than the work tree's: --rev REV,
# --all-branches/--all-tags/--all-commits for push, and the CI recipe
# 'git clone' + 'lmdata pull --rev TAG'.
. "$(dirname "$0")/remote-lib.sh"

new_lmdata_repo repo
expect_exit 0 lmdata remote add -d origin "$TMP_ROOT/remote"
gen_file data.bin 1500000 seed-v1
expect_exit 0 lmdata add data.bin
git commit -qm v1 || fail "git commit failed"
git tag v1.0
V1=$(sha_of data.bin)
gen_file data.bin 1500000 seed-v2
expect_exit 0 lmdata add data.bin
git commit -qm v2 || fail "git commit failed"
V2=$(sha_of data.bin)

# Only v1's objects: a clone at v2 cannot get its data, one at v1 can.
expect_exit 0 lmdata push --rev v1.0 --json
git clone -q "$REPO" "$TMP_ROOT/ci" || fail "git clone failed"
cd "$TMP_ROOT/ci" || fail "cd ci"
expect_exit 3 lmdata pull
expect_err_contains "neither in the local store nor on remote"
expect_exit 0 lmdata pull --rev v1.0
expect_eq "$(sha_of data.bin)" "$V1" "data at v1.0"
expect_eq "$(manifest_field data.bin.lmd sha256)" "$V1" "manifest at v1.0"
expect_exit 2 lmdata pull --rev v1.0 --rev HEAD
expect_exit 2 lmdata pull --rev no-such-rev

# push --all-commits from the original sends v2 as well.
cd "$REPO" || fail "cd repo"
expect_exit 1 lmdata status -c --check
expect_exit 0 lmdata push --all-commits --json
expect_exit 0 lmdata status -c --check
expect_exit 0 lmdata push --all-branches --all-tags --json
printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["bytes"] == 0, j' || fail "nothing should be left to push: $OUT"
expect_exit 2 lmdata fetch --all-commits

# A fresh clone at HEAD gets v2; fetch --rev of the old tag adds v1 to the store.
git clone -q "$REPO" "$TMP_ROOT/ci2" || fail "git clone failed"
cd "$TMP_ROOT/ci2" || fail "cd ci2"
expect_exit 0 lmdata pull
expect_eq "$(sha_of data.bin)" "$V2" "data at HEAD"
expect_exit 0 lmdata fetch --rev v1.0
expect_exit 0 lmdata checkout v1.0
expect_eq "$(sha_of data.bin)" "$V1" "v1 after fetch --rev"

# The pre-push hook pushes the data of the commits git pushes (their tips),
# not only the work tree's: a branch that is not checked out gets its data.
cd "$REPO" || fail "cd repo"
expect_exit 0 lmdata hooks install
git init -q --bare "$TMP_ROOT/origin.git" || fail "git init --bare failed"
git remote add origin "$TMP_ROOT/origin.git"
git checkout -q -b other || fail "git checkout -b failed"
gen_file data.bin 1500000 seed-other
expect_exit 0 lmdata add data.bin
git commit -qm other || fail "git commit failed"
OTHER=$(sha_of data.bin)
git checkout -q master 2>/dev/null || git checkout -q main || fail "cannot go back"
expect_eq "$(sha_of data.bin)" "$V2" "data back at v2 after the branch switch"
run git push -q origin other
[ "$RC" = 0 ] || fail "git push failed: $ERR"
git clone -q -b other "$TMP_ROOT/origin.git" "$TMP_ROOT/ci3" || fail "git clone of origin failed"
cd "$TMP_ROOT/ci3" || fail "cd ci3"
expect_exit 0 lmdata pull
expect_eq "$(sha_of data.bin)" "$OTHER" "data of the pushed branch"

# Every commit being pushed gets its data on the remote, not only the tips:
# an update of a ref (git knows the remote's old tip) and a new ref (commits
# on none of the remote's tracking refs), each two commits long.
cd "$REPO" || fail "cd repo"
git checkout -q other || fail "git checkout other failed"
gen_file data.bin 1500000 seed-mid1
expect_exit 0 lmdata add data.bin
git commit -qm mid1 || fail "git commit failed"
MID1=$(sha_of data.bin)
gen_file data.bin 1500000 seed-tip1
expect_exit 0 lmdata add data.bin
git commit -qm tip1 || fail "git commit failed"
run git push -q origin other
[ "$RC" = 0 ] || fail "git push (update) failed: $ERR"
git checkout -q -b third || fail "git checkout -b third failed"
gen_file data.bin 1500000 seed-mid2
expect_exit 0 lmdata add data.bin
git commit -qm mid2 || fail "git commit failed"
MID2=$(sha_of data.bin)
gen_file data.bin 1500000 seed-tip2
expect_exit 0 lmdata add data.bin
git commit -qm tip2 || fail "git commit failed"
run git push -q origin third
[ "$RC" = 0 ] || fail "git push (new ref) failed: $ERR"
git clone -q -b third "$TMP_ROOT/origin.git" "$TMP_ROOT/ci4" || fail "git clone of origin failed"
cd "$TMP_ROOT/ci4" || fail "cd ci4"
expect_exit 0 lmdata pull --rev origin/other~1
expect_eq "$(sha_of data.bin)" "$MID1" "data of a commit inside a pushed update"
expect_exit 0 lmdata pull --rev HEAD~1
expect_eq "$(sha_of data.bin)" "$MID2" "data of a commit inside a pushed new branch"

# --rev A..B stands for every commit in the range (as git rev-list A..B):
# push and fetch the two commits of 'third' through a second remote.
cd "$REPO" || fail "cd repo"
expect_exit 0 lmdata remote add r2 "$TMP_ROOT/remote2"
expect_exit 2 lmdata push -r r2 --rev 'third~2...third'
expect_err_contains "symmetric"
expect_exit 2 lmdata push -r r2 --rev 'no-such..third'
expect_exit 0 lmdata push -r r2 --rev 'third~2..third'
git clone -q -b third "$TMP_ROOT/origin.git" "$TMP_ROOT/ci5" || fail "git clone failed"
cd "$TMP_ROOT/ci5" || fail "cd ci5"
expect_exit 0 lmdata remote add -d r2 "$TMP_ROOT/remote2"
expect_exit 3 lmdata fetch --rev HEAD~2
expect_exit 0 lmdata fetch --rev HEAD~2..HEAD
expect_exit 0 lmdata checkout HEAD~1
expect_eq "$(sha_of data.bin)" "$MID2" "HEAD~1 from a range fetch"
expect_exit 0 lmdata checkout HEAD
