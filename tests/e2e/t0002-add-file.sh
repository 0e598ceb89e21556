#!/usr/bin/env bash
# add a single file: manifest contents, .gitignore, staging, git fsck.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
git commit -qm init || fail "git commit after init failed"

gen_file x 300000 seed-x
want=$(sha_of x)
expect_exit 0 lmdata add x
expect_out_contains "added x"
expect_file x.lmd
expect_file x

expect_eq "$(manifest_field x.lmd version)" 1 "manifest version"
expect_eq "$(manifest_field x.lmd type)" file "manifest type"
expect_eq "$(manifest_field x.lmd path)" x "manifest path"
expect_eq "$(manifest_field x.lmd size)" 300000 "manifest size"
expect_eq "$(manifest_field x.lmd sha256)" "$want" "manifest sha256 vs sha256sum"
expect_eq "$(grep -c '^sha256: ' x.lmd)" 1 "number of sha256 lines"

# .gitignore ignores exactly /x, and the data file is ignored by git.
grep -qx '/x' .gitignore || fail ".gitignore lacks '/x':
$(cat .gitignore)"
git check-ignore -q x || fail "git does not ignore x"
git check-ignore -q x.lmd && fail "git ignores x.lmd"

staged=$(git diff --cached --name-only | sort | tr '\n' ' ')
expect_eq "$staged" ".gitignore x.lmd " "staged files"

# Data file untouched by add.
expect_eq "$(sha_of x)" "$want" "x changed by add"

git commit -qm 'add x' || fail "git commit failed"
run git fsck --strict
[ "$RC" = 0 ] || fail "git fsck failed: $OUT $ERR"
expect_exit 0 lmdata status --check
expect_out_empty
expect_exit 0 lmdata fsck

# Adding the same unchanged file again is a no-op for git.
expect_exit 0 lmdata add x
expect_eq "$(git status --porcelain)" "" "git status after re-adding unchanged x"
expect_eq "$(grep -cx '/x' .gitignore)" 1 "'/x' lines in .gitignore after re-add"

# A file in a subfolder: manifest next to it, .gitignore in that folder.
mkdir -p sub/deeper
printf 'nested\n' >sub/deeper/y.txt
expect_exit 0 lmdata add sub/deeper/y.txt
expect_file sub/deeper/y.txt.lmd
expect_eq "$(manifest_field sub/deeper/y.txt.lmd path)" y.txt "nested manifest path"
expect_eq "$(manifest_field sub/deeper/y.txt.lmd sha256)" "$(sha_of sub/deeper/y.txt)" "nested sha256"
grep -qx '/y.txt' sub/deeper/.gitignore || fail "sub/deeper/.gitignore lacks /y.txt"
staged=$(git diff --cached --name-only | sort | tr '\n' ' ')
expect_eq "$staged" "sub/deeper/.gitignore sub/deeper/y.txt.lmd " "staged files (nested)"

# An empty file.
: >empty
expect_exit 0 lmdata add empty
expect_eq "$(manifest_field empty.lmd size)" 0 "empty size"
expect_eq "$(manifest_field empty.lmd sha256)" \
	e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 "empty sha256"
git commit -qm more || fail "git commit failed"
run git fsck --strict
[ "$RC" = 0 ] || fail "git fsck failed: $OUT $ERR"
exit 0
