#!/usr/bin/env bash
# One damaged pack index must not take the whole repository down: fsck
# reports it (exit 1, naming the pack and the file that needs it), data
# in other packs can still be checked out, status still works.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
gen_file x 300000 seed-x
expect_exit 0 lmdata add x
xpack=$(ls .lmdata/cache/packs/*.idx)
xid=$(basename "$xpack" .idx)
printf 'healthy\n' >y
expect_exit 0 lmdata add y
git commit -qm data || fail "git commit failed"
expect_eq "$(ls .lmdata/cache/packs/*.idx | wc -l)" 2 "number of packs"
cp "$xpack" "$TMP_ROOT/good.idx"

damage() {
	cp "$TMP_ROOT/good.idx" "$xpack"
	chmod 644 "$xpack"
	python3 - "$xpack" "$1" <<'PY'
import os, sys
p, how = sys.argv[1], sys.argv[2]
data = bytearray(open(p, "rb").read())
if how == "append":
    data += b"junk"
elif how == "truncate":
    data = data[: len(data) // 2]
elif how == "flip":
    data[len(data) // 2] ^= 0x5a
open(p, "wb").write(data)
PY
}

for how in append truncate flip; do
	damage "$how"
	expect_exit 1 lmdata fsck
	expect_output_contains "${xid:0:12}"
	expect_output_contains "x"
	expect_exit 1 lmdata fsck --json
	expect_json
	printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["clean"] is False and j["problems"], j
' || fail "$how: fsck --json lists no problem: $OUT"
	expect_exit 0 lmdata status --check
	rm -f y
	expect_exit 0 lmdata checkout y
	expect_eq "$(cat y)" healthy "$how: y (in a healthy pack) restored"
	rm x
	expect_exit 3 lmdata checkout x
	expect_no_file x
	expect_no_tmp_files
	gen_file x 300000 seed-x
done
cp "$TMP_ROOT/good.idx" "$xpack"
expect_exit 0 lmdata fsck
exit 0
