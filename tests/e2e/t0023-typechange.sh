#!/usr/bin/env bash
# A tracked file replaced by a folder, a tracked folder by a file, a file
# inside a folder by a folder: status says typechange/changed, checkout
# refuses while unstored data would be lost, --force restores.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
printf 'x\n' >x
mkdir d
printf 'a\n' >d/a
printf 'b\n' >d/b
expect_exit 0 lmdata add x d
git commit -qm data || fail "git commit failed"

# File -> folder.
rm x
mkdir x
printf 'precious\n' >x/p
expect_exit 1 lmdata status --check
printf '%s\n' "$OUT" | grep -q 'typechange.*x$' || fail "x not reported as typechange: $OUT"
expect_exit 1 lmdata checkout
expect_err_contains "x/p"
expect_eq "$(cat x/p)" precious "x/p after refused checkout"
expect_exit 0 lmdata checkout --force
[ -f x ] || fail "x is not a file again"
expect_eq "$(cat x)" x "x restored"

# Folder -> file.
rm -rf d
printf 'precious d\n' >d
expect_exit 1 lmdata status --check
printf '%s\n' "$OUT" | grep -q 'typechange.*d$' || fail "d not reported as typechange: $OUT"
expect_exit 1 lmdata checkout
expect_eq "$(cat d)" "precious d" "d after refused checkout"
expect_exit 0 lmdata checkout --force
expect_eq "$(cat d/a)" a "d/a restored"
expect_eq "$(cat d/b)" b "d/b restored"

# File in folder -> folder; file -> symlink.
rm d/a
mkdir d/a
printf 'deep\n' >d/a/deep
rm d/b
ln -s a/deep d/b
expect_exit 1 lmdata status --check
expect_out_contains "d/a"
expect_out_contains "d/b"
expect_exit 1 lmdata checkout
expect_err_contains "d/a/deep"
expect_exit 0 lmdata checkout -f
[ -f d/a ] && [ ! -L d/b ] || fail "d/a, d/b not restored as files"
expect_eq "$(cat d/a)" a "d/a restored"
expect_eq "$(cat d/b)" b "d/b restored"
expect_exit 0 lmdata status --check
exit 0
