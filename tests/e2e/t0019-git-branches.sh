#!/usr/bin/env bash
# The git workflow: switch branches / commits, then 'lmdata checkout'
# brings the data in line with the manifests without --force.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
mkdir train
printf 'row 1\nrow 2\n' >train/part1.jsonl
printf 'row 3\n' >train/part2.jsonl
printf 'v1\n' >eval.jsonl
expect_exit 0 lmdata add train eval.jsonl
git commit -qm v1 || fail "git commit failed"
v1_ls=$(lmdata ls)
git branch -q v1

git checkout -q -b next
printf 'row 1 fixed\nrow 2\n' >train/part1.jsonl
rm train/part2.jsonl
printf 'row 4\n' >train/part3.jsonl
printf 'v2\n' >eval.jsonl
expect_exit 0 lmdata add train eval.jsonl
git commit -qm v2 || fail "git commit failed"
v2_ls=$(lmdata ls)
expect_exit 0 lmdata status --check

# Back to v1: the data is stale, checkout fixes it (all of it is stored).
git checkout -q v1 || fail "git checkout v1 failed"
expect_exit 1 lmdata status --check
expect_exit 0 lmdata checkout
expect_exit 0 lmdata status --check
expect_eq "$(cat train/part1.jsonl)" $'row 1\nrow 2' "part1 at v1"
expect_eq "$(cat train/part2.jsonl)" 'row 3' "part2 at v1"
expect_no_file train/part3.jsonl
expect_eq "$(cat eval.jsonl)" v1 "eval at v1"
expect_exit 0 lmdata ls
expect_eq "$OUT" "$v1_ls" "ls at v1"

# And forward again.
git checkout -q next || fail "git checkout next failed"
expect_exit 0 lmdata checkout
expect_exit 0 lmdata status --check
expect_eq "$(cat train/part1.jsonl)" $'row 1 fixed\nrow 2' "part1 at next"
expect_no_file train/part2.jsonl
expect_eq "$(cat train/part3.jsonl)" 'row 4' "part3 at next"
expect_exit 0 lmdata ls
expect_eq "$OUT" "$v2_ls" "ls at next"

# A clone with a copy of the store reproduces the data.
git clone -q "$REPO" "$TMP_ROOT/clone" || fail "git clone failed"
cd "$TMP_ROOT/clone"
git config user.name 'E2E Tester'
git config user.email 'e2e@example.com'
git checkout -q next
expect_exit 0 lmdata init
cp -R "$REPO/.lmdata/cache/." .lmdata/cache/
expect_exit 0 lmdata checkout
expect_exit 0 lmdata status --check
expect_eq "$(cat train/part3.jsonl)" 'row 4' "part3 in the clone"
expect_exit 0 lmdata fsck
exit 0
