#!/usr/bin/env bash
# push / fetch / pull / status -c with a local-folder remote: round trip
# through an empty store, byte-identical data, no-op push, partial paths,
# a fresh clone, remote index cache.
. "$(dirname "$0")/remote-lib.sh"

new_lmdata_repo repo
make_dataset
expect_exit 0 lmdata remote add -d origin "$TMP_ROOT/remote"

# Not pushed yet: status -c says so, --check exits 1.
expect_exit 1 lmdata status -c --check
expect_out_contains "not pushed"
expect_exit 0 lmdata status -c --json
expect_json

expect_exit 0 lmdata push --json
expect_json
printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["remote"] == "origin" and j["objects_transferred"] > 0 and j["bytes"] > 0, j' || fail "bad push summary: $OUT"
ls "$TMP_ROOT"/remote/packs/*.pack >/dev/null 2>&1 || fail "no pack on the remote"
for p in "$TMP_ROOT"/remote/packs/*.pack; do
	expect_file "${p%.pack}.idx"
done

# Nothing left to send: one request.
expect_exit 0 lmdata push --json
printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["objects_transferred"] == 0 and j["bytes"] == 0 and j["requests"] <= 5, j' || fail "no-op push sent something: $OUT"
expect_exit 0 lmdata status -c --check
expect_exit 0 lmdata status -c
expect_out_contains "data/big.bin: pushed"
expect_out_contains "data/shards: pushed"

# Empty the store: fetch brings back exactly the objects, checkout the bytes.
rm -rf .lmdata/cache data/big.bin data/shards
expect_exit 1 lmdata status -c --check
expect_out_contains "missing locally"
expect_exit 0 lmdata fetch --json
expect_json
expect_exit 0 lmdata fsck
expect_exit 0 lmdata checkout
expect_eq "$(sha_of data/big.bin)" "$SHA_BIG" "big.bin after fetch"
expect_eq "$(tree_sum data/shards)" "$TREE_SUM" "shards after fetch"
expect_exit 0 lmdata status --check

# pull of one path into an empty store fetches only that dataset.
rm -rf .lmdata/cache data/big.bin data/shards
expect_exit 0 lmdata pull data/shards
expect_eq "$(tree_sum data/shards)" "$TREE_SUM" "shards after pull"
expect_no_file data/big.bin
expect_exit 0 lmdata pull
expect_eq "$(sha_of data/big.bin)" "$SHA_BIG" "big.bin after pull"
expect_exit 0 lmdata pull --json
expect_json

# A second version: only the new packs go.
printf 'more\n' >>data/shards/s1.jsonl
expect_exit 0 lmdata add data/shards
git commit -qm "data v2" || fail "git commit failed"
expect_exit 0 lmdata push --json
printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert 0 < j["bytes"] < 1000000, j' || fail "v2 push sent too much: $OUT"

# A fresh clone (no store at all) pulls the same bytes.
git clone -q "$REPO" "$TMP_ROOT/clone" || fail "git clone failed"
cd "$TMP_ROOT/clone" || fail "cd clone"
expect_exit 0 lmdata pull
expect_eq "$(sha_of data/big.bin)" "$SHA_BIG" "big.bin in the clone"
expect_eq "$(tree_sum data/shards)" "$(tree_sum "$REPO/data/shards")" "shards in the clone"
expect_exit 0 lmdata status --check
expect_exit 0 lmdata status -c --check

# Bad paths and remotes are usage errors; a missing remote folder is clear.
expect_exit 2 lmdata push nosuch
expect_exit 2 lmdata push -r nosuch
expect_exit 0 lmdata remote add empty "$TMP_ROOT/empty-remote"
rm -rf .lmdata/cache data/big.bin data/shards
expect_exit 3 lmdata fetch -r empty
expect_err_contains "empty"
expect_no_tmp_files "$TMP_ROOT/remote"
