# tests/e2e/lib.sh: helpers for lmdata's end-to-end tests (git's t/ style).
#
# Each t00NN-*.sh sources this file, drives the real binary ($LMDATA) in
# throw-away git repositories under a private temp directory, and exits 0
# on success or non-zero with a "FAIL: ..." message on the first failed
# check.  Run one by hand with:
#
#   LMDATA=/path/to/build/src/cli/lmdata tests/e2e/t0002-add-file.sh
#
# Set E2E_KEEP=1 to keep the temp directory for inspection.

set -u
# No pipefail: "printf ... | grep -q" would fail whenever grep exits early
# and printf gets SIGPIPE.

TEST_NAME=$(basename "$0" .sh)

if [ -z "${LMDATA:-}" ]; then
	LMDATA=$(command -v lmdata 2>/dev/null || true)
fi
if [ -z "$LMDATA" ] || [ ! -x "$LMDATA" ]; then
	echo "FAIL: $TEST_NAME: set LMDATA to the lmdata binary" >&2
	exit 1
fi
case $LMDATA in /*) ;; *) LMDATA=$PWD/$LMDATA ;; esac

# Hermetic environment: no user or system git config, stable messages.
export LC_ALL=C
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY \
      GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_CEILING_DIRECTORIES
export GIT_CONFIG_NOSYSTEM=1
# gc never touches packs younger than an hour (a concurrent add may be
# about to reference them); tests gc right away.  t0505 tests the grace.
export LMDATA_GC_GRACE_SECONDS=0
export GIT_AUTHOR_NAME='E2E Tester' GIT_AUTHOR_EMAIL='e2e@example.com'
export GIT_COMMITTER_NAME='E2E Tester' GIT_COMMITTER_EMAIL='e2e@example.com'

TMP_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/lmdata-e2e.$TEST_NAME.XXXXXX") || {
	echo "FAIL: $TEST_NAME: mktemp -d failed" >&2
	exit 1
}
export HOME=$TMP_ROOT/home
mkdir -p "$HOME"

OUT_FILE=$TMP_ROOT/.out
ERR_FILE=$TMP_ROOT/.err
OUT=
ERR=
RC=0

# Commands to run at exit (unmount, kill helpers, ...), last added first.
_AT_EXIT=()
at_exit() { _AT_EXIT=("$*" "${_AT_EXIT[@]}"); }

_cleanup() {
	local rc=$? c
	cd /
	for c in "${_AT_EXIT[@]}"; do
		eval "$c" >/dev/null 2>&1 || true
	done
	if [ "${E2E_KEEP:-0}" = 1 ]; then
		echo "note: kept $TMP_ROOT" >&2
	else
		chmod -R u+rwX "$TMP_ROOT" 2>/dev/null
		rm -rf "$TMP_ROOT"
	fi
	exit $rc
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	exit 1
}

note() { echo "# $*"; }

is_root() { [ "$(id -u)" = 0 ]; }

# The binary under test, killed after E2E_CMD_TIMEOUT seconds (default 40)
# so that a hang fails the check with a message instead of the whole test
# hitting meson's timeout.  Exit 124/137 then means "timed out".
E2E_CMD_TIMEOUT=${E2E_CMD_TIMEOUT:-40}
lmdata() { timeout -k 5 "$E2E_CMD_TIMEOUT" "$LMDATA" "$@"; }

# new_repo NAME: create $TMP_ROOT/NAME as a git repository with user
# config, cd into it and set REPO to its absolute path.
new_repo() {
	REPO=$TMP_ROOT/${1:-repo}
	mkdir -p "$REPO" || fail "cannot create $REPO"
	cd "$REPO" || fail "cannot cd to $REPO"
	git init -q . || fail "git init failed in $REPO"
	git config user.name 'E2E Tester'
	git config user.email 'e2e@example.com'
	git config commit.gpgsign false
	REPO=$(pwd -P)
}

# new_lmdata_repo NAME: new_repo plus a successful 'lmdata init'.
new_lmdata_repo() {
	new_repo "$@"
	expect_exit 0 lmdata init
}

# expect_exit CODE CMD...: run CMD with stdout/stderr captured into $OUT and
# $ERR ($OUT_FILE/$ERR_FILE); fail unless it exits with CODE.
expect_exit() {
	local want=$1
	shift
	"$@" >"$OUT_FILE" 2>"$ERR_FILE" </dev/null
	RC=$?
	OUT=$(cat "$OUT_FILE")
	ERR=$(cat "$ERR_FILE")
	local why="exited $RC"
	if [ "$1" = lmdata ] && { [ "$RC" = 124 ] || [ "$RC" = 137 ]; }; then
		why="HUNG: killed after ${E2E_CMD_TIMEOUT}s (exit $RC)"
	fi
	if [ "$RC" != "$want" ]; then
		fail "'$*' $why, expected exit $want
--- stdout:
$OUT
--- stderr:
$ERR"
	fi
}

# run CMD...: like expect_exit but accept any exit code (left in $RC).
run() {
	"$@" >"$OUT_FILE" 2>"$ERR_FILE" </dev/null
	RC=$?
	OUT=$(cat "$OUT_FILE")
	ERR=$(cat "$ERR_FILE")
	return 0
}

# contains TEXT NEEDLE: fixed-string match.
contains() { case $1 in *"$2"*) return 0 ;; esac; return 1; }

expect_out_contains() {
	contains "$OUT" "$1" || fail "stdout lacks '$1'
--- stdout:
$OUT
--- stderr:
$ERR"
}

expect_err_contains() {
	contains "$ERR" "$1" || fail "stderr lacks '$1'
--- stdout:
$OUT
--- stderr:
$ERR"
}

# expect_output_contains NEEDLE: in stdout or stderr.
expect_output_contains() {
	contains "$OUT$ERR" "$1" || fail "output lacks '$1'
--- stdout:
$OUT
--- stderr:
$ERR"
}

expect_out_empty() {
	[ -z "$OUT" ] || fail "expected no stdout, got:
$OUT"
}

expect_eq() {
	[ "$1" = "$2" ] || fail "${3:-values differ}: got '$1', expected '$2'"
}

expect_file() { [ -f "$1" ] || fail "expected file '$1' to exist"; }
expect_no_file() {
	[ ! -e "$1" ] && [ ! -L "$1" ] || fail "expected '$1' not to exist"
}

sha_of() { sha256sum <"$1" | cut -d' ' -f1; }

# manifest_field FILE.lmd KEY: the value of "KEY: value" in a manifest.
manifest_field() { sed -n "s/^$2: //p" "$1" | head -n1; }

# expect_json: $OUT must be valid JSON.
expect_json() {
	printf '%s' "$OUT" | python3 -m json.tool >/dev/null 2>&1 ||
		fail "output is not valid JSON:
$OUT"
}

# gen_file PATH SIZE SEED: deterministic pseudo-random bytes, written fast.
# store_object_ids REPO: "id type" of every object the indexes of REPO's
# store list, sorted (to compare two stores' contents).
store_object_ids() {
	python3 - "$1" <<'PY' || fail "cannot read the indexes of $1"
import glob, struct, sys
ids = set()
for ip in glob.glob(sys.argv[1] + "/.lmdata/cache/packs/*.idx"):
    d = open(ip, "rb").read()
    n = struct.unpack_from("<I", d, 8)[0]
    for i in range(n):
        e = d[48 + 1024 + 56 * i: 48 + 1024 + 56 * (i + 1)]
        ids.add("%s %d" % (e[:32].hex(), e[52]))
print("\n".join(sorted(ids)))
PY
}

gen_file() {
	python3 - "$1" "$2" "$3" <<'EOF' || fail "cannot generate $1"
import random, sys
path, size, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = random.Random(seed)
with open(path, "wb") as f:
    while size > 0:
        n = min(size, 1 << 20)
        f.write(r.randbytes(n))
        size -= n
EOF
}

# store_bytes: total size of the object store.
store_bytes() { du -sb "$REPO/.lmdata/cache" | cut -f1; }

# no_tmp_files DIR: no lmdata temp files (*.lmdtmp.*) anywhere under DIR.
expect_no_tmp_files() {
	local left
	left=$(find "${1:-$REPO}" -name '*.lmdtmp.*' 2>/dev/null)
	[ -z "$left" ] || fail "temp files left behind:
$left"
}
