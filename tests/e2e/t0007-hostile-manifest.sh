#!/usr/bin/env bash
# Hand-edited / hostile manifests: status says "bad manifest", checkout
# exits 2 and writes nothing, inside or outside the repository.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP_ROOT/a/b" "$TMP_ROOT/victim"
new_lmdata_repo a/b/repo
printf 'payload\n' >x
mkdir d
printf 'in d\n' >d/f
expect_exit 0 lmdata add x d
git commit -qm base || fail "git commit failed"
cp x.lmd "$TMP_ROOT/x.lmd.good"
cp d.lmd "$TMP_ROOT/d.lmd.good"
printf 'victim\n' >"$TMP_ROOT/victim/keep"

passwd_sum=$(sha_of /etc/passwd)
outside_before=$(cd "$TMP_ROOT" && find . -path ./a/b/repo -prune -o -print | LC_ALL=C sort)

check_outside() {
	local now
	now=$(cd "$TMP_ROOT" && find . -path ./a/b/repo -prune -o -print | LC_ALL=C sort)
	[ "$now" = "$outside_before" ] || fail "$1: something was written outside the repository:
$(diff <(echo "$outside_before") <(echo "$now"))"
	expect_eq "$(sha_of /etc/passwd)" "$passwd_sum" "$1: /etc/passwd"
	expect_eq "$(cat "$TMP_ROOT/victim/keep")" victim "$1: victim file"
}

# hostile NAME MANIFEST GOOD-COPY EXPECTED-STATUS-MESSAGE: the manifest has
# been replaced; the data is deleted so checkout would have to write it.
hostile() {
	local name=$1 lmd=$2 good=$3 msg=$4 data=${2%.lmd}
	rm -rf "$data"
	expect_exit 0 lmdata status
	printf '%s\n' "$OUT" | grep -q "bad manifest" || fail "$name: status does not say 'bad manifest':
$OUT
$ERR"
	expect_out_contains "$msg"
	expect_exit 1 lmdata status --check
	expect_output_contains "bad manifest"
	expect_exit 2 lmdata checkout
	expect_err_contains "$lmd"
	expect_exit 2 lmdata checkout --force
	expect_exit 2 lmdata checkout "$data"
	expect_no_file "$data"
	check_outside "$name"
	expect_no_tmp_files
	# Restore and make sure everything is sane again.
	cp "$good" "$lmd"
	expect_exit 0 lmdata checkout
	expect_exit 0 lmdata status --check
}

# path escaping the repository (relative), absolute, or naming a folder.
sed "s#^path: .*#path: ../../escape#" "$TMP_ROOT/x.lmd.good" >x.lmd
hostile "relative ../ path" x.lmd "$TMP_ROOT/x.lmd.good" "not a plain name"
expect_no_file "$TMP_ROOT/a/escape"
expect_no_file "$TMP_ROOT/escape"

sed "s#^path: .*#path: ../../../../../../../../etc/passwd#" "$TMP_ROOT/x.lmd.good" >x.lmd
hostile "../etc/passwd path" x.lmd "$TMP_ROOT/x.lmd.good" "not a plain name"

sed "s#^path: .*#path: $TMP_ROOT/victim/abs#" "$TMP_ROOT/x.lmd.good" >x.lmd
hostile "absolute path" x.lmd "$TMP_ROOT/x.lmd.good" "not a plain name"
expect_no_file "$TMP_ROOT/victim/abs"

sed "s#^path: .*#path: ../victim#" "$TMP_ROOT/d.lmd.good" >d.lmd
hostile "folder manifest with ../ path" d.lmd "$TMP_ROOT/d.lmd.good" "not a plain name"

sed "s#^path: .*#path: sub/x#" "$TMP_ROOT/x.lmd.good" >x.lmd
hostile "path with a folder" x.lmd "$TMP_ROOT/x.lmd.good" "not a plain name"

sed "s#^version: .*#version: 99#" "$TMP_ROOT/x.lmd.good" >x.lmd
hostile "version 99" x.lmd "$TMP_ROOT/x.lmd.good" "version 99"

sed "s#^size: .*#size: 99999999999999999999999#" "$TMP_ROOT/x.lmd.good" >x.lmd
hostile "huge size" x.lmd "$TMP_ROOT/x.lmd.good" "size"

sed "s#^size: .*#size: -1#" "$TMP_ROOT/x.lmd.good" >x.lmd
hostile "negative size" x.lmd "$TMP_ROOT/x.lmd.good" "size"

{
	echo '<<<<<<< HEAD'
	cat "$TMP_ROOT/x.lmd.good"
	echo '======='
	sed 's/^sha256: .*/sha256: 0000000000000000000000000000000000000000000000000000000000000000/' \
		"$TMP_ROOT/x.lmd.good"
	echo '>>>>>>> other'
} >x.lmd
hostile "merge conflict markers" x.lmd "$TMP_ROOT/x.lmd.good" "merge conflict"

printf 'garbage\n\x00\x01\x02\n' >x.lmd
hostile "garbage" x.lmd "$TMP_ROOT/x.lmd.good" "x.lmd"

: >x.lmd
hostile "empty manifest" x.lmd "$TMP_ROOT/x.lmd.good" "x.lmd"

sed "s#^sha256: .*#sha256: nothex#" "$TMP_ROOT/x.lmd.good" >x.lmd
hostile "bad sha256" x.lmd "$TMP_ROOT/x.lmd.good" "x.lmd"

# Data replaced by a symlink pointing outside: checkout --force replaces
# the link and never writes through it.
rm x
ln -s "$TMP_ROOT/victim/keep" x
expect_exit 0 lmdata checkout --force
[ -L x ] && fail "x is still a symlink after checkout --force"
expect_eq "$(cat x)" payload "x after checkout --force"
check_outside "symlinked file"

rm -rf d
ln -s "$TMP_ROOT/victim" d
expect_exit 0 lmdata checkout --force
[ -L d ] && fail "d is still a symlink after checkout --force"
expect_eq "$(cat d/f)" "in d" "d/f after checkout --force"
check_outside "symlinked folder"
exit 0
