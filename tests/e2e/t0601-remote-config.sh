#!/usr/bin/env bash
# remote add/list/remove/rename/default/modify: config files, refusal of
# secrets in the committed file, masking, JSON, usage errors.
. "$(dirname "$0")/remote-lib.sh"

new_lmdata_repo repo

expect_exit 0 lmdata remote list
expect_out_empty

expect_exit 0 lmdata remote add origin s3://bucket/prefix
expect_exit 0 lmdata remote add backup ../backup-folder
expect_exit 0 lmdata remote list
expect_out_contains "origin (default)	s3://bucket/prefix"
expect_out_contains "backup	$TMP_ROOT/backup-folder"
grep -q '^\[remote "origin"\]' .lmdata/config || fail "no [remote \"origin\"] section in .lmdata/config"
grep -q 'remote = origin' .lmdata/config || fail "origin is not core.remote"

# Errors: duplicates, bad names, bad urls, unknown remote or key.
expect_exit 2 lmdata remote add origin /x
expect_err_contains "already exists"
expect_exit 2 lmdata remote add 'Bad Name' /x
expect_exit 2 lmdata remote add x http://example.com/x
expect_err_contains "unsupported remote url"
expect_exit 2 lmdata remote add leak s3://AKIDLEAK:wJalrSECRETleak@bucket/x
expect_err_contains "credentials do not belong"
contains "$OUT$ERR" "wJalrSECRETleak" && fail "a secret in a url was echoed: $ERR"
expect_exit 2 lmdata remote add onlyone
expect_exit 2 lmdata remote remove nosuch
expect_err_contains "no remote 'nosuch'"
expect_exit 2 lmdata remote modify origin colour blue
expect_err_contains "unknown remote setting"
expect_exit 2 lmdata remote frobnicate

# Settings; secrets only with --local, never shown.
expect_exit 0 lmdata remote modify origin endpoint http://127.0.0.1:9
expect_exit 0 lmdata remote modify origin region eu-west-1
expect_exit 2 lmdata remote modify origin secret_access_key wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY
expect_err_contains "--local"
contains "$ERR" wJalrXUtnFEMIK7MDENG && fail "the secret was printed: $ERR"
grep -q wJalrXUtnFEMIK7MDENG .lmdata/config && fail "secret written to the committed config"
expect_exit 0 lmdata remote modify --local origin secret_access_key wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY
expect_exit 0 lmdata remote modify --local origin access_key_id AKIAIOSFODNN7EXAMPLE
grep -q wJalrXUtnFEMIK7MDENG .lmdata/config.local || fail "secret not in config.local"
grep -q wJalrXUtnFEMIK7MDENG .lmdata/config && fail "secret in the committed config"
expect_eq "$(stat -c %a .lmdata/config.local)" 600 "config.local mode"
git check-ignore -q .lmdata/config.local || fail "config.local is not ignored by git"

expect_exit 0 lmdata remote list -v
expect_out_contains "region = eu-west-1"
expect_out_contains "secret_access_key = ****"
expect_out_contains "AKIA"
contains "$OUT$ERR" wJalrXUtnFEMIK7MDENG && fail "secret printed by list -v"
contains "$OUT$ERR" AKIAIOSFODNN7EXAMPLE && fail "key id printed unmasked by list -v"
expect_exit 0 lmdata remote list --json
expect_json
contains "$OUT" wJalrXUtnFEMIK7MDENG && fail "secret printed by list --json"
printf '%s' "$OUT" | python3 -c '
import json, sys
r = {x["name"]: x for x in json.load(sys.stdin)}
assert r["origin"]["default"] is True, r
assert r["origin"]["settings"]["secret_access_key"] == "****", r
assert r["origin"]["settings"]["region"] == "eu-west-1", r
assert r["backup"]["default"] is False, r
' || fail "bad remote list --json: $OUT"

expect_exit 0 lmdata remote modify --unset origin region
expect_exit 0 lmdata remote list -v
contains "$OUT" "region" && fail "region not unset: $OUT"

# default, rename (settings and credentials follow), remove.
expect_exit 0 lmdata remote default backup
expect_exit 0 lmdata remote list
expect_out_contains "backup (default)"
expect_exit 0 lmdata remote rename origin upstream
expect_exit 0 lmdata remote list -v
expect_out_contains "upstream	s3://bucket/prefix"
expect_out_contains "endpoint = http://127.0.0.1:9"
expect_out_contains "secret_access_key = ****"
contains "$OUT" "origin" && fail "origin still listed after rename: $OUT"
grep -q 'remote "upstream"' .lmdata/config.local || fail "credentials did not follow the rename"
expect_exit 0 lmdata remote remove upstream
grep -q upstream .lmdata/config .lmdata/config.local && fail "upstream left in a config file"
expect_exit 0 lmdata remote list
expect_eq "$OUT" "backup (default)	$TMP_ROOT/backup-folder" "list after remove"

# --help everywhere.
for c in remote push fetch pull; do
	expect_exit 0 lmdata $c --help
	expect_out_contains "usage: lmdata $c"
done
expect_exit 0 lmdata status --help
expect_out_contains "-c, --remote"
