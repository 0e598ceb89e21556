#!/usr/bin/env bash
# time travel: checkout REV / HEAD~1 / --at DATE, ls REV, cat REV PATH reproduce exact bytes.
. "$(dirname "$0")/history-lib.sh"

new_lmdata_repo repo
commit_all init

mkdir -p corpus/sub
declare -A FILE_SHA TREE_SHA
for v in 1 2 3; do
	jsonl train.jsonl $((1000 * v)) "v$v"
	jsonl corpus/a.jsonl 50 "a$v"
	[ "$v" = 2 ] && rm -f corpus/sub/old.txt
	[ "$v" = 1 ] && echo old >corpus/sub/old.txt
	echo "version $v" >corpus/sub/v.txt
	expect_exit 0 lmdata add train.jsonl corpus
	GIT_COMMITTER_DATE="2026-01-0${v}T12:00:00Z" GIT_AUTHOR_DATE="2026-01-0${v}T12:00:00Z" \
		expect_exit 0 lmdata commit -m "v$v"
	git tag "v$v"
	FILE_SHA[$v]=$(sha_of train.jsonl)
	TREE_SHA[$v]=$(tree_sum corpus)
done
expect_git_fsck
expect_eq "$(git log --format=%s | head -3 | tr '\n' ' ')" "v3 v2 v1 " "git log subjects"

# checkout a tag: byte-identical, HEAD unchanged, the manifests staged as modified.
head=$(git rev-parse HEAD)
expect_exit 0 lmdata checkout v1
expect_eq "$(sha_of train.jsonl)" "${FILE_SHA[1]}" "train.jsonl at v1"
expect_eq "$(tree_sum corpus)" "${TREE_SHA[1]}" "corpus at v1"
expect_eq "$(git rev-parse HEAD)" "$head" "HEAD moved"
expect_eq "$(git status --porcelain | sort | tr '\n' ' ')" "M  corpus.lmd M  train.jsonl.lmd " "git status after checkout v1"
expect_exit 0 lmdata status --check --data

# HEAD~1, one path only.
expect_exit 0 lmdata checkout HEAD~1 -- train.jsonl
expect_eq "$(sha_of train.jsonl)" "${FILE_SHA[2]}" "train.jsonl at HEAD~1"
expect_eq "$(tree_sum corpus)" "${TREE_SHA[1]}" "corpus untouched by a checkout of train.jsonl"

# --at DATE: the last commit at or before it.
expect_exit 0 lmdata checkout --at "2026-01-02 18:00Z"
expect_eq "$(sha_of train.jsonl)" "${FILE_SHA[2]}" "train.jsonl --at jan 2"
expect_eq "$(tree_sum corpus)" "${TREE_SHA[2]}" "corpus --at jan 2"
expect_exit 0 lmdata checkout --at "@$(date -d 2026-01-01T12:00:00Z +%s)"
expect_eq "$(sha_of train.jsonl)" "${FILE_SHA[1]}" "train.jsonl --at the v1 second"
expect_exit 2 lmdata checkout --at 2025-01-01
expect_err_contains "no commit"

# back to HEAD: git sees nothing changed.
expect_exit 0 lmdata checkout HEAD
expect_eq "$(sha_of train.jsonl)" "${FILE_SHA[3]}" "train.jsonl back at HEAD"
expect_eq "$(tree_sum corpus)" "${TREE_SHA[3]}" "corpus back at HEAD"
expect_eq "$(git status --porcelain)" "" "git status after checkout HEAD"

# ls and cat at a version, without touching the work tree.
expect_exit 0 lmdata ls v1 corpus
expect_out_contains "corpus/sub/old.txt"
expect_exit 0 lmdata ls --json v2
expect_json
contains "$OUT" "corpus/sub/old.txt" && fail "old.txt listed at v2"
expect_eq "$(lmdata cat v1 train.jsonl | sha256sum | cut -d' ' -f1)" "${FILE_SHA[1]}" "cat v1 train.jsonl"
expect_eq "$(lmdata cat v2 corpus/sub/v.txt)" "version 2" "cat v2 corpus/sub/v.txt"
expect_eq "$(lmdata cat v1 -- corpus/sub/old.txt)" "old" "cat of a file only v1 has"
expect_eq "$(lmdata cat v1 train.jsonl | head -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')" 0 "cat | head"
expect_eq "$(sha_of train.jsonl)" "${FILE_SHA[3]}" "work tree untouched by cat"

# a dataset that only an old version has comes back, ignored by git.
expect_exit 0 lmdata rm corpus
rm -rf corpus
commit_all "drop corpus"
expect_exit 0 lmdata checkout v2 -- corpus
expect_eq "$(tree_sum corpus)" "${TREE_SHA[2]}" "corpus restored from v2"
git check-ignore -q corpus || fail "corpus not ignored after checkout v2"
expect_no_tmp_files
