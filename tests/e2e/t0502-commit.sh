#!/usr/bin/env bash
# lmdata commit: re-snapshot, author, editor, nothing to commit, pre-commit hook, detached HEAD.
. "$(dirname "$0")/history-lib.sh"

new_repo repo
expect_exit 0 lmdata init
expect_exit 0 lmdata commit -m "first"
expect_out_contains "first"
expect_eq "$(git log --format='%an <%ae>|%s')" "E2E Tester <e2e@example.com>|first" "first commit"

jsonl data.jsonl 200 a
expect_exit 0 lmdata add data.jsonl
expect_exit 0 lmdata commit -m "add data"
# change the data without add: commit re-snapshots it.
jsonl data.jsonl 300 b
want=$(sha_of data.jsonl)
GIT_AUTHOR_NAME='Data Eng' GIT_AUTHOR_EMAIL='de@example.com' expect_exit 0 lmdata commit -m "grow data" -m "second paragraph"
expect_out_contains "snapshot data.jsonl"
expect_eq "$(manifest_field data.jsonl.lmd sha256)" "$want" "manifest re-snapshotted"
expect_eq "$(git log -1 --format='%an|%ae|%cn|%s')" "Data Eng|de@example.com|E2E Tester|grow data" "author from GIT_AUTHOR_*"
expect_eq "$(git log -1 --format=%b)" "second paragraph" "second -m"
expect_eq "$(git show HEAD:data.jsonl.lmd | sed -n 's/^sha256: //p')" "$want" "git show of the manifest"
expect_eq "$(git status --porcelain)" "" "git status after commit"
expect_git_fsck

# nothing to commit: exit 1.
expect_exit 1 lmdata commit -m nothing
expect_err_contains "nothing to commit"

# no -m and no terminal: refused; an editor (GIT_EDITOR) works.
jsonl data.jsonl 10 c
expect_exit 2 lmdata commit
expect_err_contains "no terminal"
GIT_EDITOR="sed -i '1s/^/from the editor/'" expect_exit 0 lmdata commit
expect_eq "$(git log -1 --format=%s)" "from the editor" "editor message"
jsonl data.jsonl 11 d
GIT_EDITOR=true expect_exit 2 lmdata commit
expect_err_contains "empty commit message"

# identity unknown.
git config --unset user.name
GIT_AUTHOR_NAME= GIT_COMMITTER_NAME= expect_exit 2 env -u GIT_AUTHOR_NAME -u GIT_COMMITTER_NAME "$LMDATA" commit -m x
expect_err_contains "identity unknown"
git config user.name 'E2E Tester'

# the pre-commit hook refuses, --no-verify skips it.
mkdir -p .git/hooks
printf '#!/bin/sh\necho refused by hook >&2\nexit 1\n' >.git/hooks/pre-commit
chmod +x .git/hooks/pre-commit
before=$(git rev-parse HEAD)
expect_exit 1 lmdata commit -m hooked
expect_err_contains "pre-commit hook refused"
expect_eq "$(git rev-parse HEAD)" "$before" "HEAD after a refused commit"
expect_exit 0 lmdata commit --no-verify -m "skip hook"
rm .git/hooks/pre-commit

# commit-msg may rewrite or refuse the message; post-commit runs after.
printf '#!/bin/sh\nprintf "\\nSigned-off-by: hook\\n" >>"$1"\n' >.git/hooks/commit-msg
printf '#!/bin/sh\ngit rev-parse HEAD >"%s/post-commit.out"\n' "$TMP_ROOT" >.git/hooks/post-commit
chmod +x .git/hooks/commit-msg .git/hooks/post-commit
jsonl data.jsonl 13 f
expect_exit 0 lmdata commit -m "with trailer"
expect_eq "$(git log -1 --format=%b)" "Signed-off-by: hook" "commit-msg hook trailer"
expect_eq "$(cat "$TMP_ROOT/post-commit.out")" "$(git rev-parse HEAD)" "post-commit hook saw the new HEAD"
printf '#!/bin/sh\nexit 1\n' >.git/hooks/commit-msg
jsonl data.jsonl 14 g
expect_exit 1 lmdata commit -m "refused message"
expect_err_contains "commit-msg hook refused"
rm .git/hooks/commit-msg .git/hooks/post-commit

# a detached HEAD: commit moves HEAD, no branch.
git checkout -q --detach
jsonl data.jsonl 12 e
expect_exit 0 lmdata commit -m detached
expect_out_contains "detached HEAD"
expect_eq "$(git log -1 --format=%s HEAD)" "detached" "commit on detached HEAD"
expect_git_fsck

# a deleted dataset is not silently committed.
rm data.jsonl
expect_exit 2 lmdata commit -m gone
expect_err_contains "lmdata rm"
