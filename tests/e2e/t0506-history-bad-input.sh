#!/usr/bin/env bash
# bad input for the history commands: clear errors, documented exit codes, nothing written.
. "$(dirname "$0")/history-lib.sh"

# not a git work tree.
mkdir "$TMP_ROOT/plain" && cd "$TMP_ROOT/plain"
for cmd in "log" "diff" "checkout HEAD" "commit -m x" "cat HEAD x" "hooks install" "gc --all-commits"; do
	expect_exit 2 lmdata $cmd
	expect_err_contains "git"
done

# no commits yet.
new_lmdata_repo fresh
echo x >x && expect_exit 0 lmdata add x
expect_exit 2 lmdata log
expect_err_contains "no commits yet"
expect_exit 2 lmdata checkout HEAD
expect_err_contains "no commits yet"
expect_exit 2 lmdata diff
expect_exit 2 lmdata cat HEAD x
expect_exit 0 lmdata gc --workspace

new_lmdata_repo repo
commit_all init
jsonl data.jsonl 100 one
expect_exit 0 lmdata add data.jsonl
commit_all one
git tag one
jsonl data.jsonl 120 two
expect_exit 0 lmdata add data.jsonl
commit_all two
sha2=$(sha_of data.jsonl)

snapshot() { echo "$(sha_of data.jsonl) $(git status --porcelain | tr '\n' ' ') $(git rev-parse HEAD)"; }
state=$(snapshot)
expect_exit 2 lmdata checkout no-such-rev
expect_err_contains "neither a revision nor a path"
expect_exit 2 lmdata checkout no-such-rev --
expect_err_contains "unknown revision 'no-such-rev'"
expect_exit 2 lmdata checkout one -- nope.jsonl
expect_err_contains "'nope.jsonl' is not tracked by lmdata at"
expect_exit 2 lmdata checkout one -- data.jsonl nope.jsonl
mkdir -p fold && echo a >fold/a && expect_exit 0 lmdata add fold && commit_all fold
state=$(snapshot)
expect_exit 2 lmdata checkout HEAD~1 -- fold/a
expect_exit 2 lmdata checkout HEAD -- fold/a
expect_err_contains "inside the tracked folder 'fold'"
expect_eq "$(snapshot)" "$state" "state after refused checkouts"
expect_exit 2 lmdata cat one nope.jsonl
expect_exit 2 lmdata cat one
expect_exit 2 lmdata ls HEAD~5
expect_exit 2 lmdata diff one HEAD -- nope
expect_exit 2 lmdata log --since yesterday-ish
expect_err_contains "cannot read the date"
expect_exit 2 lmdata checkout --at "not a date"

# a local change stored nowhere is not overwritten by checkout REV.
echo "local edit" >>data.jsonl
expect_exit 1 lmdata checkout one
expect_err_contains "would be lost"
expect_eq "$(git status --porcelain)" "" "manifest written by a refused checkout"
expect_exit 0 lmdata checkout --force HEAD
expect_eq "$(sha_of data.jsonl)" "$sha2" "forced checkout"

# detached HEAD: time travel, log and diff work.
branch=$(git symbolic-ref --short HEAD)
git checkout -q --detach one
expect_exit 0 lmdata checkout HEAD
expect_exit 0 lmdata log --oneline
expect_out_contains "one"
expect_exit 0 lmdata diff HEAD "$branch"
expect_out_contains "modified  data.jsonl"
git checkout -q -

# a manifest with conflict markers, committed: refused with the path named, nothing written.
git checkout -q -b side one
jsonl data.jsonl 130 side
expect_exit 0 lmdata add data.jsonl
commit_all side
git checkout -q -
expect_exit 0 lmdata checkout --force
run git merge -q side
[ "$RC" != 0 ] || fail "the merge did not conflict"
expect_exit 0 lmdata status
expect_out_contains "merge conflict in 'data.jsonl.lmd'"
expect_exit 2 lmdata commit -m merged
expect_err_contains "merge is in progress"
git add data.jsonl.lmd && git commit -qm "bad merge" --no-verify
state=$(git status --porcelain)
expect_exit 2 lmdata checkout HEAD
expect_err_contains "data.jsonl.lmd"
expect_eq "$(git status --porcelain)" "$state" "state after checkout of a broken manifest"
expect_exit 0 lmdata log --oneline
git reset -q --hard HEAD~1

# a shallow clone: history beyond its edge is named, what it has works.
mkdir -p "$TMP_ROOT/store-src"
cd "$TMP_ROOT"
git clone -q --depth 1 "file://$REPO" shallow
cd shallow
expect_exit 2 lmdata checkout HEAD~1 --
expect_err_contains "shallow"
expect_exit 0 lmdata log --oneline
expect_eq "$(printf '%s\n' "$OUT" | wc -l)" 1 "log lines in a shallow clone"
expect_exit 2 lmdata checkout --at 2000-01-01
expect_err_contains "shallow"

# hostile paths in a commit: a folder named ".." or ".GIT", a folder that is a link in the work tree.
cd "$REPO"
m=$(git hash-object -w data.jsonl.lmd)
for evil in .. .GIT; do
	sub=$(printf '100644 blob %s\tdata.jsonl.lmd\n' "$m" | git mktree)
	root=$( (git ls-tree HEAD; printf '040000 tree %s\t%s\n' "$sub" "$evil") | git mktree)
	c=$(git commit-tree -p HEAD -m "evil $evil" "$root")
	expect_exit 2 lmdata checkout "$c"
	expect_err_contains "unsafe path"
done
expect_no_file "$TMP_ROOT/data.jsonl.lmd"
mkdir -p sub && cp data.jsonl.lmd sub/ && git add sub/data.jsonl.lmd && git commit -qm sub --no-verify
rm -rf sub && mkdir "$TMP_ROOT/outside" && ln -s "$TMP_ROOT/outside" sub
expect_exit 2 lmdata checkout HEAD -- sub/data.jsonl
expect_err_contains "symbolic link"
expect_no_file "$TMP_ROOT/outside/data.jsonl"
expect_no_file "$TMP_ROOT/outside/data.jsonl.lmd"
