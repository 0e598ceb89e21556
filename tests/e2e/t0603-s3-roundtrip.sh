#!/usr/bin/env bash
# S3 remote through s3rver behind the signature-verifying proxy: push,
# then a fresh 'git clone' + 'lmdata pull' with credentials from the
# environment only gets identical bytes; the objects are readable with
# Debian's aws s3; secrets never appear in output or errors.
. "$(dirname "$0")/remote-lib.sh"

start_s3
mkbucket lmd-e2e

new_lmdata_repo repo
make_dataset
expect_exit 0 lmdata remote add -d origin s3://lmd-e2e/corpus/v1
expect_exit 0 lmdata remote modify origin endpoint "$S3_URL"
git commit -qm "remote origin" || fail "git commit failed"

expect_exit 0 lmdata push --json
expect_json
s3_faults ""   # resets the proxy's counters
expect_exit 0 lmdata push --json
printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["bytes"] == 0 and j["requests"] <= 5, j' || fail "no-op push: $OUT"
n=$(s3_stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
[ "$n" -le 5 ] || fail "no-op push made $n requests (server side)"
expect_exit 0 lmdata status -c --check

# Every request was signed in a way botocore reproduces.
s3_stats | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["rejected"] == 0 and s["verified"] > 0, s' || fail "signature rejected: $(s3_stats)"

# An independent client sees the same objects, byte for byte.
AWS="/usr/bin/aws --endpoint-url $S3_URL"
$AWS s3 ls s3://lmd-e2e/corpus/v1/packs/ >"$TMP_ROOT/ls.txt" || fail "aws s3 ls failed"
n_remote=$(grep -c '\.pack$' "$TMP_ROOT/ls.txt")
n_local=$(ls .lmdata/cache/packs/*.pack | wc -l)
expect_eq "$n_remote" "$n_local" "packs on the remote"
for p in .lmdata/cache/packs/*.pack .lmdata/cache/packs/*.idx; do
	b=$(basename "$p")
	$AWS s3 cp --quiet "s3://lmd-e2e/corpus/v1/packs/$b" "$TMP_ROOT/$b" || fail "aws s3 cp $b failed"
	cmp -s "$p" "$TMP_ROOT/$b" || fail "$b differs on the remote"
done

# CI: a plain clone and credentials from the environment only.
git clone -q "$REPO" "$TMP_ROOT/ci" || fail "git clone failed"
cd "$TMP_ROOT/ci" || fail "cd ci"
expect_no_file .lmdata/config.local
expect_exit 0 lmdata pull
expect_eq "$(sha_of data/big.bin)" "$SHA_BIG" "big.bin in CI"
expect_eq "$(tree_sum data/shards)" "$TREE_SUM" "shards in CI"
expect_exit 0 lmdata status --check
expect_exit 0 lmdata fsck

# Multipart uploads (a small threshold): same objects, byte for byte.
cd "$REPO" || fail "cd repo"
expect_exit 0 lmdata remote add mp s3://lmd-e2e/multipart
expect_exit 0 lmdata remote modify mp endpoint "$S3_URL"
expect_exit 0 lmdata remote modify mp multipart_threshold 1M
expect_exit 0 lmdata remote modify mp part_size 1M
expect_exit 0 lmdata push -r mp
for p in .lmdata/cache/packs/*.pack; do
	b=$(basename "$p")
	$AWS s3 cp --quiet "s3://lmd-e2e/multipart/packs/$b" "$TMP_ROOT/mp-$b" || fail "aws s3 cp $b failed"
	cmp -s "$p" "$TMP_ROOT/mp-$b" || fail "$b differs after a multipart upload"
done
expect_exit 0 lmdata fsck -r mp --read-data

# The endpoint may come from the environment too.
cd "$REPO" || fail "cd repo"
expect_exit 0 lmdata remote add env s3://lmd-e2e/corpus/v1
rm -rf .lmdata/cache data/big.bin data/shards
AWS_ENDPOINT_URL=$S3_URL expect_exit 0 lmdata pull -r env
expect_eq "$(sha_of data/big.bin)" "$SHA_BIG" "big.bin via AWS_ENDPOINT_URL"

# Wrong secret: a clear error naming the remote; the secret is never printed.
SECRET=wJalrXUtnFEMIK7MDENGbPxRfiCYzzSECRET
rm -rf .lmdata/cache
AWS_SECRET_ACCESS_KEY=$SECRET expect_exit 3 lmdata fetch
expect_err_contains "origin"
contains "$OUT$ERR" "$SECRET" && fail "secret printed: $ERR"
AWS_SECRET_ACCESS_KEY=$SECRET expect_exit 3 lmdata push
contains "$OUT$ERR" "$SECRET" && fail "secret printed by push: $ERR"
expect_exit 0 lmdata remote modify --local origin secret_access_key "$SECRET"
expect_exit 0 lmdata remote modify --local origin access_key_id S3RVER
expect_exit 3 lmdata -v fetch
contains "$OUT$ERR" "$SECRET" && fail "secret printed: $ERR"
expect_exit 0 lmdata remote list -v --json
contains "$OUT$ERR" "$SECRET" && fail "secret printed by remote list"
expect_exit 0 lmdata remote modify --local --unset origin secret_access_key
expect_exit 0 lmdata remote modify --local --unset origin access_key_id
expect_exit 0 lmdata fetch
expect_exit 0 lmdata fsck
