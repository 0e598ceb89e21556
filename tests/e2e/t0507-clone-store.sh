#!/usr/bin/env bash
# a plain 'git clone' (manifests only) plus the original store reproduces every version.
. "$(dirname "$0")/history-lib.sh"

new_lmdata_repo origin
commit_all init
mkdir -p shards
for v in 1 2; do
	jsonl train.jsonl $((500 * v)) "t$v"
	for i in 1 2 3; do jsonl shards/s$i.jsonl 40 "s$i-$v"; done
	expect_exit 0 lmdata add train.jsonl shards
	commit_all "v$v"
	git tag "v$v"
	eval "train_$v=$(sha_of train.jsonl)"
	eval "shards_$v=$(tree_sum shards)"
done
origin=$REPO

cd "$TMP_ROOT"
git clone -q "$origin" copy || fail "git clone failed"
cd copy
expect_no_file train.jsonl
expect_file train.jsonl.lmd
# without a store: the missing data is named, with the next step.
expect_exit 3 lmdata checkout
expect_err_contains "lmdata pull"
expect_no_file train.jsonl
# with a copy of the original store.
cp -a "$origin/.lmdata/cache/." .lmdata/cache/
expect_exit 0 lmdata checkout
expect_eq "$(sha_of train.jsonl)" "$train_2" "train.jsonl in the clone"
expect_eq "$(tree_sum shards)" "$shards_2" "shards in the clone"
expect_exit 0 lmdata checkout v1
expect_eq "$(sha_of train.jsonl)" "$train_1" "train.jsonl v1 in the clone"
expect_eq "$(tree_sum shards)" "$shards_1" "shards v1 in the clone"
expect_exit 0 lmdata status --check --data
expect_eq "$(git status --porcelain --ignored=no | sort | tr '\n' ' ')" "M  shards.lmd M  train.jsonl.lmd " "git status in the clone"
expect_exit 0 lmdata fsck

# a second clone sharing the original store through a link.
cd "$TMP_ROOT"
git clone -q "$origin" linked
cd linked
rmdir .lmdata/cache 2>/dev/null || rm -rf .lmdata/cache
ln -s "$origin/.lmdata/cache" .lmdata/cache
expect_exit 0 lmdata checkout
expect_eq "$(sha_of train.jsonl)" "$train_2" "train.jsonl through a linked store"
expect_eq "$(lmdata cat v1 train.jsonl | sha256sum | cut -d' ' -f1)" "$train_1" "cat v1 through a linked store"
