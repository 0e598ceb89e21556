#!/usr/bin/env bash
# Benchmark of the remote targets (issue 4) against s3rver on loopback,
# each measured next to Debian's `aws s3` on the same server in the same run:
#
#   tests/bench/remote-bench.sh --lmdata build/src/cli/lmdata [--data DIR]
#                               [--no-sync] [--keep] [--json FILE]
#
#   push_v1      push of v1.jsonl (already added)       <= 0.5 x aws s3 cp (upload)
#   push_tree    push of the 20k-file tree               <= 5 s and <= 0.1 x aws s3 sync
#   push_v2      bytes sent for v2 after v1               <= 1.2 x the store's growth
#   push_noop    push with nothing to send                <= 0.5 s and <= 5 requests
#   pull_v1      pull of v1 into an empty store and tree  <= 1.0 x aws s3 cp (download)
#   peak RSS     of each lmdata command                   <= 96 MiB
#
# s3rver is started by tests/remote/s3_harness.py (serve mode) and used
# directly (not through the verifying proxy, which would be the bottleneck).
# --no-sync skips the slow `aws s3 sync` baseline (60-120 s).  Exit 0 when
# every command succeeded and data round-tripped; targets are reported,
# not enforced.
set -Eeuo pipefail
export LC_ALL=C

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SELF_DIR/../.." && pwd)
LMDATA=
DATA=/work/benchdata
SYNC=1
KEEP=0
JSON=

while (($#)); do
	case $1 in
	--lmdata) LMDATA=$2; shift 2 ;;
	--data) DATA=$2; shift 2 ;;
	--no-sync) SYNC=0; shift ;;
	--keep) KEEP=1; shift ;;
	--json) JSON=$2; shift 2 ;;
	-h|--help) sed -n '2,21p' "$0"; exit 0 ;;
	*) [ -z "$LMDATA" ] && [ -x "$1" ] && { LMDATA=$1; shift; continue; }
	   echo "remote-bench: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -x "${LMDATA:-}" ] || { echo "remote-bench: --lmdata PATH is required" >&2; exit 2; }
LMDATA=$(cd "$(dirname "$LMDATA")" && pwd)/$(basename "$LMDATA")
for f in v1.jsonl v2.jsonl tree; do
	[ -e "$DATA/$f" ] || { echo "remote-bench: $DATA/$f missing (run tests/bench/bench.sh once to generate)" >&2; exit 2; }
done
AWS=/usr/bin/aws
[ -x $AWS ] || { echo "remote-bench: $AWS (Debian awscli) missing; run scripts/install-test-deps.sh" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lmdata-rbench.XXXXXX")
HPID=
cleanup() {
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null
	[ "$KEEP" = 1 ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

/usr/bin/python3 "$REPO_ROOT/tests/remote/s3_harness.py" --lifetime 3600 serve >"$WORK/harness.out" 2>&1 &
HPID=$!
for _ in $(seq 1 100); do grep -q S3RVER_URL "$WORK/harness.out" && break; sleep 0.1; done
S3=$(sed -n 's/^S3RVER_URL=//p' "$WORK/harness.out")
PROXY=$(sed -n 's/^PROXY_URL=//p' "$WORK/harness.out")
[ -n "$S3" ] || { echo "remote-bench: s3 harness did not start: $(cat "$WORK/harness.out")" >&2; exit 1; }
/usr/bin/python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=30).read()' "$PROXY/__harness/mkbucket?name=bench"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_CA_BUNDLE
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
export GIT_CONFIG_NOSYSTEM=1 CI=1

# timed LABEL CMD...: run CMD, set SECS and RSS_MIB (peak), keep stdout in $WORK/LABEL.out.
timed() {
	local label=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	/usr/bin/time -f %M -o "$WORK/$label.rss" "$@" >"$WORK/$label.out" 2>"$WORK/$label.err" || {
		echo "remote-bench: '$*' failed:" >&2
		cat "$WORK/$label.err" >&2
		exit 1
	}
	t1=$(date +%s.%N)
	SECS=$(echo "$t1 - $t0" | bc -l)
	RSS_MIB=$(echo "$(tail -n1 "$WORK/$label.rss") / 1024" | bc -l)
}
jget() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/$1.out" "$2"; }
fmt() { printf '%.3f' "$1"; }
RESULTS=()
row() { # name text verdict-expression (bc)
	local ok
	ok=$(echo "$3" | bc -l)
	printf '%-10s %-58s %s\n' "$1" "$2" "$([ "$ok" = 1 ] && echo ok || echo MISSED)"
	RESULTS+=("{\"name\": \"$1\", \"result\": \"$2\", \"met\": $([ "$ok" = 1 ] && echo true || echo false)}")
}

L() { "$LMDATA" "$@"; }

# ---- v1 ----
R=$WORK/repo
mkdir -p "$R" && cd "$R"
git init -q . && L init >/dev/null
cp "$DATA/v1.jsonl" data.jsonl
L add data.jsonl >/dev/null
L remote add -d s3 s3://bench/lmdata >/dev/null
L remote modify s3 endpoint "$S3"
git add -A && git commit -qm v1 && git tag v1

timed aws_up $AWS --endpoint-url "$S3" s3 cp --quiet "$DATA/v1.jsonl" s3://bench/raw/v1.jsonl
AWS_UP=$SECS
timed push_v1 "$LMDATA" push --json
PUSH_V1=$SECS; RSS_PUSH_V1=$RSS_MIB
row push_v1 "$(fmt "$PUSH_V1") s vs aws s3 cp $(fmt "$AWS_UP") s = $(fmt "$(echo "$PUSH_V1/$AWS_UP" | bc -l)")x (<= 0.5x)" \
	"$PUSH_V1 <= 0.5 * $AWS_UP"

timed push_noop "$LMDATA" push --json
NOOP=$SECS
NOOP_REQ=$(jget push_noop requests)
row push_noop "$(fmt "$NOOP") s, $NOOP_REQ requests (<= 0.5 s, <= 5)" "$NOOP <= 0.5 && $NOOP_REQ <= 5"

# ---- v2 after v1 ----
before=$(du -sb .lmdata/cache/packs | cut -f1)
cp "$DATA/v2.jsonl" data.jsonl
L add data.jsonl >/dev/null
git commit -qam v2
after=$(du -sb .lmdata/cache/packs | cut -f1)
GROWTH=$((after - before))
timed push_v2 "$LMDATA" push --json
SENT=$(jget push_v2 bytes)
row push_v2 "$SENT bytes sent, store grew $GROWTH = $(fmt "$(echo "$SENT/$GROWTH" | bc -l)")x (<= 1.2x)" \
	"$SENT <= 1.2 * $GROWTH"

# ---- pull v1 into an empty store and work tree ----
timed aws_down $AWS --endpoint-url "$S3" s3 cp --quiet s3://bench/raw/v1.jsonl "$WORK/v1.download"
AWS_DOWN=$SECS
rm -f "$WORK/v1.download"
git clone -q --branch v1 "$R" "$WORK/ci" 2>/dev/null
cd "$WORK/ci"
timed pull_v1 "$LMDATA" pull --json
PULL=$SECS; RSS_PULL=$RSS_MIB
cmp -s data.jsonl "$DATA/v1.jsonl" || { echo "remote-bench: pulled v1 differs" >&2; exit 1; }
row pull_v1 "$(fmt "$PULL") s vs aws s3 cp download $(fmt "$AWS_DOWN") s = $(fmt "$(echo "$PULL/$AWS_DOWN" | bc -l)")x (<= 1.0x)" \
	"$PULL <= 1.0 * $AWS_DOWN"

# ---- the 20k-file tree ----
T=$WORK/tree-repo
mkdir -p "$T" && cd "$T"
git init -q . && L init >/dev/null
cp -r "$DATA/tree" tree
L add tree >/dev/null
L remote add -d s3 s3://bench/tree >/dev/null
L remote modify s3 endpoint "$S3"
git add -A && git commit -qm tree
timed push_tree "$LMDATA" push --json
PTREE=$SECS; RSS_TREE=$RSS_MIB
if [ "$SYNC" = 1 ]; then
	timed aws_sync $AWS --endpoint-url "$S3" s3 sync --quiet "$DATA/tree" s3://bench/tree-raw/
	SYNC_S=$SECS
	row push_tree "$(fmt "$PTREE") s vs aws s3 sync $(fmt "$SYNC_S") s = $(fmt "$(echo "$PTREE/$SYNC_S" | bc -l)")x (<= 5 s, <= 0.1x)" \
		"$PTREE <= 5 && $PTREE <= 0.1 * $SYNC_S"
else
	row push_tree "$(fmt "$PTREE") s (<= 5 s; aws s3 sync skipped)" "$PTREE <= 5"
fi
rm -rf tree .lmdata/cache
timed pull_tree "$LMDATA" pull --json
diff -r -q tree "$DATA/tree" >/dev/null || { echo "remote-bench: pulled tree differs" >&2; exit 1; }

MAXRSS=$(printf '%s\n' "$RSS_PUSH_V1" "$RSS_PULL" "$RSS_TREE" | sort -g | tail -n1)
row peak_rss "push v1 $(fmt "$RSS_PUSH_V1"), pull v1 $(fmt "$RSS_PULL"), push tree $(fmt "$RSS_TREE") MiB (<= 96)" \
	"$MAXRSS <= 96"

if [ -n "$JSON" ]; then
	(IFS=,; printf '[%s]\n' "${RESULTS[*]}") >"$JSON"
fi
