#!/usr/bin/env bash
# Two adds at once, and gc while an add runs: both succeed (or wait for
# each other) and the store stays complete.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
gen_file a $((60 * 1024 * 1024)) seed-a
gen_file b $((60 * 1024 * 1024)) seed-b
sa=$(sha_of a)
sb=$(sha_of b)

timeout 60 "$LMDATA" add a >"$TMP_ROOT/a.out" 2>&1 &
pa=$!
timeout 60 "$LMDATA" add b >"$TMP_ROOT/b.out" 2>&1 &
pb=$!
wait $pa || fail "concurrent add a failed: $(cat "$TMP_ROOT/a.out")"
wait $pb || fail "concurrent add b failed: $(cat "$TMP_ROOT/b.out")"
expect_eq "$(manifest_field a.lmd sha256)" "$sa" "a.lmd"
expect_eq "$(manifest_field b.lmd sha256)" "$sb" "b.lmd"
grep -qx /a .gitignore || fail ".gitignore lacks /a: $(cat .gitignore)"
grep -qx /b .gitignore || fail ".gitignore lacks /b: $(cat .gitignore)"
staged=$(git diff --cached --name-only | sort | tr '\n' ' ')
expect_eq "$staged" ".gitignore .lmdata/.gitignore .lmdata/config a.lmd b.lmd " "staged after concurrent adds"
expect_exit 0 lmdata fsck
git commit -qm ab || fail "git commit failed"

# gc started while an add of new data is running must not delete what
# that add stores.
for i in 1 2 3; do
	gen_file c $((60 * 1024 * 1024)) "seed-c$i"
	sc=$(sha_of c)
	timeout 60 "$LMDATA" add c >"$TMP_ROOT/c.out" 2>&1 &
	pc=$!
	sleep "0.$((i * 1))"
	expect_exit 0 lmdata gc --workspace
	wait $pc || fail "add c during gc failed: $(cat "$TMP_ROOT/c.out")"
	expect_eq "$(manifest_field c.lmd sha256)" "$sc" "c.lmd round $i"
	expect_exit 0 lmdata fsck
	rm c
	expect_exit 0 lmdata checkout c
	expect_eq "$(sha_of c)" "$sc" "c round $i"
done
rm a
expect_exit 0 lmdata checkout a
expect_eq "$(sha_of a)" "$sa" "a after the gc rounds"
expect_no_tmp_files
exit 0
