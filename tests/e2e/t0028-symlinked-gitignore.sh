#!/usr/bin/env bash
# A hostile repository commits .gitignore as a symlink to a file outside
# the work tree (git itself refuses to read such a .gitignore).  add and
# rm must neither write to the target nor copy its contents into a
# .gitignore that they stage (it would be committed and pushed).
. "$(dirname "$0")/lib.sh"

mkdir "$TMP_ROOT/victim"
printf 'SECRET-KEY-MATERIAL\n' >"$TMP_ROOT/victim/id_rsa"
printf 'OTHER-SECRET\n' >"$TMP_ROOT/victim/token"
new_lmdata_repo repo
ln -s ../victim/id_rsa .gitignore
mkdir sub
ln -s ../../victim/token sub/.gitignore
git add .gitignore sub/.gitignore 2>/dev/null
git commit -qm hostile 2>/dev/null || fail "git commit failed"

check_no_leak() {
	expect_eq "$(cat "$TMP_ROOT/victim/id_rsa")" SECRET-KEY-MATERIAL "$1: victim id_rsa"
	expect_eq "$(cat "$TMP_ROOT/victim/token")" OTHER-SECRET "$1: victim token"
	local f
	for f in .gitignore sub/.gitignore; do
		if git cat-file -e ":$f" 2>/dev/null; then
			git show ":$f" | grep -q SECRET && fail "$1: the staged $f holds the symlink target's secret:
$(git show ":$f")"
		fi
		if [ -f "$f" ] && [ ! -L "$f" ]; then
			grep -q SECRET "$f" && fail "$1: $f now holds the symlink target's secret:
$(cat "$f")"
		fi
	done
	return 0
}

printf 'x\n' >x
run lmdata add x
case $RC in
0 | 2) ;;
*) fail "add x exited $RC: $ERR" ;;
esac
check_no_leak "add x"

printf 'y\n' >sub/y
run lmdata add sub/y
case $RC in
0 | 2) ;;
*) fail "add sub/y exited $RC: $ERR" ;;
esac
check_no_leak "add sub/y"

if [ -f x.lmd ]; then
	run lmdata rm x
	check_no_leak "rm x"
fi
exit 0
