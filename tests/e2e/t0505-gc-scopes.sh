#!/usr/bin/env bash
# gc scopes: refuse without one once history exists; --all-commits keeps every version,
# --workspace only the current one, tags/branches/--rev/--keep-since in between; shared objects
# survive; young packs are never touched; an add running during gc loses nothing.
. "$(dirname "$0")/history-lib.sh"
unset LMDATA_GC_GRACE_SECONDS   # lib.sh sets 0; the first checks are of the default hour

new_lmdata_repo repo
commit_all init
shared_sha=
for v in 1 2 3; do
	gen_file big.bin $((200000 + v)) "big-$v"
	mkdir -p d && gen_file d/shared.bin 100000 shared && gen_file d/own.bin 50000 "own-$v"
	expect_exit 0 lmdata add big.bin d
	GIT_COMMITTER_DATE="2026-03-0${v}T00:00:00Z" expect_exit 0 lmdata commit -m "v$v"
	eval "big_$v=$(sha_of big.bin)"
done
git tag v1 HEAD~2
shared_sha=$(sha_of d/shared.bin)

expect_exit 2 lmdata gc
expect_err_contains "--all-commits"
expect_exit 0 lmdata gc --dry-run
expect_out_contains "would remove"

# young packs: nothing is deleted within the grace period.
before=$(store_bytes)
expect_exit 0 lmdata gc --workspace
expect_eq "$(store_bytes)" "$before" "store changed by gc of young packs"

export LMDATA_GC_GRACE_SECONDS=0
expect_exit 0 lmdata gc --all-commits
expect_out_contains "removed 0 unreferenced objects"
for rev in v1 HEAD~1 HEAD; do
	lmdata cat "$rev" big.bin >/dev/null || fail "cat $rev big.bin after gc --all-commits"
done
expect_eq "$(lmdata cat v1 big.bin | sha256sum | cut -d' ' -f1)" "$big_1" "v1 kept by --all-commits"

# --all-tags keeps v1 and the work tree; v2 goes.
expect_exit 0 lmdata gc --all-tags
expect_exit 0 lmdata checkout v1
expect_eq "$(sha_of big.bin)" "$big_1" "v1 after gc --all-tags"
expect_exit 0 lmdata checkout HEAD
expect_eq "$(sha_of big.bin)" "$big_3" "HEAD after gc --all-tags"
expect_exit 3 lmdata checkout HEAD~1
expect_err_contains "lmdata pull"
expect_eq "$(sha_of big.bin)" "$big_3" "a refused checkout wrote data"
expect_eq "$(git status --porcelain)" "" "a refused checkout touched the manifests"

# --rev keeps that commit; --workspace alone drops v1.
expect_exit 0 lmdata gc --rev v1
lmdata cat v1 big.bin >/dev/null || fail "cat v1 after gc --rev v1"
expect_exit 0 lmdata gc --workspace
lmdata cat v1 big.bin >/dev/null 2>&1 && fail "v1 still readable after gc --workspace"
expect_exit 0 lmdata fsck
expect_eq "$(sha_of d/shared.bin)" "$shared_sha" "shared file"
expect_exit 0 lmdata checkout --force d
expect_exit 0 lmdata status --check --data

# an add running during gc loses nothing.
unset LMDATA_GC_GRACE_SECONDS
for i in 1 2 3 4 5; do gen_file "c$i.bin" 300000 "concurrent-$i"; done
( for i in 1 2 3 4 5; do "$LMDATA" add "c$i.bin" >/dev/null 2>&1 || echo "add c$i failed" >>"$TMP_ROOT/add.err"; done ) &
addpid=$!
for i in 1 2 3; do "$LMDATA" gc --workspace >/dev/null 2>>"$TMP_ROOT/gc.err" || true; done
wait $addpid
[ ! -s "$TMP_ROOT/add.err" ] || fail "concurrent add failed: $(cat "$TMP_ROOT/add.err")"
expect_exit 0 lmdata gc --workspace
for i in 1 2 3 4 5; do
	want=$(sha_of "c$i.bin")
	rm "c$i.bin"
	expect_exit 0 lmdata checkout "c$i.bin"
	expect_eq "$(sha_of "c$i.bin")" "$want" "c$i.bin after gc during add"
done
expect_exit 0 lmdata fsck

# --all-branches keeps another branch's tip; --keep-since keeps recent commits only.
export LMDATA_GC_GRACE_SECONDS=0
new_lmdata_repo branches
commit_all init
for v in 1 2 3; do
	gen_file b.bin $((100000 + v)) "b-$v"
	expect_exit 0 lmdata add b.bin
	GIT_COMMITTER_DATE="2026-04-0${v}T00:00:00Z" expect_exit 0 lmdata commit -m "b$v"
	eval "b_$v=$(sha_of b.bin)"
done
git branch keep HEAD~1
expect_exit 0 lmdata gc --all-branches
lmdata cat keep b.bin >/dev/null || fail "branch tip lost by gc --all-branches"
lmdata cat HEAD~2 b.bin >/dev/null 2>&1 && fail "b1 kept by gc --all-branches"
expect_exit 0 lmdata gc --keep-since 2026-04-02T00:00:00Z --dry-run
expect_out_contains "would remove 0"
git branch -D -q keep
expect_exit 0 lmdata gc --keep-since 2026-04-03T00:00:00Z
lmdata cat HEAD~1 b.bin >/dev/null 2>&1 && fail "b2 kept by --keep-since after it"
expect_eq "$(lmdata cat HEAD b.bin | sha256sum | cut -d' ' -f1)" "$b_3" "b3 after --keep-since"
expect_exit 2 lmdata gc --rev no-such-rev
expect_exit 2 lmdata gc --keep-since someday
