#!/usr/bin/env bash
# add a folder with awkward contents; rm -rf + checkout restores it exactly.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo

mkdir -p d/sub/deep d/emptydir
printf 'alpha\n' >d/a
gen_file d/sub/deep/b.bin 200000 seed-b
: >d/empty
printf 'space\n' >"d/with space"
printf 'newline\n' >d/$'new\nline'
printf 'accent\n' >d/café
printf 'not utf8\n' >d/$'\xff'bad
printf '#!/bin/sh\n' >d/run.sh
chmod 755 d/run.sh
ln -s sub/deep/b.bin d/link
ln -s ../../nowhere/at/all d/dangling

# Snapshot of the tree: type, mode, sha256 or link target, per path.
snapshot() {
	(cd "$1" && find . -print0 | LC_ALL=C sort -z | while IFS= read -r -d '' p; do
		if [ -L "$p" ]; then
			printf 'L %q -> %q\n' "$p" "$(readlink "$p")"
		elif [ -d "$p" ]; then
			printf 'D %q\n' "$p"
		else
			printf 'F %q %s %s\n' "$p" "$(stat -c %a "$p")" "$(sha_of "$p")"
		fi
	done)
}
snapshot d >"$TMP_ROOT/before"
[ "$(wc -l <"$TMP_ROOT/before")" -ge 14 ] || fail "snapshot too short"

expect_exit 0 lmdata add d
expect_out_contains "added d (10 files"
expect_file d.lmd
expect_eq "$(manifest_field d.lmd type)" dir "manifest type"
expect_eq "$(manifest_field d.lmd path)" d "manifest path"
expect_eq "$(manifest_field d.lmd files)" 10 "manifest files"
grep -qx '/d' .gitignore || fail ".gitignore lacks /d"
staged=$(git diff --cached --name-only | sort | tr '\n' ' ')
expect_eq "$staged" ".gitignore .lmdata/.gitignore .lmdata/config d.lmd " "staged files"

# add does not touch the data.
snapshot d >"$TMP_ROOT/after-add"
cmp -s "$TMP_ROOT/before" "$TMP_ROOT/after-add" || fail "add changed the folder:
$(diff "$TMP_ROOT/before" "$TMP_ROOT/after-add")"

# ls lists every file, with link entries as mode 120000.
expect_exit 0 lmdata ls d
lines=$(printf '%s\n' "$OUT" | grep -c .)
expect_eq "$lines" 10 "lines in 'lmdata ls d'"
printf '%s\n' "$OUT" | grep -q '^120000 .* d/link$' || fail "ls does not show d/link as a link:
$OUT"
printf '%s\n' "$OUT" | grep -q '^100755 .* d/run.sh$' || fail "ls does not show d/run.sh as 100755:
$OUT"
printf '%s\n' "$OUT" | grep -q "$(sha_of d/sub/deep/b.bin)  d/sub/deep/b.bin\$" ||
	fail "ls sha256 of d/sub/deep/b.bin wrong:
$OUT"

git commit -qm 'add d' || fail "git commit failed"
expect_exit 0 lmdata status --check

# Remove everything and get it back.
rm -rf d
expect_exit 0 lmdata checkout
expect_out_contains "10 files restored"
snapshot d >"$TMP_ROOT/restored"
cmp -s "$TMP_ROOT/before" "$TMP_ROOT/restored" || fail "restored tree differs:
$(diff "$TMP_ROOT/before" "$TMP_ROOT/restored")"
[ -L d/link ] || fail "d/link is not a symlink after checkout"
expect_eq "$(readlink d/link)" sub/deep/b.bin "d/link target"
[ -L d/dangling ] || fail "d/dangling is not a symlink after checkout"
expect_eq "$(readlink d/dangling)" ../../nowhere/at/all "d/dangling target"
[ -d d/emptydir ] || fail "empty subfolder not restored"
expect_eq "$(cat d/$'new\nline')" newline "file with newline in its name"
expect_eq "$(cat d/$'\xff'bad)" "not utf8" "file with a non-UTF-8 name"
expect_eq "$(cat d/café)" accent "file with a non-ASCII name"
expect_exit 0 lmdata status --check
expect_out_empty

# Checkout of the folder alone, with one file and one link missing.
rm d/link "d/with space"
expect_exit 0 lmdata checkout d
snapshot d >"$TMP_ROOT/restored2"
cmp -s "$TMP_ROOT/before" "$TMP_ROOT/restored2" || fail "second restore differs:
$(diff "$TMP_ROOT/before" "$TMP_ROOT/restored2")"
expect_no_tmp_files "$REPO"
exit 0
