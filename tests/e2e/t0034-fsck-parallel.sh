#!/usr/bin/env bash
# fsck verifies packs in parallel: with damage in several packs of a
# many-pack store, `fsck -j 4` reports exactly what `fsck -j 1` (one pack
# at a time) reports, in the same order, text and JSON, and --repair then
# drops the same objects.
. "$(dirname "$0")/lib.sh"

[ -n "${LMDATA_HOOKS:-}" ] && [ -x "$LMDATA_HOOKS" ] ||
	fail "set LMDATA_HOOKS to the lmdata-test-hooks binary (meson test does)"
case $LMDATA_HOOKS in /*) ;; *) LMDATA_HOOKS=$PWD/$LMDATA_HOOKS ;; esac

new_lmdata_repo repo
for f in 1 2 3 4; do gen_file "f$f.bin" 700000 "seed-$f"; done
# Small packs: every block (about 1 MiB of data) seals a pack.
LMDATA_TEST_PACK_TARGET=65536 timeout -k 5 "$E2E_CMD_TIMEOUT" "$LMDATA_HOOKS" -q add f1.bin f2.bin f3.bin f4.bin ||
	fail "add with small packs failed"
git commit -qm data || fail "git commit failed"
npacks=$(ls .lmdata/cache/packs/*.pack | wc -l)
[ "$npacks" -ge 4 ] || fail "expected at least 4 packs, got $npacks"
expect_exit 0 lmdata -j 4 fsck

# One byte flipped in the middle of the three biggest packs.
python3 - .lmdata/cache/packs <<'PY' || fail "cannot damage the packs"
import glob, os, sys
packs = sorted(glob.glob(sys.argv[1] + "/*.pack"), key=os.path.getsize, reverse=True)
for p in packs[:3]:
    os.chmod(p, 0o644)
    n = os.path.getsize(p)
    with open(p, "r+b") as f:
        f.seek(n // 2)
        b = f.read(1)
        f.seek(n // 2)
        f.write(bytes([b[0] ^ 0x5a]))
PY

expect_exit 1 lmdata -j 1 fsck
one=$OUT
expect_exit 1 lmdata -j 4 fsck
expect_eq "$OUT" "$one" "fsck -j 4 output against -j 1"
named=$(printf '%s\n' "$one" | sed -n 's/.* in pack \([0-9a-f]\{64\}\).*/\1/p; s/.*damaged: pack \([0-9a-f]\{64\}\).*/\1/p' | sort -u | wc -l)
expect_eq "$named" 3 "packs named by fsck"
expect_exit 1 lmdata -j 1 fsck --json
one=$OUT
expect_exit 1 lmdata -j 4 fsck --json
expect_json
expect_eq "$OUT" "$one" "fsck -j 4 --json against -j 1"

cp -a "$REPO" "$TMP_ROOT/copy"
expect_exit 1 lmdata -j 4 fsck --repair
four=$OUT
rc=0
(cd "$TMP_ROOT/copy" && lmdata -j 1 fsck --repair) >"$TMP_ROOT/one.out" 2>/dev/null || rc=$?
expect_eq "$rc" 1 "exit of fsck -j 1 --repair"
expect_eq "$four" "$(cat "$TMP_ROOT/one.out")" "fsck --repair -j 4 against -j 1"
