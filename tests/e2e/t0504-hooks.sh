#!/usr/bin/env bash
# hooks install: chained with existing hooks, idempotent, uninstall; post-checkout after a
# branch switch; pre-commit refuses unrecorded data changes; pre-push without a remote.
. "$(dirname "$0")/history-lib.sh"

new_lmdata_repo repo
commit_all init
git branch -M main
mkdir -p .git/hooks
printf '#!/bin/sh\necho "user hook $3" >>"%s/user-hook.log"\n' "$TMP_ROOT" >.git/hooks/post-checkout
chmod +x .git/hooks/post-checkout
expect_exit 0 lmdata hooks install
expect_out_contains "post-checkout: installed (the existing hook runs first)"
expect_file .git/hooks/post-checkout.lmdata-chained
sum1=$(cat .git/hooks/pre-commit .git/hooks/post-checkout .git/hooks/pre-push | sha256sum)
expect_exit 0 lmdata hooks install
expect_out_contains "pre-commit: already installed"
expect_eq "$(cat .git/hooks/pre-commit .git/hooks/post-checkout .git/hooks/pre-push | sha256sum)" "$sum1" "second install changed hooks"
expect_eq "$(ls .git/hooks | grep -c lmdata-chained)" 1 "chained hooks after two installs"

# two branches with different data; git checkout brings the matching data.
jsonl data.jsonl 100 main
mkdir dir && echo main >dir/a
expect_exit 0 lmdata add data.jsonl dir
commit_all "main data"
main_sha=$(sha_of data.jsonl)
git checkout -q -b feature
jsonl data.jsonl 150 feature
echo feature >dir/a
echo extra >dir/b
expect_exit 0 lmdata add data.jsonl dir
commit_all "feature data"
feat_sha=$(sha_of data.jsonl)
run git checkout main
[ "$RC" = 0 ] || fail "git checkout main failed: $ERR"
expect_eq "$(sha_of data.jsonl)" "$main_sha" "data.jsonl after git checkout main"
expect_eq "$(cat dir/a)" "main" "dir/a after git checkout main"
expect_no_file dir/b
grep -q "user hook 1" "$TMP_ROOT/user-hook.log" || fail "the chained user hook did not run"
run git checkout feature
expect_eq "$(sha_of data.jsonl)" "$feat_sha" "data.jsonl after git checkout feature"
expect_eq "$(cat dir/b)" "extra" "dir/b after git checkout feature"
expect_exit 0 lmdata status --check
# a file checkout does not run lmdata checkout.
git checkout main -- data.jsonl.lmd
expect_eq "$(sha_of data.jsonl)" "$feat_sha" "data moved by a file checkout"
git checkout -q feature -- data.jsonl.lmd

# pre-commit: data changed without add is refused; after add it passes.
jsonl data.jsonl 10 dirty
run git commit -qam "dirty"
[ "$RC" != 0 ] || fail "git commit with unrecorded data succeeded"
contains "$ERR$OUT" "lmdata add" || fail "pre-commit message lacks the next step: $ERR"
expect_exit 0 lmdata add data.jsonl
run git commit -qm "recorded"
[ "$RC" = 0 ] || fail "git commit after lmdata add failed: $ERR"

# pre-push: a no-op with a message while no data remote exists.
git init -q --bare "$TMP_ROOT/origin.git"
git remote add origin "$TMP_ROOT/origin.git"
run git push -q origin feature
[ "$RC" = 0 ] || fail "git push failed: $ERR"
contains "$ERR" "not pushed" || fail "pre-push gave no message: $ERR"

# uninstall removes only lmdata's part and puts the user's hook back.
expect_exit 0 lmdata hooks install --uninstall
expect_no_file .git/hooks/pre-commit
expect_no_file .git/hooks/post-checkout.lmdata-chained
grep -q "user hook" .git/hooks/post-checkout || fail "user hook not restored"
expect_exit 0 lmdata hooks uninstall
expect_out_contains "not installed"

# core.hooksPath is honoured; --hook installs one.
git config core.hooksPath .githooks
expect_exit 0 lmdata hooks install --hook pre-commit
expect_file .githooks/pre-commit
expect_no_file .githooks/pre-push
expect_exit 2 lmdata hooks install --hook nope
