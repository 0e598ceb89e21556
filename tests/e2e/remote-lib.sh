# tests/e2e/remote-lib.sh: helpers for the remote tests (t06NN-*.sh), on
# top of lib.sh.
#
#   start_s3 [FAULTS]   start tests/remote/s3_harness.py in serve mode (s3rver
#                       behind the botocore-verifying, fault-injecting proxy);
#                       sets S3_URL (the proxy), S3RVER_URL (s3rver itself) and
#                       the AWS_* credentials; stopped at exit.  Missing test
#                       dependencies FAIL the test (scripts/install-test-deps.sh).
#   s3_faults SPEC      replace the proxy's faults ("fail500=0.2&reset=0.1...")
#   s3_stats            the proxy's counters (JSON)
#   mkbucket NAME       create a bucket
#   make_dataset        a repo with a big file and a folder, committed; sets
#                       SHA_BIG and TREE_SUM (sha256 over the folder's files)
#   tree_sum DIR        one hash over every file's path and sha256 under DIR

. "$(dirname "$0")/lib.sh"

E2E_DIR=$(cd "$(dirname "$0")" && pwd)
HARNESS=$E2E_DIR/../remote/s3_harness.py

start_s3() {
	local faults=${1:-} out=$TMP_ROOT/.harness i
	/usr/bin/python3 "$HARNESS" check-deps || fail "remote test dependencies missing (run scripts/install-test-deps.sh)"
	/usr/bin/python3 "$HARNESS" --lifetime 600 --faults "$faults" serve >"$out" 2>&1 &
	HARNESS_PID=$!
	at_exit "kill $HARNESS_PID"
	for i in $(seq 1 100); do
		grep -q '^S3RVER_URL=' "$out" 2>/dev/null && break
		kill -0 "$HARNESS_PID" 2>/dev/null || fail "s3 harness died: $(cat "$out")"
		sleep 0.1
	done
	S3_URL=$(sed -n 's/^PROXY_URL=//p' "$out")
	S3RVER_URL=$(sed -n 's/^S3RVER_URL=//p' "$out")
	[ -n "$S3_URL" ] || fail "s3 harness did not start: $(cat "$out")"
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
	export AWS_EC2_METADATA_DISABLED=true
	unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_CA_BUNDLE
}

# GET a harness control URL and print the body (python: no curl needed).
harness_get() {
	/usr/bin/python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=30).read().decode())' "$1"
}
s3_faults() { harness_get "$S3_URL/__harness/faults?$1" >/dev/null || fail "cannot set faults $1"; }
s3_stats() { harness_get "$S3_URL/__harness/stats"; }
mkbucket() {
	[ "$(harness_get "$S3_URL/__harness/mkbucket?name=$1" | tr -d '\n')" = 200 ] || fail "cannot create bucket $1"
}

tree_sum() {
	(cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

make_dataset() {
	mkdir -p data/shards/sub
	gen_file data/big.bin "${1:-3000000}" seed-big
	local i
	for i in $(seq 1 40); do
		printf '{"id": %d, "text": "row %d of shard"}\n' "$i" "$i" >"data/shards/s$i.jsonl"
	done
	gen_file data/shards/sub/blob 200000 seed-blob
	: >data/shards/empty
	expect_exit 0 lmdata add data/big.bin data/shards
	git commit -qm "data v1" || fail "git commit failed"
	SHA_BIG=$(sha_of data/big.bin)
	TREE_SUM=$(tree_sum data/shards)
}
