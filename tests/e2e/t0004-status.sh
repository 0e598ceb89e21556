#!/usr/bin/env bash
# status: clean after commit; modified/deleted/new files inside a folder.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
mkdir -p d/sub
printf 'one\n' >d/a
printf 'two\n' >d/sub/b
printf 'three\n' >d/c
printf 'single\n' >f
expect_exit 0 lmdata add d f

# Before the commit the manifests are reported as not committed.
expect_exit 0 lmdata status
expect_out_contains "not committed"
expect_out_contains "d.lmd"

git commit -qm data || fail "git commit failed"
expect_exit 0 lmdata status --check
expect_out_empty
expect_exit 0 lmdata status
expect_exit 0 lmdata status --json
expect_json
printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["clean"] is True, j
assert j["changes"] == [], j
' || fail "status --json on a clean tree: $OUT"

# Dirty the folder: modify, delete, add.
printf 'one, modified\n' >>d/a
rm d/sub/b
printf 'brand new\n' >d/sub/new
expect_exit 1 lmdata status --check
printf '%s\n' "$OUT" | grep -q 'modified.*d/a$' || fail "status --check does not list d/a as modified:
$OUT"
printf '%s\n' "$OUT" | grep -q 'deleted.*d/sub/b$' || fail "status --check does not list d/sub/b as deleted:
$OUT"
printf '%s\n' "$OUT" | grep -q 'new file.*d/sub/new$' || fail "status --check does not list d/sub/new as new:
$OUT"
contains "$OUT" "d/c" && fail "status lists the unchanged d/c:
$OUT"

# Plain status reports the same but exits 0.
expect_exit 0 lmdata status
expect_out_contains "d/a"
expect_out_contains "d/sub/b"
expect_out_contains "d/sub/new"

expect_exit 0 lmdata status --json
expect_json
printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["clean"] is False, j
got = {(c["path"], c["state"]) for c in j["changes"]}
want = {("d/a", "modified"), ("d/sub/b", "deleted"), ("d/sub/new", "new file")}
assert got == want, got
' || fail "status --json content wrong: $OUT"

# A path argument limits the report.
expect_exit 0 lmdata status --check f
expect_out_empty
expect_exit 1 lmdata status --check d

# A tracked single file modified / deleted.
printf 'changed\n' >f
expect_exit 1 lmdata status --check f
printf '%s\n' "$OUT" | grep -q 'modified.*f$' || fail "f not reported modified: $OUT"
rm f
expect_exit 1 lmdata status --check f
printf '%s\n' "$OUT" | grep -q 'deleted.*f$' || fail "f not reported deleted: $OUT"

# A touched-but-identical file is clean.
expect_exit 0 lmdata checkout -f
expect_exit 0 lmdata status --check
touch -d '2001-01-01' d/c
expect_exit 0 lmdata status --check
expect_out_empty

# Same size, same mtime, different bytes: still seen as modified (the
# stat cache must not hide it).
printf 'three\n' >d/c
touch -d '2001-01-01' d/c
expect_exit 0 lmdata status --check
printf 'THREE\n' >d/c
touch -d '2001-01-01' d/c
expect_exit 1 lmdata status --check
printf '%s\n' "$OUT" | grep -q 'modified.*d/c$' || fail "same-size same-mtime change not seen:
$OUT"
exit 0
