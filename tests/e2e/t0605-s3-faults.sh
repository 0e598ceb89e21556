#!/usr/bin/env bash
# Faults injected by the proxy: 500 / 503 SlowDown / connection resets
# still give complete, identical data; a corrupted byte in a GET body is
# always detected (retried, or a clear failure) and never stored; a
# damaged pack on a folder remote is refused.
. "$(dirname "$0")/remote-lib.sh"

start_s3
mkbucket lmd-faults

new_lmdata_repo repo
make_dataset 6000000
expect_exit 0 lmdata remote add -d origin s3://lmd-faults/ds
expect_exit 0 lmdata remote modify origin endpoint "$S3_URL"
expect_exit 0 lmdata remote modify origin jobs 4
git commit -qm remote || fail "git commit failed"

# Transient server errors and resets during push and fetch.
s3_faults "fail500=0.25&slowdown503=0.15&reset=0.15&max_faults=12&seed=11"
expect_exit 0 lmdata push
s3_faults "fail500=0.25&slowdown503=0.15&reset=0.15&max_faults=12&seed=12"
rm -rf .lmdata/cache .lmdata/state data/big.bin data/shards
expect_exit 0 lmdata pull
expect_eq "$(sha_of data/big.bin)" "$SHA_BIG" "big.bin after faults"
expect_eq "$(tree_sum data/shards)" "$TREE_SUM" "shards after faults"
injected=$(s3_stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["injected"])')
[ "$injected" -gt 0 ] || fail "no fault was injected"
expect_exit 0 lmdata fsck

# A few flipped bytes: detected, asked for again, data still identical.
s3_faults "corrupt=0.5&max_faults=3&seed=15"
rm -rf .lmdata/cache data/big.bin data/shards
expect_exit 0 lmdata pull
expect_eq "$(sha_of data/big.bin)" "$SHA_BIG" "big.bin after corrupted GETs"
expect_exit 0 lmdata fsck
corrupted=$(s3_stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["corrupt"])')
[ "$corrupted" -gt 0 ] || fail "no corruption was injected"

# Every GET corrupted: a clear failure, nothing damaged stored.
s3_faults "corrupt=1&max_faults=100000&seed=9"
rm -rf .lmdata/cache data/big.bin data/shards
expect_exit 3 lmdata fetch
expect_err_contains "origin"
run lmdata fsck
contains "$OUT$ERR" "do not match" && fail "damaged object stored: $OUT"
s3_faults ""

# Persistent 500s: a clear error naming the remote and the key, after retries.
expect_exit 0 lmdata remote modify origin max_tries 2
s3_faults "always_fail=/packs/.*\\.pack&always_status=500"
expect_exit 3 lmdata fetch
expect_err_contains "origin"
expect_err_contains ".pack"
s3_faults ""
expect_exit 0 lmdata remote modify --unset origin max_tries

# A damaged pack on a folder remote: refused, never stored.
expect_exit 0 lmdata remote add folder "$TMP_ROOT/folder"
expect_exit 0 lmdata fetch
expect_exit 0 lmdata push -r folder
for p in "$TMP_ROOT"/folder/packs/*.pack; do
	sz=$(stat -c %s "$p")
	[ "$sz" -gt 100000 ] || continue
	chmod u+w "$p"
	printf '\xff' | dd of="$p" bs=1 seek=$((sz / 2)) conv=notrunc status=none
done
rm -rf .lmdata/cache data/big.bin data/shards
expect_exit 3 lmdata fetch -r folder
expect_err_contains "does not match its hashes"
run lmdata fsck
contains "$OUT$ERR" "do not match" && fail "damaged object stored: $OUT"
expect_exit 0 lmdata pull
expect_eq "$(sha_of data/big.bin)" "$SHA_BIG" "big.bin from the good remote"
