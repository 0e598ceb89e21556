#!/usr/bin/env bash
# kill -9 in the middle of add of a 200 MB file: the store stays
# consistent (fsck 0) and add can simply be rerun.  (checkout: t0017.)
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
gen_file huge $((200 * 1024 * 1024)) seed-huge
want=$(sha_of huge)
printf 'small\n' >small
expect_exit 0 lmdata add small
git commit -qm small || fail "git commit failed"

# kill9 DELAY CMD...: start the real binary, SIGKILL it after DELAY seconds.
# Sets KILLED=1 when it was still running.
kill9() {
	local delay=$1 pid
	shift
	"$LMDATA" "$@" >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	KILLED=0
	kill -9 "$pid" 2>/dev/null && KILLED=1
	wait "$pid" 2>/dev/null
}

killed_any=0
for delay in 0.05 0.2 0.4 0.7; do
	kill9 "$delay" add huge
	if [ "$KILLED" = 1 ] && [ ! -f huge.lmd ]; then
		killed_any=1
		grep -qx '/huge' .gitignore && fail "kill at ${delay}s: .gitignore already ignores huge"
	else
		# The add got as far as its manifest (a process can be killed
		# after its last write, while it exits): the manifest is then
		# whole and names bytes that are all stored.
		if [ "$KILLED" = 1 ]; then
			note "killed at ${delay}s after the manifest was written"
		else
			note "add finished before the kill at ${delay}s"
		fi
		expect_eq "$(manifest_field huge.lmd sha256)" "$want" "manifest written before the kill at ${delay}s"
		expect_exit 0 lmdata fsck
		mv huge huge.keep
		expect_exit 0 lmdata checkout huge
		expect_eq "$(sha_of huge)" "$want" "huge checked out from a manifest written before the kill at ${delay}s"
		mv huge.keep huge
		git rm -q --cached huge.lmd && rm huge.lmd && sed -i '/^\/huge$/d' .gitignore
	fi
	expect_exit 0 lmdata fsck
	expect_exit 0 lmdata status --check
	expect_eq "$(sha_of huge)" "$want" "huge after kill at ${delay}s"
done
[ "$killed_any" = 1 ] || fail "add always finished before the kill; nothing tested"

# Rerun: succeeds and stores the right bytes.
expect_exit 0 lmdata add huge
expect_eq "$(manifest_field huge.lmd sha256)" "$want" "manifest after rerun"
expect_exit 0 lmdata fsck
git commit -qm huge || fail "git commit failed"
expect_exit 0 lmdata status --check

# Temp packs of killed adds are cleaned by gc.
expect_exit 0 lmdata gc --workspace
expect_no_tmp_files
expect_exit 0 lmdata fsck
rm huge
expect_exit 0 lmdata checkout huge
expect_eq "$(sha_of huge)" "$want" "huge after gc"
exit 0
