#!/usr/bin/env bash
# diff and log: kinds, sizes, renames, --stat/--json/--exit-code, --at, and speed on a 20k-file tree.
. "$(dirname "$0")/history-lib.sh"

new_lmdata_repo repo
commit_all init
mkdir -p d/s
for i in 1 2 3; do echo "file $i" >d/f$i; done
echo deep >d/s/x
jsonl train.jsonl 1000 v1
expect_exit 0 lmdata add train.jsonl d
GIT_COMMITTER_DATE=2026-02-01T00:00:00Z expect_exit 0 lmdata commit -m v1
git tag v1
jsonl train.jsonl 1500 v2
echo new >d/f4
rm d/f1
mv d/f2 d/s/moved
GIT_COMMITTER_DATE=2026-02-02T00:00:00Z expect_exit 0 lmdata commit -m v2

expect_exit 0 lmdata diff v1 HEAD
expect_out_contains "added     d/f4"
expect_out_contains "deleted   d/f1"
expect_out_contains "renamed   d/f2 -> d/s/moved"
expect_out_contains "modified  train.jsonl"
contains "$OUT" "d/s/x" && fail "unchanged d/s/x reported"
expect_exit 1 lmdata diff --exit-code v1 HEAD
expect_exit 0 lmdata diff --exit-code HEAD
expect_out_empty
expect_exit 0 lmdata diff --stat v1
expect_out_contains "4 files changed: 1 added, 1 deleted, 1 modified, 1 renamed"
expect_exit 0 lmdata diff --json v1 HEAD -- train.jsonl
expect_json
size1=$(git show v1:train.jsonl.lmd | sed -n 's/^size: //p')
size2=$(manifest_field train.jsonl.lmd size)
printf '%s' "$OUT" | python3 -c "
import json, sys
d = json.load(sys.stdin)
c = d['changes']
assert len(c) == 1 and c[0]['status'] == 'modified', c
assert c[0]['old_size'] == $size1 and c[0]['new_size'] == $size2, c
assert c[0]['size_delta'] == $size2 - $size1
" || fail "diff --json content: $OUT"
expect_exit 0 lmdata diff --at 2026-02-01T12:00Z --at 2026-02-02T12:00Z -- d
expect_out_contains "added     d/f4"
# work tree against HEAD: a re-added file shows.
echo changed >>d/f3
expect_exit 0 lmdata add d
expect_exit 1 lmdata diff --exit-code
expect_out_contains "modified  d/f3"
expect_exit 0 lmdata commit -m v3
expect_exit 2 lmdata diff v1 HEAD -- nothing

# log: per dataset size, files and the change.
expect_exit 0 lmdata log -- d
expect_out_contains "v3"
expect_out_contains "+1 -1 ~1 files"
contains "$OUT" "    init" && fail "log of d shows init"
expect_exit 0 lmdata log -n 1 --oneline
expect_eq "$(printf '%s\n' "$OUT" | wc -l)" 1 "log -n 1 lines"
expect_exit 0 lmdata log --json train.jsonl
expect_json
expect_eq "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(" ".join(e["subject"] for e in json.load(sys.stdin)))')" "v2 v1" "log train.jsonl subjects"
expect_exit 0 lmdata log --oneline --since 2026-02-01T12:00Z --until 2026-02-02T12:00Z
expect_eq "$(printf '%s\n' "$OUT" | wc -l)" 1 "log --since/--until lines"
expect_out_contains "$(git rev-parse --short=7 HEAD~1) v2 | d (+1 -1 ~1 files"

# 20k files in 200 folders, 10 of them changed: diff and log stay fast.
python3 - <<'PY'
import os
for i in range(200):
    os.makedirs("big/%03d" % i, exist_ok=True)
    for j in range(100):
        with open("big/%03d/%03d.txt" % (i, j), "w") as f:
            f.write("record %d %d\n" % (i, j))
PY
expect_exit 0 lmdata add big
expect_exit 0 lmdata commit -m "big v1"
for i in 000 013 027 042 071 099 123 150 177 199; do echo changed >>big/$i/050.txt; done
expect_exit 0 lmdata commit -m "big v2"
t0=$(date +%s%N)
expect_exit 0 lmdata diff HEAD~1 HEAD
t1=$(date +%s%N)
expect_eq "$(printf '%s\n' "$OUT" | grep -c '^modified')" 10 "modified files in the 20k tree"
expect_exit 0 lmdata log -n 2 big
t2=$(date +%s%N)
expect_out_contains "+0 -0 ~10 files"
note "diff of 20k files: $(((t1 - t0) / 1000000)) ms; log: $(((t2 - t1) / 1000000)) ms"
[ $((t1 - t0)) -lt 1000000000 ] || fail "diff took $(((t1 - t0) / 1000000)) ms"
[ $((t2 - t1)) -lt 1000000000 ] || fail "log took $(((t2 - t1) / 1000000)) ms"
