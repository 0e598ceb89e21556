#!/usr/bin/env bash
# .pre-commit-hooks.yaml with the real pre-commit tool (skipped when it is not installed).
. "$(dirname "$0")/history-lib.sh"

command -v pre-commit >/dev/null 2>&1 || { note "SKIP: pre-commit is not installed"; exit 0; }
SRC=$(cd "$(dirname "$0")/../.." && pwd)
[ -f "$SRC/.pre-commit-hooks.yaml" ] || fail "no .pre-commit-hooks.yaml at $SRC"

# A hooks repository holding the manifest, as 'repo:' would fetch it.
mkdir "$TMP_ROOT/hooksrepo" && cd "$TMP_ROOT/hooksrepo"
git init -q . && cp "$SRC/.pre-commit-hooks.yaml" . && git add . && git -c commit.gpgsign=false commit -qm hooks
rev=$(git rev-parse HEAD)

new_lmdata_repo repo
cat >.pre-commit-config.yaml <<YAML
repos:
  - repo: $TMP_ROOT/hooksrepo
    rev: $rev
    hooks:
      - id: lmdata-status
      - id: lmdata-checkout
      - id: lmdata-push
YAML
git add .pre-commit-config.yaml
export PRE_COMMIT_HOME=$TMP_ROOT/pre-commit-home
run pre-commit install --hook-type pre-commit --hook-type post-checkout --hook-type pre-push
[ "$RC" = 0 ] || fail "pre-commit install failed: $OUT $ERR"
jsonl data.jsonl 50 a
expect_exit 0 lmdata add data.jsonl
run git commit -qm "with data"
[ "$RC" = 0 ] || fail "commit through pre-commit failed: $OUT $ERR"
git branch -M main
jsonl data.jsonl 60 b
run git commit -qam "unrecorded data change"
[ "$RC" != 0 ] || fail "pre-commit let an unrecorded data change through"
contains "$OUT$ERR" "lmdata-status" || fail "pre-commit output lacks the hook id: $OUT $ERR"
expect_exit 0 lmdata add data.jsonl
run git commit -qm "recorded"
[ "$RC" = 0 ] || fail "commit after lmdata add failed: $OUT $ERR"
want=$(sha_of data.jsonl)
git checkout -q -b other HEAD~1
[ "$(sha_of data.jsonl)" != "$want" ] || fail "post-checkout through pre-commit did not move the data"
git checkout -q main
expect_eq "$(sha_of data.jsonl)" "$want" "data after switching back"

# lmdata-push: git push runs it with the pushed range, and every commit in
# it gets its data on the lmdata remote, not only the tip.
expect_exit 0 lmdata remote add -d store "$TMP_ROOT/datastore"
git init -q --bare "$TMP_ROOT/origin.git" || fail "git init --bare failed"
git remote add origin "$TMP_ROOT/origin.git"
run git push -q origin main
[ "$RC" = 0 ] || fail "first git push failed: $OUT $ERR"
jsonl data.jsonl 70 c
expect_exit 0 lmdata add data.jsonl
run git commit -qm mid
[ "$RC" = 0 ] || fail "commit mid failed: $OUT $ERR"
mid=$(sha_of data.jsonl)
jsonl data.jsonl 80 d
expect_exit 0 lmdata add data.jsonl
run git commit -qm tip
[ "$RC" = 0 ] || fail "commit tip failed: $OUT $ERR"
run git push -q origin main
[ "$RC" = 0 ] || fail "git push through pre-commit failed: $OUT $ERR"
git clone -q -b main "$TMP_ROOT/origin.git" "$TMP_ROOT/clone" || fail "git clone failed"
cd "$TMP_ROOT/clone" || fail "cd clone"
expect_exit 0 lmdata pull --rev HEAD~1
expect_eq "$(sha_of data.jsonl)" "$mid" "data of the commit before the pushed tip"
