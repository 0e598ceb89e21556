#!/usr/bin/env bash
# End-to-end demo of lmdata, in a throw-away git repository.
#
# Generates a small deterministic dataset (one JSONL file and a folder of
# shards), tracks it, commits it, changes it, sees the change, restores the
# committed bytes, travels back to an older commit and forward again,
# verifies the store and asks gc what it would free.  Every command is
# echoed before it runs ("+ lmdata add ..."); any step that does not behave
# as documented stops the demo with a non-zero exit status.
#
#   LMDATA=path/to/lmdata   binary to run (default: build/src/cli/lmdata)
#   LMD_DEMO_KEEP=1         keep the temporary repository afterwards
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LMDATA=${LMDATA:-$repo_root/build/src/cli/lmdata}
case $LMDATA in
	/*) ;;
	*/*) LMDATA=$PWD/$LMDATA ;;
	*) LMDATA=$(command -v "$LMDATA" || echo "$LMDATA") ;;
esac
if [ ! -x "$LMDATA" ]; then
	echo "demo: no lmdata binary at '$LMDATA'; build it first (scripts/bootstrap.sh) or set LMDATA" >&2
	exit 2
fi
command -v python3 >/dev/null || { echo "demo: python3 is needed to generate the data" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lmdata-demo.XXXXXX")
cleanup() {
	if [ "${LMD_DEMO_KEEP:-0}" = 1 ]; then
		echo "demo: kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

lmdata() { "$LMDATA" "$@"; }

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'demo: FAILED: %s\n' "$*" >&2; exit 1; }

# show CMD ARGS...: print "+ CMD ARGS" with arguments quoted where needed.
show() {
	local a line=+
	for a in "$@"; do
		case $a in
			*[!A-Za-z0-9_./:=@%+,-]* | '') line+=" '${a//\'/\'\\\'\'}'" ;;
			*) line+=" $a" ;;
		esac
	done
	printf '%s\n' "$line"
}

# run [-rc N] CMD ARGS...: echo the command, run it, check its exit status
# (0 unless -rc says otherwise).  The output is also kept in $out.
out=
run() {
	local want=0 rc=0
	if [ "$1" = -rc ]; then want=$2; shift 2; fi
	show "$@"
	out=$("$@" 2>&1) || rc=$?
	[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/  /'
	[ "$rc" = "$want" ] || fail "'$*' exited with $rc, expected $want"
}

# expect_in TEXT WHAT: the last command's output contains TEXT.
expect_in() { case $out in *"$1"*) ;; *) fail "expected $2 in the output" ;; esac; }

manifest_sha() { sed -n 's/^sha256: //p' "$1"; }
file_sha() { sha256sum "$1" | cut -d' ' -f1; }

# A small deterministic generator (an LCG, no randomness from the system):
# gen.py FILE ROWS SEED [append] writes JSONL prompt/completion rows.
cat >"$tmp/gen.py" <<'EOF'
import json, sys
path, rows, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mode = "a" if len(sys.argv) > 4 and sys.argv[4] == "append" else "w"
words = ("the model data token train batch loss learn layer prompt answer "
         "reason step proof cat dog tree river stone cloud graph vector").split()
x = seed & 0xFFFFFFFF
def rnd(n):
    global x
    x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
    return (x >> 8) % n
with open(path, mode, encoding="utf-8", newline="\n") as f:
    for i in range(rows):
        p = " ".join(words[rnd(len(words))] for _ in range(8 + rnd(24)))
        c = " ".join(words[rnd(len(words))] for _ in range(4 + rnd(40)))
        f.write(json.dumps({"id": seed * 1000000 + i, "prompt": p, "completion": c}) + "\n")
EOF
gen() { python3 "$tmp/gen.py" "$@"; }

cd "$tmp"
mkdir work
cd work

step "a git repository with some data"
run git init -q
git config user.name "lmdata demo"
git config user.email "demo@lmdata.invalid"
git config commit.gpgsign false
mkdir -p data/shards
echo "(gen FILE ROWS SEED [append]: the demo's deterministic JSONL generator)"
run gen data/train.jsonl 20000 1
for i in 0 1 2 3 4 5 6 7; do gen "data/shards/shard-000$i.jsonl" 1500 $((100 + i)); done
echo "+ (8 shards of 1500 rows in data/shards/)"
run du -sh data/train.jsonl data/shards
shard3_sha=$(file_sha data/shards/shard-0003.jsonl)

step "set up lmdata and track a file and a folder"
run lmdata init
[ -f .lmdata/config ] || fail ".lmdata/config was not created"
run lmdata init
run lmdata add data/train.jsonl data/shards
[ -f data/train.jsonl.lmd ] && [ -f data/shards.lmd ] || fail "manifests were not written"
grep -qx /train.jsonl data/.gitignore && grep -qx /shards data/.gitignore ||
	fail "data/.gitignore does not ignore the data"
run cat data/train.jsonl.lmd
v1_sha=$(manifest_sha data/train.jsonl.lmd)
[ "$v1_sha" = "$(file_sha data/train.jsonl)" ] || fail "manifest sha256 differs from sha256sum"
run git status --short
run git commit -q -m "data v1"
run lmdata status
run lmdata status --check
[ -z "$out" ] || fail "status --check printed something on clean data"

step "change the data: append rows, delete a shard"
run gen data/train.jsonl 500 2 append
run rm data/shards/shard-0003.jsonl
run lmdata status
expect_in data/train.jsonl "the modified file"
expect_in data/shards/shard-0003.jsonl "the deleted shard"
run -rc 1 lmdata status --check
run -rc 0 lmdata status --json
printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["clean"] is False and len(d["changes"]) == 2 else 1)' ||
	fail "status --json does not report 2 changes"

step "lose the file, get the committed bytes back"
run rm data/train.jsonl
run lmdata checkout
run sha256sum data/train.jsonl
run grep sha256: data/train.jsonl.lmd
[ "$(file_sha data/train.jsonl)" = "$v1_sha" ] || fail "checkout did not restore the committed bytes"
[ "$(file_sha data/shards/shard-0003.jsonl)" = "$shard3_sha" ] || fail "checkout did not restore the shard"
run lmdata status --check

step "checkout refuses to overwrite a change that is stored nowhere"
run gen data/shards/shard-0001.jsonl 10 3 append
run -rc 1 lmdata checkout
expect_in data/shards/shard-0001.jsonl "the name of the refused file"
run lmdata checkout --force
run lmdata status --check

step "time travel: commit a v2, go back to v1, forward to v2"
run gen data/train.jsonl 2000 4 append
run lmdata add data/train.jsonl
run git commit -q -m "data v2: 2000 more rows"
v2_sha=$(manifest_sha data/train.jsonl.lmd)
run git log --oneline
run git checkout -q HEAD~1 -- data/train.jsonl.lmd
run lmdata checkout data/train.jsonl
[ "$(file_sha data/train.jsonl)" = "$v1_sha" ] || fail "v1 was not restored"
run git checkout -q HEAD -- data/train.jsonl.lmd
run lmdata checkout data/train.jsonl
[ "$(file_sha data/train.jsonl)" = "$v2_sha" ] || fail "v2 was not restored"

step "verify the store, list, and see what gc would free"
run lmdata fsck
run lmdata ls
expect_in "$v2_sha" "the sha256 of data/train.jsonl"
expect_in data/shards/shard-0007.jsonl "the shards"
before=$(du -sb .lmdata/cache | cut -f1)
run lmdata gc --dry-run
[ "$(du -sb .lmdata/cache | cut -f1)" = "$before" ] || fail "gc --dry-run changed the store"
run lmdata fsck

step "push to a folder remote, then a fresh clone pulls the same bytes"
run lmdata remote add -d origin "$tmp/remote"
run lmdata remote list
run git commit -q -m "remote origin" .lmdata/config
run lmdata push
run lmdata status -c --check
run git clone -q "$PWD" "$tmp/clone"
(cd "$tmp/clone" && run lmdata pull) || fail "pull in the clone failed"
[ "$(file_sha "$tmp/clone/data/train.jsonl")" = "$v2_sha" ] || fail "the clone did not get v2"

printf '\ndemo: all steps behaved as expected\n'
