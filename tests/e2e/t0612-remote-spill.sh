#!/usr/bin/env bash
# What push, status -c, fsck --remote and gc --remote need, spilled to disk
# (sync_need.c over idspill.h): with LMDATA_TEST_GC_IDS=8 the hooks binary
# keeps 8 object records in memory and merges hundreds of sorted runs; each
# command must send, count, report and keep exactly what the in-memory run
# of the real binary does, over a history whose versions share most chunks,
# and leave no temp file behind.  Also: a full disk under .lmdata/state
# (push fails with the reason; remote indexes are then kept in memory).
. "$(dirname "$0")/history-lib.sh"

[ -n "${LMDATA_HOOKS:-}" ] && [ -x "$LMDATA_HOOKS" ] ||
	fail "set LMDATA_HOOKS to the lmdata-test-hooks binary (meson test does)"
case $LMDATA_HOOKS in /*) ;; *) LMDATA_HOOKS=$PWD/$LMDATA_HOOKS ;; esac
spilling() { LMDATA_TEST_GC_IDS=8 timeout -k 5 "$E2E_CMD_TIMEOUT" "$LMDATA_HOOKS" "$@"; }

# The JSON of the last command, without what legitimately differs (the
# remote's name, request counts that depend on timing).
norm() {
	python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in sorted(x.items()) if k not in ("remote", "requests", "seconds")}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x
print(json.dumps(strip(d), sort_keys=True))'
}
files_of() { (cd "$1" && find . -type f | LC_ALL=C sort); }

new_lmdata_repo repo
commit_all init
for v in 1 2 3 4; do
	gen_file big.bin $((1500000 + v * 1000)) "big-$v"        # ~90 chunks, shared in part
	mkdir -p d
	for f in 1 2 3 4 5 6; do gen_file "d/f$f.bin" $((20000 + f)) "f$f-$((v % 2))"; done
	gen_file "d/copy.bin" 20001 "f1-$((v % 2))"              # the same bytes as d/f1.bin
	gen_file "d/own.bin" 60000 "own-$v"
	expect_exit 0 lmdata add big.bin d
	commit_all "v$v"
done
git tag v2 HEAD~2

cp -a "$REPO" "$TMP_ROOT/b"
expect_exit 0 lmdata remote add -d origin "$TMP_ROOT/remote-a"
(cd "$TMP_ROOT/b" && lmdata remote add -d origin "$TMP_ROOT/remote-b" >/dev/null) || fail "remote add in b"

# Before any push: status -c and fsck --remote count and name the same.
expect_exit 0 lmdata status -c --json
a=$(printf '%s' "$OUT" | norm)
(cd "$TMP_ROOT/b" && spilling status -c --json) >"$TMP_ROOT/out" || fail "spilled status -c failed"
expect_eq "$(norm <"$TMP_ROOT/out")" "$a" "status -c before push, spilled vs in memory"
expect_exit 1 lmdata fsck --remote --json
a=$(printf '%s' "$OUT" | norm)
(cd "$TMP_ROOT/b" && spilling fsck --remote --json) >"$TMP_ROOT/out" && fail "spilled fsck --remote was clean"
expect_eq "$(norm <"$TMP_ROOT/out")" "$a" "fsck --remote before push, spilled vs in memory"

# Push every version: the same summary, the same files on the remote.
expect_exit 0 lmdata push --all-commits --json
a=$(printf '%s' "$OUT" | norm)
printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["objects"] > 300 and j["objects_transferred"] == j["objects"], j' || fail "push summary: $OUT"
(cd "$TMP_ROOT/b" && spilling push --all-commits --json) >"$TMP_ROOT/out" || fail "spilled push failed"
expect_eq "$(norm <"$TMP_ROOT/out")" "$a" "push --all-commits, spilled vs in memory"
expect_eq "$(files_of "$TMP_ROOT/remote-b")" "$(files_of "$TMP_ROOT/remote-a")" "remote files"

# Now in sync, for every version.
(cd "$TMP_ROOT/b" && spilling status -c --check >/dev/null) || fail "spilled status -c after push"
(cd "$TMP_ROOT/b" && spilling fsck --remote >/dev/null) || fail "spilled fsck --remote after push"
(cd "$TMP_ROOT/b" && spilling push --all-commits --json) >"$TMP_ROOT/out" || fail "spilled no-op push"
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["objects_transferred"] == 0 and j["bytes"] == 0 and j["already"] == j["objects"], j' "$TMP_ROOT/out" ||
	fail "spilled no-op push sent something: $(cat "$TMP_ROOT/out")"

# gc --remote keeping only the tag and the work tree: the same packs go
# (the first run only notes when it saw each pack).
expect_exit 0 lmdata gc --remote --all-tags --grace 0 --dry-run
(cd "$TMP_ROOT/b" && spilling gc --remote --all-tags --grace 0 --dry-run >/dev/null) || fail "spilled gc --remote failed"
expect_exit 0 lmdata gc --remote --all-tags --grace 0 --dry-run --json
a=$(printf '%s' "$OUT" | norm)
(cd "$TMP_ROOT/b" && spilling gc --remote --all-tags --grace 0 --dry-run --json) >"$TMP_ROOT/out" ||
	fail "spilled gc --remote failed"
expect_eq "$(norm <"$TMP_ROOT/out")" "$a" "gc --remote --dry-run, spilled vs in memory"
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["packs_removed"] > 0 and j["packs_removed"] < j["packs"], j' "$TMP_ROOT/out" ||
	fail "gc --remote should drop some packs and keep others: $(cat "$TMP_ROOT/out")"

# A pack gone from the remote: the same objects are reported missing.
victim=$(cd "$TMP_ROOT/remote-a/packs" && ls -S *.pack | head -n1)
rm -f "$TMP_ROOT/remote-a/packs/$victim" "$TMP_ROOT/remote-a/packs/${victim%.pack}.idx"
rm -f "$TMP_ROOT/remote-b/packs/$victim" "$TMP_ROOT/remote-b/packs/${victim%.pack}.idx"
expect_exit 1 lmdata fsck --remote --json
a=$(printf '%s' "$OUT" | norm)
(cd "$TMP_ROOT/b" && spilling fsck --remote --json) >"$TMP_ROOT/out" &&
	fail "spilled fsck --remote missed the lost pack"
expect_eq "$(norm <"$TMP_ROOT/out")" "$a" "fsck --remote after a pack was lost, spilled vs in memory"

left=$(find "$TMP_ROOT/b/.lmdata" -name '.lmd-ids-*' | wc -l)
expect_eq "$left" 0 "temp files left by the spilled commands"

# A full disk under .lmdata/state while the needs spill: push fails with
# the reason (not "run fetch first") and sends nothing.  Needs root and
# tmpfs; otherwise this part is skipped.
if is_root && mkdir -p "$TMP_ROOT/mnt" && mount -t tmpfs -o size=4m tmpfs "$TMP_ROOT/mnt" 2>/dev/null; then
	at_exit "umount '$TMP_ROOT/mnt'"
	cd "$TMP_ROOT/b"
	cp -a .lmdata/state "$TMP_ROOT/mnt/state" || fail "cannot copy the state folder"
	rm -rf .lmdata/state
	ln -s "$TMP_ROOT/mnt/state" .lmdata/state
	dd if=/dev/zero of="$TMP_ROOT/mnt/fill" bs=4k status=none 2>/dev/null || true
	before=$(files_of "$TMP_ROOT/remote-b")
	rc=0
	spilling push --all-commits >"$TMP_ROOT/out" 2>"$TMP_ROOT/err" || rc=$?
	[ "$rc" -ge 3 ] || fail "push with a full state folder exited $rc: $(cat "$TMP_ROOT/err")"
	grep -qi "no space left" "$TMP_ROOT/err" || fail "push does not say why: $(cat "$TMP_ROOT/err")"
	note "push with a full state folder: $(tr "\n" " " <"$TMP_ROOT/err")"
	grep -q "fetch" "$TMP_ROOT/err" && fail "push blames the local store: $(cat "$TMP_ROOT/err")"
	expect_eq "$(files_of "$TMP_ROOT/remote-b")" "$before" "remote files after a push that failed"
	# Remote indexes that cannot go to the full cache are kept in memory
	# for the command (the real binary: its needs stay in memory).
	rm -rf .lmdata/state/remote-origin/idx
	mkdir .lmdata/state/remote-origin/idx 2>/dev/null || true
	dd if=/dev/zero of="$TMP_ROOT/mnt/fill2" bs=1k status=none 2>/dev/null || true
	(lmdata status -c >"$TMP_ROOT/out" 2>"$TMP_ROOT/err") && grep -q "big.bin" "$TMP_ROOT/out" ||
		fail "status -c with a full index cache: $(cat "$TMP_ROOT/err")"
	[ -z "$(ls -A .lmdata/state/remote-origin/idx 2>/dev/null | grep -v '^\.' || true)" ] ||
		note "some indexes were cached on the full disk: $(ls .lmdata/state/remote-origin/idx)"
	rm -f "$TMP_ROOT/mnt/fill" "$TMP_ROOT/mnt/fill2"
	(spilling push --all-commits >/dev/null) || fail "push once there is space again"
else
	note "SKIP (full disk part): cannot mount tmpfs"
fi
