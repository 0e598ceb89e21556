#!/usr/bin/env bash
# kill -9 in the middle of checkout of a 200 MB file: never a partial file
# at the path, and the leftovers must not get in the way: a plain rerun of
# checkout restores the file, and no temp file stays behind.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
gen_file huge $((200 * 1024 * 1024)) seed-huge
mkdir d
gen_file d/big $((200 * 1024 * 1024)) seed-dbig
want=$(sha_of huge)
want_d=$(sha_of d/big)
expect_exit 0 lmdata add huge d
git commit -qm data || fail "git commit failed"

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

# kill_checkout PATH WANT
kill_checkout() {
	local path=$1 want=$2 delay killed_any=0
	for delay in 0.05 0.2 0.4; do
		rm -f "$path"
		kill9 "$delay" checkout "$path"
		[ "$KILLED" = 1 ] && killed_any=1
		if [ -e "$path" ]; then
			expect_eq "$(sha_of "$path")" "$want" "$path: partial file left by a checkout killed at ${delay}s"
		fi
		expect_exit 0 lmdata fsck
	done
	[ "$killed_any" = 1 ] || note "$path: checkout always finished before the kill"
	rm -f "$path"
	expect_exit 0 lmdata checkout "$path"
	expect_eq "$(sha_of "$path")" "$want" "$path after checkout rerun"
}

# A single-file dataset.
kill_checkout huge "$want"
# A file inside a folder dataset: the rerun must not be refused because of
# the killed run's temp file.
kill_checkout d/big "$want_d"
expect_exit 0 lmdata status --check

# Leftover temp files are cleaned up (by checkout or gc), and git does
# not see them as untracked files.
expect_exit 0 lmdata gc --workspace
expect_exit 0 lmdata checkout
expect_eq "$(git status --porcelain)" "" "git status after killed checkouts"
expect_no_tmp_files
exit 0
