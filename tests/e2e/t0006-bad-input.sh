#!/usr/bin/env bash
# add refuses bad paths with exit 2, names them, and writes nothing.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
printf 'tracked\n' >t
mkdir d
printf 'in d\n' >d/a
mkdir d/sub
printf 'deeper\n' >d/sub/b
expect_exit 0 lmdata add t d
git commit -qm base || fail "git commit failed"
printf 'good\n' >good

# State that must survive every refusal.
state() {
	git status --porcelain --untracked-files=no
	git ls-files -s
	cat .gitignore
	ls -la .lmdata/cache/packs
	find . -name '*.lmd' -not -path './.git/*' | LC_ALL=C sort
}
state >"$TMP_ROOT/state0"
expect_unchanged() {
	state >"$TMP_ROOT/state1"
	cmp -s "$TMP_ROOT/state0" "$TMP_ROOT/state1" || fail "refused '$1' changed something:
$(diff "$TMP_ROOT/state0" "$TMP_ROOT/state1")"
	expect_no_file good.lmd
	expect_no_tmp_files
}

# refuse EXPECTED-MESSAGE PATH...: exit 2, message on stderr, nothing written.
refuse() {
	local msg=$1
	shift
	expect_exit 2 lmdata add "$@"
	expect_err_contains "$msg"
	expect_unchanged "add $*"
}

refuse "'missing' does not exist" missing
refuse "'missing' does not exist" good missing
mkdir "$TMP_ROOT/outside"
printf 'out\n' >"$TMP_ROOT/outside/o"
refuse "is outside the repository" "$TMP_ROOT/outside/o"
refuse "is outside the repository" ../outside/o
refuse "is outside the repository" ..
expect_no_file "$TMP_ROOT/outside/o.lmd"
refuse "'.git' belongs to git or lmdata" .git
refuse "belongs to git or lmdata" .git/config
refuse "'.lmdata' belongs to git or lmdata" .lmdata
refuse "belongs to git or lmdata" .lmdata/config
refuse "already tracked by 'd.lmd'" d/a
refuse "already tracked by 'd.lmd'" d/sub
refuse "already tracked by 'd.lmd'" d/sub/b
expect_no_file d/a.lmd
expect_no_file d/sub.lmd

# Special files, alone and inside a folder.
mkfifo fifo
refuse "'fifo' is a fifo" fifo
refuse "'fifo' is a fifo" good fifo
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' sock ||
	fail "cannot create a unix socket"
[ -S sock ] || fail "sock is not a socket"
refuse "'sock' is a socket" sock
mkdir e
printf 'ok\n' >e/ok
mkfifo e/pipe
refuse "'e/pipe' is a fifo" e
expect_no_file e.lmd
rm e/pipe
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' e/sock
refuse "'e/sock' is a socket" e
rm -rf e fifo sock
# Devices (mknod needs root).
if is_root && mknod chardev c 1 3 2>/dev/null; then
	refuse "'chardev' is a character device" chardev
	mkdir e
	printf 'ok\n' >e/ok
	mknod e/blk b 7 200 || fail "mknod e/blk failed"
	refuse "'e/blk' is a block device" e
	rm -rf e chardev
else
	note "cannot mknod (not root): device checks skipped"
fi

# Unreadable data: a read error, i.e. exit 3 (man lmdata-add), naming the
# file, nothing written.  root reads anything, so as root run lmdata as
# 'nobody' in a repository owned by nobody.
printf 'secret\n' >secret
chmod 000 secret
mkdir locked
printf 'x\n' >locked/x
chmod 000 locked
as_user=()
if is_root; then
	if command -v setpriv >/dev/null &&
		setpriv --reuid=65534 --regid=65534 --clear-groups "$LMDATA" --version >/dev/null 2>&1; then
		chmod 755 "$TMP_ROOT"
		chown -R 65534:65534 "$REPO"
		as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	else
		note "running as root and cannot run lmdata as nobody (setpriv): a file cannot be made unreadable to root; unreadable-file checks skipped"
		as_user=(skip)
	fi
fi
if [ "${as_user[0]:-}" != skip ]; then
	expect_exit 3 "${as_user[@]}" "$LMDATA" add secret
	expect_err_contains "'secret'"
	expect_err_contains "permission denied"
	expect_no_file secret.lmd
	expect_exit 3 "${as_user[@]}" "$LMDATA" add locked
	expect_err_contains "'locked'"
	expect_err_contains "permission denied"
	expect_no_file locked.lmd
	grep -q secret .gitignore && fail ".gitignore mentions secret"
	grep -q locked .gitignore && fail ".gitignore mentions locked"
	chmod 700 locked
	chmod 000 locked/x
	expect_exit 3 "${as_user[@]}" "$LMDATA" add locked
	expect_err_contains "'locked/x'"
	expect_no_file locked.lmd
	is_root && chown -R 0:0 "$REPO"
fi
chmod -R u+rwX secret locked
rm -rf secret locked
expect_unchanged "unreadable files"

# Usage errors.
expect_exit 2 lmdata add
expect_exit 2 lmdata add --no-such-option good
expect_exit 2 lmdata add -j 0 good
expect_no_file good.lmd
exit 0
