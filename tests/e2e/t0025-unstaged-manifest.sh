#!/usr/bin/env bash
# A manifest that is in the work tree but not in git's index (the user
# ran 'git reset' after 'lmdata add', or 'git rm --cached'): gc must not
# delete its data (man lmdata-gc: "every object that no manifest in the
# work tree references"), and checkout must still be able to restore it.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
git commit -qm init || fail "git commit failed"

# Staged then committed manifest, re-added and unstaged: work tree wins.
gen_file y 300000 seed-y1
expect_exit 0 lmdata add y
git commit -qm y1 || fail "git commit failed"
gen_file y 300000 seed-y2
y2=$(sha_of y)
expect_exit 0 lmdata add y
git reset -q || fail "git reset failed"
expect_exit 0 lmdata gc --workspace
expect_exit 0 lmdata fsck
rm y
expect_exit 0 lmdata checkout y
expect_eq "$(sha_of y)" "$y2" "y (modified, unstaged manifest) after gc + checkout"

# Never-committed manifest, unstaged: it is untracked in git now.
gen_file x 300000 seed-x
want=$(sha_of x)
expect_exit 0 lmdata add x
git reset -q x.lmd || fail "git reset failed"
git status --porcelain | grep -qx '?? x.lmd' || fail "x.lmd is not untracked: $(git status --porcelain)"
expect_file x.lmd

expect_exit 0 lmdata gc --dry-run
expect_exit 0 lmdata gc --workspace
expect_exit 0 lmdata fsck
# Stage the manifest again: its data must still be in the store.
git add x.lmd || fail "git add x.lmd failed"
rm x
run lmdata checkout x
[ "$RC" = 0 ] && [ -f x ] && [ "$(sha_of x)" = "$want" ] ||
	fail "gc deleted the data of x, whose manifest x.lmd was in the work tree (untracked by git): after gc, 'git add x.lmd', rm x, 'lmdata checkout x' exits $RC
--- stdout:
$OUT
--- stderr:
$ERR"
exit 0
