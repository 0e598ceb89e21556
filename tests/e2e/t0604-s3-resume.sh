#!/usr/bin/env bash
# An interrupted push (kill -9 while packs are uploading) and an interrupted
# fetch resume: the remote never shows an index without its pack, a rerun
# sends only what is missing, and a fresh clone then pulls identical data.
. "$(dirname "$0")/remote-lib.sh"

start_s3
mkbucket lmd-resume

new_lmdata_repo repo
# Incompressible data of several packs (packs are sealed at ~32 MiB).
gen_file big1.bin 40000000 seed-r1
gen_file big2.bin 40000000 seed-r2
expect_exit 0 lmdata add big1.bin big2.bin
expect_exit 0 lmdata remote add -d origin s3://lmd-resume/ds
expect_exit 0 lmdata remote modify origin endpoint "$S3_URL"
git commit -qm data || fail "git commit failed"
SHA1=$(sha_of big1.bin)
SHA2=$(sha_of big2.bin)
npacks=$(ls .lmdata/cache/packs/*.pack | wc -l)
[ "$npacks" -ge 3 ] || fail "expected several packs, got $npacks"

list_remote() {
	harness_get "$S3RVER_URL/lmd-resume?list-type=2&prefix=ds/packs/" |
		grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g'
}

# Slow the server down so the kill lands mid-push, then kill -9 once the
# first pack is there.
s3_faults "delay=0.5&delay_s=1&max_faults=100&seed=7"
lmdata push >/dev/null 2>&1 &
pid=$!
for i in $(seq 1 300); do
	list_remote | grep -q '\.pack$' && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.05
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
s3_faults ""

# Every index on the remote has its pack.
for k in $(list_remote | grep '\.idx$'); do
	list_remote | grep -qx "${k%.idx}.pack" || fail "index $k without its pack"
done
before=$(list_remote | grep -c '\.pack$')
[ "$before" -lt "$npacks" ] || note "push finished before the kill ($before packs): resume not exercised"

expect_exit 0 lmdata push --json
sent=$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["transfers"])')
[ "$sent" -le "$npacks" ] || fail "rerun sent $sent packs of $npacks"
expect_exit 0 lmdata status -c --check
expect_eq "$(list_remote | grep -c '\.idx$')" "$npacks" "indexes on the remote"

# Interrupted fetch: kill -9 mid-way, then a rerun completes.
git clone -q "$REPO" "$TMP_ROOT/clone" || fail "git clone failed"
cd "$TMP_ROOT/clone" || fail "cd clone"
s3_faults "delay=0.3&delay_s=1&max_faults=100&seed=3"
lmdata fetch >/dev/null 2>&1 &
pid=$!
sleep 1.5
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
s3_faults ""
# What was stored is sound (objects may be missing, none damaged).
run lmdata fsck
contains "$OUT$ERR" "do not match" && fail "damaged object after an interrupted fetch: $OUT"
contains "$OUT$ERR" "checksum" && fail "damaged pack after an interrupted fetch: $OUT"
[ "$RC" = 0 ] && note "fetch finished before the kill: resume not exercised"
expect_exit 0 lmdata pull
expect_eq "$(sha_of big1.bin)" "$SHA1" "big1 after resumed pull"
expect_eq "$(sha_of big2.bin)" "$SHA2" "big2 after resumed pull"
expect_exit 0 lmdata fsck
