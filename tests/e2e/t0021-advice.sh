#!/usr/bin/env bash
# Every "lmdata WORD" an error message tells the user to run must be a
# command this lmdata has.
. "$(dirname "$0")/lib.sh"

commands=" $(lmdata --help | sed -n 's/^  \([a-z]\+\)  .*/\1/p' | tr '\n' ' ') "
check_advice() {
	local w
	for w in $(printf '%s\n' "$OUT$ERR" | grep -o "lmdata [a-z]\+" | sed 's/^lmdata //' | sort -u); do
		case $commands in
		*" $w "*) ;;
		*) fail "$1: message suggests 'lmdata $w', which is not a command (commands:$commands):
$OUT
$ERR" ;;
		esac
	done
}

new_lmdata_repo repo
gen_file f 200000 seed-f1
expect_exit 0 lmdata add f
git commit -qm v1 || fail "git commit failed"
gen_file f 200000 seed-f2
expect_exit 0 lmdata add f
git commit -qm v2 || fail "git commit failed"
expect_exit 0 lmdata gc --workspace

# An object collected by gc: checkout and fsck.
git checkout -q HEAD~1 -- f.lmd
rm f
expect_exit 3 lmdata checkout
check_advice "checkout of a missing object"
expect_exit 1 lmdata fsck
check_advice "fsck with a missing object"
git checkout -q HEAD -- f.lmd
expect_exit 0 lmdata checkout

# A damaged pack.
pack=$(ls .lmdata/cache/packs/*.pack | head -n1)
python3 - "$pack" <<'PY'
import os, sys
p = sys.argv[1]
os.chmod(p, 0o644)
with open(p, "r+b") as f:
    n = os.path.getsize(p)
    f.seek(n // 2)
    b = f.read(1)
    f.seek(n // 2)
    f.write(bytes([b[0] ^ 0x5a]))
PY
expect_exit 1 lmdata fsck
check_advice "fsck of a damaged pack"
rm f
expect_exit 3 lmdata checkout
check_advice "checkout from a damaged pack"
exit 0
