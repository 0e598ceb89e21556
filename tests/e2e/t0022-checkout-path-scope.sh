#!/usr/bin/env bash
# checkout PATH inside a tracked folder touches only the data at or below
# PATH (man lmdata-checkout: "With paths, only the tracked data at or
# below them is restored") -- in particular --force must not destroy
# unstored changes elsewhere in the folder.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
mkdir -p d/sub
printf 'a\n' >d/a
printf 'b\n' >d/b
printf 'c\n' >d/sub/c
expect_exit 0 lmdata add d
git commit -qm d || fail "git commit failed"

printf 'local edit, never added\n' >d/a
printf 'stray\n' >d/stray
rm d/b d/sub/c

# A file path with --force.
expect_exit 0 lmdata checkout -f d/b
expect_eq "$(cat d/b)" b "d/b restored (forced)"
expect_eq "$(cat d/a)" "local edit, never added" "d/a after 'checkout -f d/b'"
expect_file d/stray

# A subfolder path, with --force.
expect_exit 0 lmdata checkout --force d/sub
expect_eq "$(cat d/sub/c)" c "d/sub/c restored"
expect_eq "$(cat d/a)" "local edit, never added" "d/a after 'checkout --force d/sub'"
expect_file d/stray

# A file path without --force.
rm d/b
expect_exit 0 lmdata checkout d/b
expect_eq "$(cat d/b)" b "d/b restored"
expect_eq "$(cat d/a)" "local edit, never added" "d/a after 'checkout d/b'"
expect_file d/stray

# The folder itself: refused because of d/a and d/stray, forced works.
expect_exit 1 lmdata checkout d
expect_err_contains "d/a"
expect_err_contains "d/stray"
expect_exit 0 lmdata checkout -f d
expect_eq "$(cat d/a)" a "d/a after 'checkout -f d'"
expect_no_file d/stray
expect_exit 0 lmdata status --check
exit 0
