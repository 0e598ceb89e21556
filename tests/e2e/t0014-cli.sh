#!/usr/bin/env bash
# Command line: -C DIR, --version, help, usage errors, -q.
. "$(dirname "$0")/lib.sh"

# --version
expect_exit 0 lmdata --version
printf '%s\n' "$OUT" | grep -Eqx 'lmdata [0-9]+\.[0-9]+\.[0-9]+.*' || fail "--version prints '$OUT'"

# Usage errors: exit 2.
expect_exit 2 lmdata frobnicate
expect_err_contains "frobnicate"
expect_exit 2 lmdata
expect_exit 2 lmdata --no-such-global-option status
expect_exit 2 lmdata -C
expect_exit 2 lmdata help no-such-command

# Every command has --help (exit 0, a usage line naming it), also via 'help'.
for c in init add status checkout ls rm fsck gc; do
	expect_exit 0 lmdata "$c" --help
	expect_out_contains "usage: lmdata $c"
	expect_exit 0 lmdata help "$c"
	expect_out_contains "usage: lmdata $c"
	expect_exit 2 lmdata "$c" --no-such-option
done
expect_exit 0 lmdata --help
for c in init add status checkout ls rm fsck gc; do
	printf '%s\n' "$OUT" | grep -Eq "^  $c " || fail "--help does not list '$c'"
done

# -C DIR: run as if started in DIR.
new_repo repo
cd "$TMP_ROOT"
expect_exit 0 lmdata -C repo init
expect_file repo/.lmdata/config
printf 'hello\n' >repo/x
expect_exit 0 lmdata -C repo add x
expect_file repo/x.lmd
expect_no_file x.lmd
expect_eq "$(manifest_field repo/x.lmd sha256)" "$(sha_of repo/x)" "-C add"
(cd repo && git commit -qm x) || fail "git commit failed"
expect_exit 0 lmdata -C "$TMP_ROOT/repo" status --check
printf 'changed\n' >repo/x
expect_exit 1 lmdata -C repo status --check
expect_out_contains "x"
expect_exit 1 lmdata -C repo checkout
expect_exit 0 lmdata -C repo checkout --force x
expect_eq "$(cat repo/x)" hello "-C checkout"
expect_exit 0 lmdata -C repo ls
expect_out_contains "$(sha_of repo/x)  x"
expect_exit 0 lmdata -C repo fsck

# -C into a subfolder: paths are relative to it.
mkdir -p repo/sub
printf 'nested\n' >repo/sub/f
expect_exit 0 lmdata -C repo/sub add f
expect_file repo/sub/f.lmd
expect_no_file repo/f.lmd
expect_exit 0 lmdata -C repo ls sub
expect_out_contains "sub/f"

# -C to a missing folder, or outside any lmdata repository.
expect_exit 2 lmdata -C "$TMP_ROOT/does-not-exist" status
mkdir plain
if ! (cd plain && git rev-parse --git-dir >/dev/null 2>&1); then
	expect_exit 2 lmdata -C plain status
	expect_exit 2 lmdata -C plain init
fi
# A git repository without 'lmdata init': every command says so, exit 2.
new_repo bare-git
printf 'x\n' >x
for c in "add x" status ls fsck gc checkout "rm x"; do
	# shellcheck disable=SC2086
	expect_exit 2 lmdata $c
	expect_err_contains "lmdata init"
done
expect_no_file x.lmd
expect_no_file .lmdata

# 'add' without paths.
cd "$TMP_ROOT/repo"
expect_exit 2 lmdata add
expect_exit 2 lmdata rm

# -q: nothing on stdout.
printf 'quiet\n' >q
expect_exit 0 lmdata -q add q
expect_out_empty
expect_file q.lmd

# -j/--jobs N, global: 1 to 256 threads; add and checkout give the same
# bytes with one thread as with the default.
head -c 3000000 /dev/urandom >j.bin
expect_exit 0 lmdata -j 1 add j.bin
want=$(sha_of j.bin)
rm j.bin
expect_exit 0 lmdata --jobs 1 checkout j.bin
expect_eq "$(sha_of j.bin)" "$want" "checkout with one thread"
rm j.bin
expect_exit 0 lmdata --jobs=3 checkout j.bin
expect_eq "$(sha_of j.bin)" "$want" "checkout with three threads"
for bad in 0 257 x ''; do
	expect_exit 2 lmdata -j "$bad" status
	expect_err_contains "-j wants a number"
done
expect_exit 0 lmdata --help
expect_out_contains "--jobs N"
exit 0
