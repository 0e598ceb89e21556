#!/usr/bin/env bash
# Benchmark of the history targets (issue 3), each against its baseline in
# the same run:
#
#   log_1000      lmdata log PATH over 1,000 commits   vs  git log --oneline -- PATH.lmd   (target <= 1.5x)
#                 (measured with loose objects and again after 'git gc'; the ratio is of
#                 the median run, which reads .lmdata/state/log-cache; each mode also
#                 prints the median of runs that start with no cache, the first-run cost)
#   diff_20k      lmdata diff of two versions of a 20k-file tree differing in 10 files     (target <= 0.2 s)
#   checkout_rev  lmdata checkout HEAD~1 of a large JSONL file  vs  lmdata checkout (work tree)
#                 and zstd -d of the same file to disk                                     (target <= 1.0x zstd -d)
#                 (and, as info, the same for a file of random bytes)
#
#   tests/bench/history.sh --lmdata build/src/cli/lmdata [--size MiB] [--reps N] [--work DIR] [--keep]
#                          [--only log|diff|checkout] [--data DIR] [--gen gen_corpus.py]
#
#   --data DIR: where bench.sh keeps its corpora (default /work/benchdata); the
#   first SIZE MiB of DIR/v1.jsonl is used when it is there, else gen_corpus.py
#   (--gen, default ../shared/bench/gen_corpus.py next to the repository) makes it.
#
# Exit status: 0 when every command succeeded (targets missed are reported,
# not failed: this is a measurement), 1 when a command failed, 2 on usage errors.
set -Eeuo pipefail
export LC_ALL=C

LMDATA= SIZE_MIB=512 REPS=5 WORK_PARENT=${TMPDIR:-/tmp} KEEP=0 ONLY=
DATA=/work/benchdata GEN=$(cd "$(dirname "$0")/../.." && pwd)/../shared/bench/gen_corpus.py
while (($#)); do
	case $1 in
	--lmdata) LMDATA=${2:?}; shift 2 ;;
	--size) SIZE_MIB=${2:?}; shift 2 ;;
	--reps) REPS=${2:?}; shift 2 ;;
	--work) WORK_PARENT=${2:?}; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--data) DATA=${2:?}; shift 2 ;;
	--gen) GEN=${2:?}; shift 2 ;;
	--only) ONLY=${2:?}; shift 2 ;;
	-h|--help) sed -n '2,22p' "$0"; exit 0 ;;
	*) if [[ -z $LMDATA ]]; then LMDATA=$1; shift; else echo "history.sh: unexpected '$1'" >&2; exit 2; fi ;;
	esac
done
[[ -x $LMDATA ]] || { echo "history.sh: --lmdata PATH is required" >&2; exit 2; }
LMDATA=$(cd "$(dirname "$LMDATA")" && pwd)/$(basename "$LMDATA")
command -v zstd >/dev/null || { echo "history.sh: needs zstd" >&2; exit 2; }
case $ONLY in '' | log | diff | checkout) ;; *) echo "history.sh: --only log, diff or checkout, not '$ONLY'" >&2; exit 2 ;; esac

W=$(mktemp -d "$WORK_PARENT/lmdata-bench-history.XXXXXX")
[[ $KEEP = 1 ]] || trap 'rm -rf "$W"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$W/home GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=b@example.com \
	GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=b@example.com
mkdir -p "$HOME"

# median_of N CMD...: the median wall time (seconds) of N runs (CMD may be a function).
median_of() {
	local n=$1 i s e
	shift
	local -a ts=()
	for ((i = 0; i < n; i++)); do
		s=$EPOCHREALTIME
		"$@" >/dev/null 2>&1 || { echo "history.sh: '$*' failed" >&2; exit 1; }
		e=$EPOCHREALTIME
		ts+=("$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.4f", b - a }')")
	done
	printf '%s\n' "${ts[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
# median_cold N: the median wall time of N runs of 'lmdata log data.jsonl', each
# started with no log cache (removing it is not timed).
median_cold() {
	local n=$1 i s e
	local -a ts=()
	for ((i = 0; i < n; i++)); do
		rm -f .lmdata/state/log-cache
		s=$EPOCHREALTIME
		"$LMDATA" log data.jsonl >/dev/null 2>&1 || { echo "history.sh: cold 'lmdata log' failed" >&2; exit 1; }
		e=$EPOCHREALTIME
		ts+=("$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.4f", b - a }')")
	done
	printf '%s\n' "${ts[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
want() { [[ -z $ONLY || $ONLY = "$1" ]]; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) b = 0.001; printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t) ? "ok" : "MISSED" }'; }

new_repo() {
	rm -rf "$W/$1" && mkdir -p "$W/$1" && cd "$W/$1"
	git init -q . && "$LMDATA" -q init && git commit -qm init
}

echo "# lmdata history benchmark ($(date -u +%FT%TZ), reps $REPS)"

# ---- log over 1,000 commits ----
if want log; then
new_repo log
for i in $(seq 1 1000); do
	echo "record $i" >>data.jsonl
	"$LMDATA" -q add data.jsonl
	git commit -qm "c$i"
done
for mode in loose packed; do
	[[ $mode = packed ]] && git gc -q
	g=$(median_of "$((REPS * 3))" git log --oneline -- data.jsonl.lmd)
	c=$(median_cold "$REPS")
	l=$(median_of "$((REPS * 3))" "$LMDATA" log data.jsonl)
	r=$(ratio "$l" "$g")
	printf 'log_1000 (%s)    lmdata %6.3f s   git log %6.3f s   %sx  (target <= 1.5x: %s)\n' "$mode" "$l" "$g" "$r" \
		"$(verdict "$r" 1.5)"
	printf 'log_1000 (%s, cold)  lmdata %6.3f s   git log %6.3f s   %sx  (first run: no .lmdata/state/log-cache yet)\n' \
		"$mode" "$c" "$g" "$(ratio "$c" "$g")"
done
fi

# ---- diff of a 20k-file tree changed in 10 files ----
if want diff; then
new_repo diff
python3 - <<'PY'
import os
for i in range(200):
    os.makedirs("big/%03d" % i, exist_ok=True)
    for j in range(100):
        with open("big/%03d/%03d.txt" % (i, j), "w") as f:
            f.write("record %d %d\n" % (i, j))
PY
"$LMDATA" -q add big && "$LMDATA" -q commit -m v1
for i in 000 013 027 042 071 099 123 150 177 199; do echo changed >>big/$i/050.txt; done
"$LMDATA" -q add big && "$LMDATA" -q commit -m v2
n=$("$LMDATA" diff HEAD~1 HEAD | grep -c '^modified')
[[ $n = 10 ]] || { echo "diff_20k: expected 10 modified files, got $n" >&2; exit 1; }
d=$(median_of "$REPS" "$LMDATA" diff HEAD~1 HEAD)
printf 'diff_20k          lmdata %6.3f s                        (target <= 0.2 s: %s)\n' "$d" "$(verdict "$d" 0.2)"
l=$(median_of "$REPS" "$LMDATA" log -n 2 big)
printf 'log_20k           lmdata %6.3f s   (log -n 2 of the tree)\n' "$l"
fi

# ---- checkout REV of a large file ----
# Two files of SIZE MiB: chat JSONL like the product's data (the target's
# row; made with gen_corpus.py, or taken from --data DIR/v1.jsonl), and
# random bytes (an info row: zstd -d then has nothing to decompress and only
# writes, while lmdata must still hash the whole file with SHA-256 on one
# core, so the ratio there shows the cost of verification).
once() { # once FN: the wall time of one run of FN
	local s e
	s=$EPOCHREALTIME
	"$1" >/dev/null 2>&1 || { echo "history.sh: '$1' failed" >&2; exit 1; }
	e=$EPOCHREALTIME
	awk -v a="$s" -v b="$e" 'BEGIN { printf "%.4f\n", b - a }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# checkout_case NAME MAKE_CMD: commit v1 and v2 of big.bin, then time
# 'checkout HEAD~1', 'checkout' of the work tree and zstd -d, taking turns.
checkout_case() {
	local name=$1 make=$2 want i n=$((REPS < 7 ? 7 : REPS))
	new_repo "co-$name"
	"$make" big.bin
	"$LMDATA" -q add big.bin && "$LMDATA" -q commit -m v1
	cp big.bin "$W/v1.bin"
	printf 'x' | dd of=big.bin bs=1 seek=$((SIZE_MIB << 19)) conv=notrunc status=none
	"$LMDATA" -q add big.bin && "$LMDATA" -q commit -m v2
	zstd -q -1 -f "$W/v1.bin" -o "$W/v1.bin.zst"
	want=$(sha256sum <"$W/v1.bin" | cut -d' ' -f1)
	co_rev() { "$LMDATA" -q checkout HEAD~1; }
	co_wt() { "$LMDATA" -q checkout; }
	unz() { zstd -q -d -f "$W/v1.bin.zst" -o "$W/out.bin"; }
	rm -f big.bin && co_rev
	[[ $(sha256sum <big.bin | cut -d' ' -f1) = "$want" ]] || { echo "checkout_rev: wrong bytes" >&2; exit 1; }
	# Each command writes the whole file to a path that does not exist; the
	# removal before it and a sync (so that one run's writeback does not land
	# in the next one's time) are not timed.
	local -a trs=() tws=() tzs=()
	for ((i = 0; i < n; i++)); do
		rm -f big.bin && sync && trs+=("$(once co_rev)")
		rm -f big.bin && sync && tws+=("$(once co_wt)")
		rm -f "$W/out.bin" && sync && tzs+=("$(once unz)")
	done
	local tr tw tz r
	tr=$(printf '%s\n' "${trs[@]}" | median)
	tw=$(printf '%s\n' "${tws[@]}" | median)
	tz=$(printf '%s\n' "${tzs[@]}" | median)
	r=$(ratio "$tr" "$tz")
	if [[ $name = jsonl ]]; then
		printf 'checkout_rev      lmdata %6.3f s   work-tree checkout %6.3f s   zstd -d %6.3f s   %sx  (JSONL; target <= 1.0x zstd -d: %s)\n' \
			"$tr" "$tw" "$tz" "$r" "$(verdict "$r" 1.0)"
	else
		printf 'checkout_rev_%s lmdata %6.3f s   work-tree checkout %6.3f s   zstd -d %6.3f s   %sx  (info: incompressible, zstd -d only writes)\n' \
			"$name" "$tr" "$tw" "$tz" "$r"
	fi
	echo "  runs (s): checkout REV ${trs[*]} / work tree ${tws[*]} / zstd -d ${tzs[*]}"
	rm -f "$W/v1.bin" "$W/v1.bin.zst" "$W/out.bin"
}
make_jsonl() {
	if [[ -n $DATA && -f $DATA/v1.jsonl && $(stat -c %s "$DATA/v1.jsonl") -ge $((SIZE_MIB << 20)) ]]; then
		head -c $((SIZE_MIB << 20)) "$DATA/v1.jsonl" >"$1"
	elif [[ -f $GEN ]]; then
		python3 "$GEN" jsonl "$1" --mb "$SIZE_MIB" >/dev/null
	else
		echo "history.sh: no JSONL corpus: give --data DIR (with v1.jsonl) or --gen gen_corpus.py" >&2
		exit 2
	fi
}
make_random() { head -c $((SIZE_MIB << 20)) /dev/urandom >"$1"; }
if want checkout; then
	checkout_case jsonl make_jsonl
	checkout_case random make_random
fi
