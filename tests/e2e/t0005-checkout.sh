#!/usr/bin/env bash
# checkout: restores deleted and stored-but-different data, refuses to
# overwrite unstored local changes unless --force.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
gen_file x 500000 seed-x1
v1=$(sha_of x)
expect_exit 0 lmdata add x
git commit -qm v1 || fail "git commit failed"

# Deleted file: restored byte-identically.
rm x
expect_exit 0 lmdata checkout
expect_out_contains "1 file restored"
expect_file x
expect_eq "$(sha_of x)" "$v1" "restored x"
expect_eq "$(stat -c %s x)" 500000 "restored size"
expect_no_tmp_files

# Stored but different: x holds v2 (stored by add), manifest goes back to v1.
gen_file x 500000 seed-x2
v2=$(sha_of x)
expect_exit 0 lmdata add x
git commit -qm v2 || fail "git commit failed"
git checkout -q HEAD~1 -- x.lmd || fail "git checkout of the old manifest failed"
expect_eq "$(manifest_field x.lmd sha256)" "$v1" "old manifest"
expect_exit 1 lmdata status --check x
printf '%s\n' "$OUT" | grep -q 'modified.*x$' || fail "x not reported modified: $OUT"
expect_exit 0 lmdata checkout x
expect_eq "$(sha_of x)" "$v1" "x after checkout of the v1 manifest"
git checkout -q HEAD -- x.lmd
expect_exit 0 lmdata checkout x
expect_eq "$(sha_of x)" "$v2" "x after checkout of the v2 manifest"
expect_exit 0 lmdata status --check

# Unstored local change: refused (exit 1), file named, file unchanged.
printf 'precious local edit\n' >x
mine=$(sha_of x)
expect_exit 1 lmdata checkout
expect_err_contains "x"
expect_err_contains "stored nowhere"
expect_eq "$(sha_of x)" "$mine" "x after refused checkout"
expect_exit 1 lmdata checkout x
expect_eq "$(sha_of x)" "$mine" "x after refused checkout x"

# All or nothing: a refused checkout restores nothing else either.
printf 'other\n' >y
expect_exit 0 lmdata add y
rm y
expect_exit 1 lmdata checkout
expect_no_file y
expect_eq "$(sha_of x)" "$mine" "x after refused checkout (2)"
expect_exit 0 lmdata checkout y
expect_eq "$(cat y)" other "y restored by 'checkout y'"

# --force overwrites it.
expect_exit 0 lmdata checkout --force x
expect_eq "$(sha_of x)" "$v2" "x after checkout --force"
printf 'again\n' >x
expect_exit 0 lmdata checkout -f
expect_eq "$(sha_of x)" "$v2" "x after checkout -f"

# Inside a folder: unstored new file refused, removed with --force.
mkdir d
printf 'a\n' >d/a
expect_exit 0 lmdata add d
printf 'stray\n' >d/stray
expect_exit 1 lmdata checkout d
expect_err_contains "d/stray"
expect_file d/stray
expect_exit 0 lmdata checkout -f d
expect_no_file d/stray
git commit -qm d || fail "git commit failed"
expect_eq "$(cat d/a)" a "d/a after forced checkout"
expect_exit 0 lmdata status --check d
expect_no_tmp_files
exit 0
