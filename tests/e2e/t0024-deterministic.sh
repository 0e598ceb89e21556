#!/usr/bin/env bash
# Manifests depend only on the data: the same folder gives byte-identical
# manifests whatever -j is and in a different repository.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
mkdir d
python3 - <<'PY' || fail "cannot generate data"
import random
r = random.Random(3)
for i in range(40):
    open("d/f%02d" % i, "wb").write(r.randbytes(r.randint(0, 300000)))
open("d/zeros", "wb").write(bytes(1 << 20))
PY
expect_exit 0 lmdata add -j 1 d
cp d.lmd "$TMP_ROOT/d.lmd.j1"
for j in 2 8 64 256; do
	expect_exit 0 lmdata rm d
	expect_exit 0 lmdata add -j "$j" d
	cmp -s d.lmd "$TMP_ROOT/d.lmd.j1" || fail "manifest with -j $j differs from -j 1:
$(diff "$TMP_ROOT/d.lmd.j1" d.lmd)"
done
expect_exit 0 lmdata rm d
expect_exit 0 lmdata add --jobs 3 d
cmp -s d.lmd "$TMP_ROOT/d.lmd.j1" || fail "manifest with --jobs 3 differs"

# Bad -j values.
for j in 0 -1 257 abc ''; do
	expect_exit 2 lmdata add -j "$j" d
done

# checkout restores the same bytes whatever -j is: the writer and the
# hasher decompress beside jobs - 2 workers, or alone with -j 1 and 2.
cp -a d "$TMP_ROOT/d-orig"
for j in 1 2 3 8; do
	rm -rf d
	expect_exit 0 lmdata -j "$j" checkout d
	diff -r "$TMP_ROOT/d-orig" d >/dev/null || fail "checkout with -j $j restored other bytes"
done

# Another repository, same data.
cp -a d "$TMP_ROOT/d-copy"
new_lmdata_repo other
cp -a "$TMP_ROOT/d-copy" d
expect_exit 0 lmdata add d
cmp -s d.lmd "$TMP_ROOT/d.lmd.j1" || fail "manifest differs between repositories:
$(diff "$TMP_ROOT/d.lmd.j1" d.lmd)"
expect_exit 0 lmdata ls --json
ls_other=$OUT
cd "$TMP_ROOT/repo"
expect_exit 0 lmdata ls --json
expect_eq "$OUT" "$ls_other" "ls --json in the two repositories"
exit 0
