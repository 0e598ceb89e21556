#!/usr/bin/env bash
# Disk full while adding: exit 3 with "no space left", no manifest, the
# store stays consistent.  Needs root and tmpfs; otherwise skipped.
. "$(dirname "$0")/lib.sh"

MNT=$TMP_ROOT/mnt
mkdir -p "$MNT"
if ! is_root || ! mount -t tmpfs -o size=3m tmpfs "$MNT" 2>/dev/null; then
	echo "SKIP: cannot mount tmpfs"
	exit 0
fi
at_exit "umount '$MNT'"

nospace_checks() {
	local name=$1
	expect_exit 3 lmdata add "$name"
	printf '%s\n' "$ERR" | grep -qi "no space left" || fail "add of $name: no 'no space left' in:
$ERR"
	expect_no_file "$name.lmd"
	[ -f .gitignore ] && grep -q "$name" .gitignore && fail ".gitignore mentions $name"
	contains "$(git diff --cached --name-only)" "$name.lmd" && fail "$name.lmd staged"
	expect_exit 0 lmdata status --check
	expect_exit 0 lmdata fsck
	expect_no_tmp_files
}

# A) The whole repository on a 3 MB tmpfs.  A 10 MB file does not fit on
# it at all, so the data is 2 MB of random bytes: the file fits, its
# compressed copy in the store does not.
new_repo mnt/repo
expect_exit 0 lmdata init
printf 'tiny\n' >tiny
expect_exit 0 lmdata add tiny
git commit -qm tiny || fail "git commit failed"
head -c 2M /dev/urandom >big || fail "cannot write 2 MB to the tmpfs"
nospace_checks big
rm tiny
expect_exit 0 lmdata checkout tiny
expect_eq "$(cat tiny)" tiny "tiny after a failed add"
cd "$TMP_ROOT"
umount "$MNT" || fail "umount failed"

# B) The repository on the normal disk, its object store on the 3 MB
# tmpfs: a 10 MB random file.
new_lmdata_repo repoB
mount -t tmpfs -o size=3m tmpfs .lmdata/cache || fail "cannot mount tmpfs on .lmdata/cache"
at_exit "umount '$REPO/.lmdata/cache'"
mkdir -p .lmdata/cache/packs
head -c 10M /dev/urandom >big10
nospace_checks big10

# With room again the same add works.
cd "$TMP_ROOT"
umount "$REPO/.lmdata/cache" || fail "umount failed"
cd "$REPO"
mkdir -p .lmdata/cache/packs
expect_exit 0 lmdata add big10
expect_eq "$(manifest_field big10.lmd sha256)" "$(sha_of big10)" "big10 manifest"
expect_exit 0 lmdata fsck
exit 0
