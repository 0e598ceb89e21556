#!/usr/bin/env bash
# checkout restoring several files at once, one of them spanning several
# chunks, must finish (regression: it deadlocked in the restore hasher).
. "$(dirname "$0")/lib.sh"
E2E_CMD_TIMEOUT=20

new_lmdata_repo repo

# Two single-file datasets: a multi-chunk file and a small one.
gen_file big 100000 seed-big
printf 'small\n' >small
big_sum=$(sha_of big)
expect_exit 0 lmdata add big small
git commit -qm data || fail "git commit failed"
rm big
expect_exit 0 lmdata checkout
expect_eq "$(sha_of big)" "$big_sum" "big alone"
rm small
expect_exit 0 lmdata checkout
expect_eq "$(cat small)" small "small alone"
rm big small
expect_exit 0 lmdata checkout
expect_out_contains "2 files restored"
expect_eq "$(sha_of big)" "$big_sum" "big restored with small"
expect_eq "$(cat small)" small "small restored with big"

# One folder: a multi-chunk file followed by a small one.
mkdir d
gen_file d/b.bin 100000 seed-b
printf 'zzz\n' >d/c
b_sum=$(sha_of d/b.bin)
expect_exit 0 lmdata add d
git commit -qm d || fail "git commit failed"
rm -rf d
expect_exit 0 lmdata checkout d
expect_out_contains "2 files restored"
expect_eq "$(sha_of d/b.bin)" "$b_sum" "d/b.bin"
expect_eq "$(cat d/c)" zzz "d/c"

# Many multi-chunk files and small files interleaved.
mkdir many
for i in 1 2 3 4 5 6; do
	gen_file "many/big$i" $((60000 + i * 30000)) "seed-many-$i"
	printf 'small %s\n' "$i" >"many/small$i"
done
(cd many && sha256sum big* small*) >"$TMP_ROOT/many.sums"
expect_exit 0 lmdata add many
rm -rf many
expect_exit 0 lmdata checkout many
(cd many && sha256sum -c --quiet "$TMP_ROOT/many.sums") || fail "many/ restored wrongly"
expect_no_tmp_files
exit 0
