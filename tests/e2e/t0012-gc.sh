#!/usr/bin/env bash
# gc: --dry-run deletes nothing, gc shrinks the store, fsck stays clean,
# checkout still reproduces the current data.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
gen_file f 1000000 seed-f1
expect_exit 0 lmdata add f
git commit -qm v1 || fail "git commit failed"
expect_exit 0 lmdata gc --dry-run
expect_out_contains "would remove 0 unreferenced objects"

gen_file f 1000000 seed-f2
f2=$(sha_of f)
expect_exit 0 lmdata add f
git commit -qm v2 || fail "git commit failed"

# A folder whose files share packs, one of them replaced later.
mkdir d
gen_file d/keep 300000 seed-keep
gen_file d/change 300000 seed-change1
keep=$(sha_of d/keep)
expect_exit 0 lmdata add d
gen_file d/change 300000 seed-change2
change2=$(sha_of d/change)
expect_exit 0 lmdata add d
git commit -qm d || fail "git commit failed"

# Not committed, only in the work tree: gc must keep it (--workspace).
printf 'uncommitted\n' >u
expect_exit 0 lmdata add u

listing() { (cd .lmdata/cache && find . -type f -exec sha256sum {} + | LC_ALL=C sort); }
before_bytes=$(store_bytes)
listing >"$TMP_ROOT/before"

expect_exit 0 lmdata gc --dry-run
expect_out_contains "would remove"
n=$(printf '%s\n' "$OUT" | sed -n 's/.*would remove \([0-9]*\) unreferenced objects.*/\1/p')
[ -n "$n" ] && [ "$n" -gt 0 ] || fail "gc --dry-run reports nothing to remove:
$OUT"
expect_eq "$(store_bytes)" "$before_bytes" "store size after gc --dry-run"
listing >"$TMP_ROOT/after-dry"
cmp -s "$TMP_ROOT/before" "$TMP_ROOT/after-dry" || fail "gc --dry-run changed the store:
$(diff "$TMP_ROOT/before" "$TMP_ROOT/after-dry")"

expect_exit 0 lmdata gc -n --json
expect_json
printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["dry_run"] is True, j
assert j["objects_removed"] > 0, j
assert j["bytes_after"] < j["bytes_before"], j
' || fail "gc -n --json: $OUT"
cmp -s "$TMP_ROOT/before" <(listing) || fail "gc -n --json changed the store"

expect_exit 0 lmdata gc --workspace
expect_out_contains "removed $n unreferenced objects"
after_bytes=$(store_bytes)
[ "$after_bytes" -lt "$before_bytes" ] || fail "gc did not shrink the store ($before_bytes -> $after_bytes)"
# Two 1 MB / 300 kB versions dropped: at least 1 MB less.
[ $((before_bytes - after_bytes)) -gt 1000000 ] ||
	fail "gc freed only $((before_bytes - after_bytes)) bytes"
expect_exit 0 lmdata fsck
expect_no_tmp_files

# Nothing more to do.
expect_exit 0 lmdata gc --workspace --json
expect_json
printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["objects_removed"] == 0, j
' || fail "second gc removed objects: $OUT"

# The current data is still all there.
rm f
expect_exit 0 lmdata checkout f
expect_eq "$(sha_of f)" "$f2" "f after gc"
rm d/keep
expect_exit 0 lmdata checkout d
expect_eq "$(sha_of d/keep)" "$keep" "d/keep after gc"
rm d/change
expect_exit 0 lmdata checkout d
expect_eq "$(sha_of d/change)" "$change2" "d/change after gc"
rm u
expect_exit 0 lmdata checkout u
expect_eq "$(cat u)" uncommitted "uncommitted u after gc"
expect_exit 0 lmdata status --check f d

# Old versions are gone: checking out v1's manifest fails cleanly.
git checkout -q HEAD~2 -- f.lmd || fail "git checkout of v1 manifest failed"
expect_exit 3 lmdata checkout f
expect_err_contains "'f'"
expect_eq "$(sha_of f)" "$f2" "f after failed checkout of a collected version"
expect_no_tmp_files

# Temp files killed commands left in .lmdata/state: gc removes those older
# than an hour (their writers take no lock), keeps younger ones.
mkdir -p .lmdata/state/remote-x/idx
for f in .lmdata/state/.log-cache.lmdtmp.1.0 .lmdata/state/remote-x/idx/.a.idx.lmdtmp.2.0; do
	echo torn >"$f" && touch -d '2 hours ago' "$f"
done
echo live >.lmdata/state/.stat-x.lmdtmp.3.0
git checkout -q HEAD -- f.lmd || fail "git checkout of the manifest failed"
expect_exit 0 lmdata gc --workspace -n
expect_file .lmdata/state/.log-cache.lmdtmp.1.0
expect_exit 0 lmdata gc --workspace
[ ! -e .lmdata/state/.log-cache.lmdtmp.1.0 ] || fail "old temp file kept in .lmdata/state"
[ ! -e .lmdata/state/remote-x/idx/.a.idx.lmdtmp.2.0 ] || fail "old temp file kept in a remote's index cache"
expect_file .lmdata/state/.stat-x.lmdtmp.3.0
rm -rf .lmdata/state/.stat-x.lmdtmp.3.0 .lmdata/state/remote-x
exit 0
