#!/usr/bin/env bash
# 'lmdata add .gitignore': lmdata edits .gitignore files itself, so it
# must refuse to track one (exit 2, nothing written) -- or at least the
# result must be consistent: clean status right after add + commit.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
printf 'x\n' >x
expect_exit 0 lmdata add x
git commit -qm x || fail "git commit failed"

for p in .gitignore; do
	run lmdata add "$p"
	case $RC in
	2)
		expect_no_file "$p.lmd"
		expect_err_contains "$p"
		;;
	0)
		git commit -qm "add $p" || fail "git commit failed"
		expect_exit 0 lmdata status --check
		;;
	*)
		fail "'lmdata add $p' exited $RC: $ERR"
		;;
	esac
done

# A folder's own .gitignore inside a tracked folder is data like any
# other file; tracking the folder must not make it dirty.
mkdir d
printf '*.log\n' >d/.gitignore
printf 'a\n' >d/a
expect_exit 0 lmdata add d
git commit -qm d || fail "git commit failed"
expect_exit 0 lmdata status --check d
exit 0
