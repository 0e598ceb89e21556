#!/usr/bin/env bash
# Data that git already tracks: 'lmdata add' must keep the data out of git
# (man lmdata-add: ".gitignore ... so the data itself stays out of git")
# -- .gitignore does not apply to tracked files, so either add removes it
# from the index (keeping the file on disk) or it refuses (exit 2,
# nothing written).  Silently leaving it in git is wrong.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
printf 'data committed to git by mistake\n' >x
mkdir d
printf 'a\n' >d/a
git add x d
git commit -qm 'data in git' || fail "git commit failed"

for p in x d; do
	run lmdata add "$p"
	case $RC in
	0)
		[ -z "$(git ls-files -- "$p")" ] || fail "'lmdata add $p' succeeded but git still tracks the data:
$(git ls-files -- "$p")
--- git status:
$(git status --porcelain)"
		expect_file "$p.lmd"
		[ -e "$p" ] || fail "$p removed from disk"
		git commit -qm "track $p" || fail "git commit failed"
		[ -z "$(git ls-tree -r --name-only HEAD -- "$p")" ] || fail "$p still committed in HEAD"
		expect_exit 0 lmdata status --check
		;;
	2)
		expect_no_file "$p.lmd"
		expect_err_contains "$p"
		;;
	*)
		fail "'lmdata add $p' exited $RC: $ERR"
		;;
	esac
done
exit 0
