#!/usr/bin/env bash
# gc's live chunks spilled to disk (idspill.h): with LMDATA_TEST_GC_IDS=64
# the hooks binary keeps 64 chunk ids in memory and merges hundreds of
# sorted runs; it must keep exactly the objects the in-memory gc of the
# real binary keeps, for each scope, and leave no temp file behind.
. "$(dirname "$0")/history-lib.sh"

[ -n "${LMDATA_HOOKS:-}" ] && [ -x "$LMDATA_HOOKS" ] ||
	fail "set LMDATA_HOOKS to the lmdata-test-hooks binary (meson test does)"
case $LMDATA_HOOKS in /*) ;; *) LMDATA_HOOKS=$PWD/$LMDATA_HOOKS ;; esac
spilling() { LMDATA_TEST_GC_IDS=64 timeout -k 5 "$E2E_CMD_TIMEOUT" "$LMDATA_HOOKS" "$@"; }
export LMDATA_GC_GRACE_SECONDS=0

object_ids() { store_object_ids "$1"; }

new_lmdata_repo repo
commit_all init
for v in 1 2 3 4; do
	gen_file big.bin $((1500000 + v * 1000)) "big-$v"        # ~90 chunks
	mkdir -p d
	for f in 1 2 3 4 5 6; do gen_file "d/f$f.bin" $((20000 + f)) "f$f-$((v % 2))"; done
	gen_file "d/own.bin" 60000 "own-$v"
	expect_exit 0 lmdata add big.bin d
	expect_exit 0 lmdata commit -m "v$v"
	eval "big_$v=$(sha_of big.bin)"
done
git tag v2 HEAD~2
total=$(object_ids "$REPO" | wc -l)
note "store: $total objects"
[ "$total" -gt 300 ] || fail "expected more than 300 objects, got $total"

for scope in "--all-commits" "--all-tags" "--workspace"; do
	rm -rf "$TMP_ROOT/a" "$TMP_ROOT/b"
	cp -a "$REPO" "$TMP_ROOT/a"
	cp -a "$REPO" "$TMP_ROOT/b"
	(cd "$TMP_ROOT/a" && lmdata gc $scope --json >"$TMP_ROOT/a.json") || fail "gc $scope (in memory) failed"
	(cd "$TMP_ROOT/b" && spilling gc $scope --json >"$TMP_ROOT/b.json") || fail "gc $scope (spilled) failed"
	expect_eq "$(object_ids "$TMP_ROOT/b")" "$(object_ids "$TMP_ROOT/a")" "objects kept by gc $scope, spilled vs in memory"
	python3 - "$TMP_ROOT/a.json" "$TMP_ROOT/b.json" <<'PY' || fail "gc $scope reports differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for k in ("objects_kept", "objects_removed"):
    assert a[k] == b[k], (k, a, b)
PY
	left=$(find "$TMP_ROOT/b/.lmdata" -name '.lmd-ids-*' | wc -l)
	expect_eq "$left" 0 "temp files left by the spilled gc $scope"
	(cd "$TMP_ROOT/b" && lmdata fsck >/dev/null) || fail "fsck after the spilled gc $scope"
done

# The last copy had gc --workspace: HEAD's data is all there, v1's big.bin is not.
cd "$TMP_ROOT/b"
rm big.bin
expect_exit 0 lmdata checkout
expect_eq "$(sha_of big.bin)" "$big_4" "big.bin after the spilled gc --workspace"
expect_exit 3 lmdata checkout HEAD~3
expect_eq "$(sha_of big.bin)" "$big_4" "a refused checkout wrote data"
