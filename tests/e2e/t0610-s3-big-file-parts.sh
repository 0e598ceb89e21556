#!/usr/bin/env bash
# A big file's chunk list in parts (see t0030) through an S3 remote
# (s3rver behind the verifying proxy): push, a fresh clone pulls the same
# bytes (fetch: file list, then parts, then chunks, by byte ranges), the
# remote verifies, and a second version sends only its new parts and
# chunks.
. "$(dirname "$0")/remote-lib.sh"

[ -n "${LMDATA_HOOKS:-}" ] && [ -x "$LMDATA_HOOKS" ] ||
	fail "set LMDATA_HOOKS to the lmdata-test-hooks binary (meson test does)"
hooked() { LMDATA_TEST_PART_CHUNKS=16 timeout -k 5 "$E2E_CMD_TIMEOUT" "$LMDATA_HOOKS" "$@"; }

start_s3
mkbucket lmd-parts

new_lmdata_repo repo
gen_file big 3000000 seed-s3-parts
want=$(sha_of big)
expect_exit 0 hooked add big
git commit -qm "big v1" || fail "git commit failed"
expect_exit 0 lmdata remote add -d origin s3://lmd-parts/big
expect_exit 0 lmdata remote modify origin endpoint "$S3_URL"
git commit -qm remote .lmdata/config || fail "git commit failed"
expect_exit 0 lmdata push
expect_exit 0 lmdata status -c --check
expect_exit 0 lmdata fsck --remote --read-data

git clone -q "$REPO" "$TMP_ROOT/ci" || fail "git clone failed"
cd "$TMP_ROOT/ci" || fail "cd ci"
expect_exit 0 lmdata pull --json
printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["objects_fetched"] > 20, j' || fail "pull fetched too little: $OUT"
expect_eq "$(sha_of big)" "$want" "big pulled from S3"
expect_exit 0 lmdata fsck
expect_exit 0 lmdata status -c --check

# Insert in the middle: the push sends one pack of a few new chunks and
# parts, not the whole list again.
cd "$REPO" || fail "cd repo"
python3 - big <<'PY' || fail "cannot edit big"
import sys
p = sys.argv[1]
d = open(p, "rb").read()
open(p, "wb").write(d[:len(d) // 2] + b"inserted" * 100 + d[len(d) // 2:])
PY
want2=$(sha_of big)
expect_exit 0 hooked add big
git commit -qm "big v2" || fail "git commit failed"
expect_exit 0 lmdata push --json
printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert 0 < j["bytes"] < 200000, j' || fail "v2 push sent too much: $OUT"
cd "$TMP_ROOT/ci" || fail "cd ci"
git pull -q || fail "git pull failed"
expect_exit 0 lmdata pull
expect_eq "$(sha_of big)" "$want2" "big v2 pulled from S3"
expect_exit 0 lmdata fsck
exit 0
