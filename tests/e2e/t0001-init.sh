#!/usr/bin/env bash
# init: outside git refused; twice is fine; the store stays out of git.
. "$(dirname "$0")/lib.sh"

# 1. Outside any git work tree: usage error (exit 2), nothing created.
mkdir "$TMP_ROOT/nogit"
cd "$TMP_ROOT/nogit"
if git rev-parse --git-dir >/dev/null 2>&1; then
	note "SKIP (one check): $TMP_ROOT is inside a git work tree"
else
	expect_exit 2 lmdata init
	expect_err_contains "not in a git work tree"
	expect_no_file .lmdata
fi

# 2. In a git repository: first and second init both succeed.
new_repo repo
expect_exit 0 lmdata init
expect_file .lmdata/config
expect_file .lmdata/.gitignore
[ -d .lmdata/cache ] || fail ".lmdata/cache was not created"
cp .lmdata/config "$TMP_ROOT/config.1"
expect_exit 0 lmdata init
cmp -s .lmdata/config "$TMP_ROOT/config.1" || fail "second init changed .lmdata/config"

# init stages config and .gitignore (and nothing else).
staged=$(git diff --cached --name-only | sort | tr '\n' ' ')
expect_eq "$staged" ".lmdata/.gitignore .lmdata/config " "files staged by init"

# 3. The store stays out of git, even once it holds objects.
grep -qx '/cache/' .lmdata/.gitignore || fail ".lmdata/.gitignore does not ignore /cache/"
printf 'some data\n' >data.txt
expect_exit 0 lmdata add data.txt
ls .lmdata/cache/packs/*.pack >/dev/null 2>&1 || fail "add wrote no pack"
porcelain=$(git status --porcelain --untracked-files=all)
if contains "$porcelain" ".lmdata/cache" || contains "$porcelain" ".pack"; then
	fail "cache files visible to git:
$porcelain"
fi
git add -A .lmdata
contains "$(git diff --cached --name-only)" ".lmdata/cache" &&
	fail "'git add -A .lmdata' staged cache files"
git commit -qm 'init + data' || fail "git commit failed"
git ls-files | grep -q '^\.lmdata/cache' && fail "cache files committed"

# init again after data exists keeps the store intact.
expect_exit 0 lmdata init
expect_exit 0 lmdata fsck
rm data.txt
expect_exit 0 lmdata checkout
expect_eq "$(cat data.txt)" "some data" "data after re-init + checkout"
exit 0
