#!/usr/bin/env bash
# --json output with non-ASCII file names: valid JSON whose strings decode
# to the real (UTF-8) names, for ls and status.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
mkdir d
printf 'accent\n' >d/café
printf 'cjk\n' >d/数据.txt
printf 'plain\n' >d/plain
expect_exit 0 lmdata add d
git commit -qm d || fail "git commit failed"

check_names() {
	printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
entries = j if isinstance(j, list) else j["changes"]
got = sorted(e["path"] for e in entries)
want = sorted(sys.argv[1:])
assert got == want, "got %r, want %r" % (got, want)
' "$@" || fail "JSON names do not decode to the real file names:
$OUT"
}

expect_exit 0 lmdata ls --json
expect_json
check_names d/café d/数据.txt d/plain

printf 'changed\n' >d/café
printf 'changed\n' >d/数据.txt
expect_exit 0 lmdata status --json
expect_json
check_names d/café d/数据.txt

# Non-UTF-8 bytes in a name: the JSON must at least stay valid and not
# pass the name off as a different, valid UTF-8 name.
expect_exit 0 lmdata checkout -f
printf 'raw\n' >d/$'\xff'raw
printf 'yuml\n' >d/ÿraw
expect_exit 0 lmdata add d
expect_exit 0 lmdata ls --json
expect_json
printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
paths = [e["path"] for e in j]
assert len(paths) == len(set(paths)), "two different files share one JSON name: %r" % paths
' || fail "ls --json maps two different names to the same string:
$OUT"
exit 0
