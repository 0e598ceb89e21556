#!/usr/bin/env bash
# libcurl is loaded on demand (dlopen), not linked: local commands neither
# need nor load it; a remote command that cannot load it fails with exit 3
# and a message that names libcurl.so.4 and the package to install.
# LMDATA_LIBCURL points lmdata at a library that is not there, or is not
# libcurl, which stands in for a machine without libcurl4.
. "$(dirname "$0")/remote-lib.sh"

new_lmdata_repo repo
mkdir -p data
gen_file data/a.bin 200000 seed-a
expect_exit 0 lmdata add data
git commit -qm "data v1" || fail "git commit failed"
# A port nothing listens on: requests fail fast, after libcurl is loaded.
expect_exit 0 lmdata remote add -d origin s3://bucket/prefix
expect_exit 0 lmdata remote modify origin endpoint http://127.0.0.1:9
expect_exit 0 lmdata remote modify origin max_tries 1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
export AWS_ACCESS_KEY_ID=AKIDE2ETEST AWS_SECRET_ACCESS_KEY=e2e-secret AWS_DEFAULT_REGION=us-east-1

# lmdata_with VAR=VALUE ARGS...: lmdata with VAR set for it alone.
lmdata_with() { timeout -k 5 "$E2E_CMD_TIMEOUT" env "$1" "$LMDATA" "${@:2}"; }

# glibc's loader reports each library it opens (LD_DEBUG=files): a local
# command opens no libcurl, a remote one does (which shows the check sees it).
expect_exit 0 lmdata_with LD_DEBUG=files status
contains "$ERR" "file=libcurl" && fail "'lmdata status' loaded libcurl:
$(printf '%s\n' "$ERR" | grep libcurl)"
if contains "$ERR" "file=libgit2"; then
	expect_exit 3 lmdata_with LD_DEBUG=files push
	expect_err_contains "file=libcurl.so.4"
else
	note "LD_DEBUG not supported here: the load check above proves nothing"
fi

# Without a loadable libcurl, local commands work...
export LMDATA_LIBCURL=$TMP_ROOT/nowhere/libcurl.so.4
expect_exit 0 lmdata --version
expect_exit 0 lmdata status --check
expect_exit 0 lmdata ls
expect_exit 0 lmdata log
expect_exit 0 lmdata fsck
expect_exit 0 lmdata remote list
expect_out_contains "origin (default)	s3://bucket/prefix"
rm -rf data
expect_exit 0 lmdata checkout
expect_exit 0 lmdata status --check

# ... and remote ones fail cleanly, saying what to install.
for cmd in push "status --remote" "fsck --remote" "gc --remote --workspace"; do
	# shellcheck disable=SC2086
	expect_exit 3 lmdata $cmd
	expect_err_contains "cannot load libcurl (LMDATA_LIBCURL): $LMDATA_LIBCURL: cannot open shared object file"
	expect_err_contains "libcurl.so.4"
	expect_err_contains "apt-get install libcurl4"
	contains "$ERR" e2e-secret && fail "a secret was printed: $ERR"
done
rm -f .lmdata/cache/packs/*
expect_exit 3 lmdata fetch
expect_err_contains "libcurl.so.4"
expect_exit 3 lmdata pull
expect_err_contains "apt-get install libcurl4"

# A library that is not libcurl: named, with the function it lacks.
expect_exit 3 lmdata_with LMDATA_LIBCURL=libc.so.6 push
expect_err_contains "'libc.so.6' has no curl_global_init"
expect_err_contains "apt-get install libcurl4"

# The override also takes the real library's name.
expect_exit 3 lmdata_with LMDATA_LIBCURL=libcurl.so.4 push
contains "$ERR" "cannot load libcurl" && fail "libcurl.so.4 did not load: $ERR"
expect_err_contains "cannot list bucket"
exit 0
