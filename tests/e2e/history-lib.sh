# tests/e2e/history-lib.sh: helpers for the history tests (t05NN), on top of lib.sh.
. "$(dirname "$0")/lib.sh"

# Hooks and editors run 'lmdata' by name: the binary under test first on PATH.
PATH=$(dirname "$LMDATA"):$PATH
export PATH

# commit_all MSG: lmdata commit, checked.
commit_all() {
	expect_exit 0 lmdata commit -m "$1"
}

# expect_git_clean: git status shows nothing, git fsck is clean.
expect_git_fsck() {
	run git fsck --strict
	[ "$RC" = 0 ] || fail "git fsck failed: $OUT $ERR"
}

# jsonl FILE N SEED: N lines of JSON records.
jsonl() {
	python3 - "$1" "$2" "$3" <<'PY' || fail "cannot write $1"
import json, random, sys
path, n, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = random.Random(seed)
with open(path, "w") as f:
    for i in range(n):
        f.write(json.dumps({"id": i, "text": "%s-%08x" % (seed, r.getrandbits(32))}) + "\n")
PY
}

# tree_sum DIR: one sha256 over every file's path and content.
tree_sum() {
	(cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}
