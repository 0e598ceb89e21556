#!/usr/bin/env bash
# A file that grows while 'lmdata add' reads it: either a manifest that
# matches the file as it was at some instant, or a "changed while" error
# and no manifest.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
BASE=$((50 * 1024 * 1024))
LINE='appended line of text
'
LINE_LEN=${#LINE}

APPENDER=
stop_appender() {
	if [ -n "$APPENDER" ]; then
		kill "$APPENDER" 2>/dev/null
		wait "$APPENDER" 2>/dev/null
		APPENDER=
	fi
}
at_exit stop_appender

# round N SLEEP: append LINE every SLEEP seconds while adding.
round() {
	local n=$1 pause=$2 f=grow$1
	gen_file "$f" "$BASE" "seed-grow-$n"
	( while :; do printf '%s' "$LINE" >>"$f"; sleep "$pause"; done ) &
	APPENDER=$!
	sleep 0.05
	run lmdata add "$f"
	stop_appender
	local final
	final=$(stat -c %s "$f")
	[ "$final" -gt "$BASE" ] || fail "round $n: the appender did not run"
	if [ "$RC" = 0 ]; then
		expect_file "$f.lmd"
		local size sha
		size=$(manifest_field "$f.lmd" size)
		sha=$(manifest_field "$f.lmd" sha256)
		[ "$size" -ge "$BASE" ] && [ "$size" -le "$final" ] ||
			fail "round $n: manifest size $size not between $BASE and $final"
		[ $(((size - BASE) % LINE_LEN)) = 0 ] ||
			fail "round $n: manifest size $size is not the file at any instant (base $BASE + k*$LINE_LEN)"
		expect_eq "$(head -c "$size" "$f" | sha256sum | cut -d' ' -f1)" "$sha" \
			"round $n: manifest sha256 vs the first $size bytes"
		note "round $n: add succeeded with $(((size - BASE) / LINE_LEN)) appended lines"
		# The stored bytes are exactly those.
		rm "$f"
		expect_exit 0 lmdata checkout "$f"
		expect_eq "$(sha_of "$f")" "$sha" "round $n: checked-out bytes"
	else
		[ "$RC" = 3 ] || fail "round $n: add exited $RC (expected 0 or 3): $ERR"
		expect_err_contains "changed while"
		expect_err_contains "$f"
		expect_no_file "$f.lmd"
		[ -f .gitignore ] && grep -q "$f" .gitignore && fail "round $n: .gitignore mentions $f"
		contains "$(git diff --cached --name-only)" "$f" && fail "round $n: $f staged"
		note "round $n: add refused: $ERR"
		# Once quiet, the file adds fine.
		expect_exit 0 lmdata add "$f"
		expect_eq "$(manifest_field "$f.lmd" sha256)" "$(sha_of "$f")" "round $n: re-add"
	fi
	expect_exit 0 lmdata fsck
	expect_no_tmp_files
	rm -f "$f"
}

round 1 0.01
round 2 0.2
round 3 0

# Truncation during add: same contract.
gen_file shrink "$BASE" seed-shrink
( sleep 0.1; : >shrink ) &
APPENDER=$!
run lmdata add shrink
wait "$APPENDER"
APPENDER=
if [ "$RC" = 0 ]; then
	sha=$(manifest_field shrink.lmd sha256)
	[ "$sha" = "$(gen_file "$TMP_ROOT/ref" "$BASE" seed-shrink; sha_of "$TMP_ROOT/ref")" ] ||
		[ "$sha" = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ] ||
		fail "truncated during add: manifest sha256 $sha is neither the full nor the empty file"
	note "truncate: add succeeded (size $(manifest_field shrink.lmd size))"
else
	[ "$RC" = 3 ] || fail "truncate: add exited $RC: $ERR"
	expect_err_contains "changed while"
	expect_no_file shrink.lmd
	note "truncate: add refused: $ERR"
fi
expect_exit 0 lmdata fsck
expect_no_tmp_files
exit 0
