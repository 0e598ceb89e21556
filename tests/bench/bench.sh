#!/usr/bin/env bash
# Benchmark harness for the core performance targets of lmdata (issue 2).
#
#   tests/bench/bench.sh --lmdata build/src/cli/lmdata [--data DIR] [--work DIR]
#                        [--gen PATH] [--reps N] [--json FILE] [--keep]
#                        [--only NAME...]
#
# Every measurement runs in the same invocation, interleaved with its
# baseline, so the ratios are meaningful on a noisy machine.  See README.md
# in this folder for what each line measures.  Exit status: 0 when every
# command succeeded (even if targets are missed: this is a measurement, not
# a test), 1 when a command failed or produced a wrong result, 2 on usage
# errors.
set -Eeuo pipefail
export LC_ALL=C

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SELF_DIR/../.." && pwd)

NAMES="add_v1 store_v1 fsck_v1 checkout_v1 growth_v2 add_tree status_tree readd_tree checkout_tree"

usage() {
	cat <<EOF
usage: $0 --lmdata PATH [options]      (or: $0 PATH [options])

  --lmdata PATH   the lmdata executable to measure (required)
  --data DIR      cache of generated corpora (default /work/benchdata);
                  v1.jsonl, v2.jsonl and tree/ are reused when present
  --gen PATH      gen_corpus.py (default \$REPO/../shared/bench/gen_corpus.py)
  --work DIR      parent of the scratch directory (default \$TMPDIR or /tmp);
                  the scratch directory is removed afterwards
  --keep          keep the scratch directory
  --reps N        repetitions of the timed commands (default 3; the
                  sub-second status commands use max(N,7)); medians are reported
  --json FILE     also write the results as JSON
  --cmd-timeout S kill a measured command after S seconds (default 600) and
                  report it as a failure (a hang is a failure, not a time)
  --only NAME...  run only these measurements (prerequisites run untimed):
                  $NAMES
                  groups: v1 (the first five), tree (the last four)
EOF
}

LMDATA=
DATA=/work/benchdata
GEN=$REPO_ROOT/../shared/bench/gen_corpus.py
WORK_PARENT=${TMPDIR:-/tmp}
KEEP=0
REPS=3
JSON=
ONLY=()
CMD_TIMEOUT=600

while (($#)); do
	case $1 in
	--lmdata) LMDATA=${2:?--lmdata needs a path}; shift 2 ;;
	--lmdata=*) LMDATA=${1#*=}; shift ;;
	--data) DATA=${2:?--data needs a directory}; shift 2 ;;
	--data=*) DATA=${1#*=}; shift ;;
	--gen) GEN=${2:?--gen needs a path}; shift 2 ;;
	--gen=*) GEN=${1#*=}; shift ;;
	--work) WORK_PARENT=${2:?--work needs a directory}; shift 2 ;;
	--work=*) WORK_PARENT=${1#*=}; shift ;;
	--keep) KEEP=1; shift ;;
	--reps) REPS=${2:?--reps needs a number}; shift 2 ;;
	--reps=*) REPS=${1#*=}; shift ;;
	--json) JSON=${2:?--json needs a file}; shift 2 ;;
	--json=*) JSON=${1#*=}; shift ;;
	--cmd-timeout) CMD_TIMEOUT=${2:?--cmd-timeout needs seconds}; shift 2 ;;
	--cmd-timeout=*) CMD_TIMEOUT=${1#*=}; shift ;;
	--only)
		shift
		while (($#)) && [[ $1 != --* ]]; do
			IFS=, read -ra parts <<<"$1"
			ONLY+=("${parts[@]}")
			shift
		done ;;
	--only=*) IFS=, read -ra parts <<<"${1#*=}"; ONLY+=("${parts[@]}"); shift ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "bench.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	*)
		if [[ -z $LMDATA ]]; then LMDATA=$1; shift
		else echo "bench.sh: unexpected argument '$1'" >&2; exit 2; fi ;;
	esac
done

[[ -n $LMDATA ]] || { usage >&2; exit 2; }
[[ $REPS =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: --reps must be a positive integer" >&2; exit 2; }
[[ $CMD_TIMEOUT =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: --cmd-timeout must be a positive integer" >&2; exit 2; }
SREPS=$(( REPS > 7 ? REPS : 7 ))

# Expand groups and validate names.
sel=()
for n in ${ONLY[@]+"${ONLY[@]}"}; do
	case $n in
	v1) sel+=(add_v1 store_v1 fsck_v1 checkout_v1 growth_v2) ;;
	tree) sel+=(add_tree status_tree readd_tree checkout_tree) ;;
	*)
		[[ " $NAMES " == *" $n "* ]] || { echo "bench.sh: unknown measurement '$n' (known: $NAMES v1 tree)" >&2; exit 2; }
		sel+=("$n") ;;
	esac
done
want() {
	((${#sel[@]} == 0)) && return 0
	local n
	for n in "${sel[@]}"; do [[ $n == "$1" ]] && return 0; done
	return 1
}
want_any() {
	local n
	for n in "$@"; do want "$n" && return 0; done
	return 1
}

# ---------------------------------------------------------------- helpers

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

WORK=
ROWS=()        # name|lmdata|baseline|ratio|target|status|unit|note
FAILED=

# Print what we have, write JSON, exit.
finish() {
	local rc=$1
	[[ -n ${LOAD0:-} ]] && info_row loadavg "$LOAD0" "$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo -)" "-" "" \
		"1-min load average at start / end ($(nproc) CPUs): above ~0.5 the times are suspect"
	print_table
	[[ -n $JSON ]] && write_json "$rc"
	exit "$rc"
}

die() {
	# In a command substitution: let the parent shell report it.
	if [[ $BASHPID != "$$" ]]; then printf '[bench] %s\n' "$*" >&2; exit 1; fi
	trap - ERR
	FAILED="$*"
	log "FAILED: $*"
	finish 1
}

cleanup() {
	if [[ -n $WORK && -d $WORK ]]; then
		if ((KEEP)); then log "scratch directory kept: $WORK"
		else rm -rf -- "$WORK"; fi
	fi
}
trap cleanup EXIT
trap 'die "internal error at line $LINENO: $BASH_COMMAND"' ERR
trap 'FAILED="interrupted"; exit 130' INT TERM

# Seconds since the epoch with microseconds, without forking.
now() { printf '%s' "$EPOCHREALTIME"; }

# measure NAME CMD...: run CMD (in the current directory) under
# /usr/bin/time; sets T (wall seconds) and RSS (peak KiB).  stdout goes to
# $MOUT when set (e.g. /dev/null for zstd -c), otherwise to a log file.
# A non-zero exit is a failure of the whole benchmark.
MEASURE_SEQ=0
measure() {
	local name=$1; shift
	MEASURE_SEQ=$((MEASURE_SEQ + 1))
	local lg="$WORK/logs/$(printf %03d $MEASURE_SEQ)-$name"
	local out=${MOUT:-$lg.out}
	local t0 t1 rc=0
	t0=$EPOCHREALTIME
	# timeout(1) sits between time(1) and the command: GNU time still
	# reports the command's peak RSS (wait4 folds in reaped children).
	/usr/bin/time -f %M -o "$lg.rss" timeout -k 10 "$CMD_TIMEOUT" "$@" >"$out" 2>"$lg.err" || rc=$?
	t1=$EPOCHREALTIME
	if ((rc != 0)); then
		log "output of '$*' (in $PWD):"
		tail -n 20 "$lg.err" >&2 || true
		[[ $out == "$lg.out" ]] && tail -n 20 "$lg.out" >&2
		((rc == 124 || rc == 137)) && die "$name: '$*' did not finish within $CMD_TIMEOUT s (hung?)"
		die "$name: '$*' exited with status $rc"
	fi
	T=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
	RSS=$(tail -n 1 "$lg.rss")
	[[ $RSS =~ ^[0-9]+$ ]] || RSS=0
	log "  $name: $(printf '%.3f' "$T") s, peak RSS $((RSS / 1024)) MiB"
}

# Run lmdata with the options every measurement uses.
lmd() { "${LMD[@]}" "$@"; }

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.4f", v[(NR + 1) / 2]; else printf "%.4f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -n 1; }

# Apparent size in bytes of all files under a directory.
bytes_of() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }'; }

# Pull files into the page cache.
warm_file() { cat -- "$@" >/dev/null; }
warm_tree() { find "$@" -type f -print0 | xargs -0r cat -- >/dev/null; }

# Let writeback of the previous step finish so it does not bleed into the
# next timed command.  Never inside a timed region.
settle() { sync; }

# Digest of a directory tree: relative paths and contents of all files.
tree_digest() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0r sha256sum | sha256sum | cut -d' ' -f1); }

new_git_repo() {
	mkdir -p "$1"
	git -C "$1" init -q
}

# row NAME VALUE BASELINE RATIO TARGET STATUS UNIT NOTE
row() { ROWS+=("$1|$2|$3|$4|$5|$6|$7|${8:-}"); }

# ratio_row NAME VALUE BASE MAXRATIO UNIT NOTE: ratio target
ratio_row() {
	local r st
	r=$(awk -v a="$2" -v b="$3" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "inf" }')
	st=$(awk -v r="$r" -v m="$4" 'BEGIN { print (r != "inf" && r + 0 <= m + 0) ? "PASS" : "MISS" }')
	row "$1" "$2" "$3" "$r" "<= ${4}x" "$st" "$5" "${6:-}"
}
# abs_row NAME VALUE MAX UNIT NOTE: absolute target
abs_row() {
	local st
	st=$(awk -v v="$2" -v m="$3" 'BEGIN { print (v + 0 <= m + 0) ? "PASS" : "MISS" }')
	row "$1" "$2" "-" "-" "<= $3 $4" "$st" "$4" "${5:-}"
}
info_row() { row "$1" "$2" "${3:--}" "${4:--}" "-" "info" "${5:-}" "${6:-}"; }

RSS_ROWS=()   # name|kib
note_rss() { RSS_ROWS+=("$1|$2"); }

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

print_table() {
	local r
	for r in "${RSS_ROWS[@]+"${RSS_ROWS[@]}"}"; do
		local n=${r%%|*} k=${r#*|}
		local m; m=$(awk -v k="$k" 'BEGIN { printf "%.1f", k / 1024 }')
		abs_row "rss_$n" "$m" 64 MiB "peak RSS of lmdata in $n (max over repetitions)"
	done
	RSS_ROWS=()
	echo
	printf '%-18s %10s %10s %8s %10s %-6s %-4s %s\n' name lmdata baseline ratio target result unit notes
	printf '%-18s %10s %10s %8s %10s %-6s %-4s %s\n' ------------------ ---------- ---------- -------- ---------- ------ ---- -----
	for r in "${ROWS[@]+"${ROWS[@]}"}"; do
		IFS='|' read -r n v b ra t s u no <<<"$r"
		printf '%-18s %10s %10s %8s %10s %-6s %-4s %s\n' "$n" "$v" "$b" "$ra" "$t" "$s" "$u" "$no"
	done
	if [[ -n $FAILED ]]; then echo; echo "FAILED: $FAILED"; fi
	echo
}

write_json() {
	local rc=$1
	printf '%s\n' "${ROWS[@]+"${ROWS[@]}"}" | python3 -c "$PY_JSON" "$JSON" "$rc" "$FAILED" "$LMDATA" "$REPS" "$(uname -srm)" "$(nproc)"
}
read -r -d '' PY_JSON <<'EOF' || true
import json, sys, datetime
out, rc, failed, lmdata, reps, uname, ncpu = sys.argv[1:8]
def num(x):
    try:
        return float(x)
    except ValueError:
        return None if x in ("-", "") else x
rows = []
for line in sys.stdin.read().splitlines():
    if not line:
        continue
    n, v, b, r, t, s, u, note = (line.split("|") + [""] * 8)[:8]
    pct = r.endswith("%")
    ratio = num(r[:-1] if pct else r)
    rows.append({"name": n, "lmdata": num(v), "baseline": num(b), "ratio": ratio,
                 "ratio_unit": "%" if pct else ("x" if isinstance(ratio, float) else None),
                 "target": None if t == "-" else t, "result": s, "unit": u, "note": note})
doc = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
       "lmdata": lmdata, "reps": int(reps), "machine": {"uname": uname, "cpus": int(ncpu)},
       "exit_status": int(rc), "failed": failed or None, "rows": rows}
with open(out, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
EOF

# ---------------------------------------------------------------- checks

[[ -x $LMDATA && -f $LMDATA ]] || { echo "bench.sh: lmdata executable '$LMDATA' not found" >&2; exit 2; }
LMDATA=$(cd "$(dirname "$LMDATA")" && pwd)/$(basename "$LMDATA")
LMD=("$LMDATA" --no-progress)
[[ -x /usr/bin/time ]] || { echo "bench.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }
for p in zstd git python3 sha256sum timeout; do
	command -v "$p" >/dev/null || { echo "bench.sh: '$p' is missing" >&2; exit 2; }
done
[[ -n $JSON ]] && JSON=$(cd "$(dirname "$JSON")" && pwd)/$(basename "$JSON")

export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost
export GIT_CONFIG_NOSYSTEM=1

# ---------------------------------------------------------------- data

need_v1=0; need_tree=0
want_any add_v1 store_v1 fsck_v1 checkout_v1 growth_v2 && need_v1=1
want_any add_tree status_tree readd_tree checkout_tree && need_tree=1

gen() {
	[[ -f $GEN ]] || die "data missing in $DATA and generator '$GEN' not found (use --gen)"
	log "generating: gen_corpus.py $*"
	python3 "$GEN" "$@" >&2 || die "gen_corpus.py $* failed"
}
mkdir -p "$DATA"
if ((need_v1)); then
	if [[ ! -f $DATA/v1.jsonl ]]; then
		gen jsonl "$DATA/v1.jsonl.tmp" --mb 512 && mv "$DATA/v1.jsonl.tmp" "$DATA/v1.jsonl"
		rm -f "$DATA/v2.jsonl"
	fi
	if want growth_v2 && [[ ! -f $DATA/v2.jsonl ]]; then
		gen edit "$DATA/v1.jsonl" "$DATA/v2.jsonl.tmp" && mv "$DATA/v2.jsonl.tmp" "$DATA/v2.jsonl"
	fi
fi
if ((need_tree)) && [[ ! -d $DATA/tree ]]; then
	rm -rf "$DATA/tree.tmp"
	gen tree "$DATA/tree.tmp" --files 20000 && mv "$DATA/tree.tmp" "$DATA/tree"
fi

mkdir -p "$WORK_PARENT"
WORK=$(mktemp -d "$WORK_PARENT/lmdata-bench.XXXXXX")
mkdir -p "$WORK/logs"
LOAD0=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo -)
log "lmdata: $LMDATA"
log "scratch: $WORK   data: $DATA   reps: $REPS"

# ---------------------------------------------------------------- v1 / v2

if ((need_v1)); then
	log "v1: copying v1.jsonl into the scratch directory"
	cp "$DATA/v1.jsonl" "$WORK/v1.jsonl"
	V1_SHA=$(sha256sum "$WORK/v1.jsonl" | cut -d' ' -f1)
	V1_SIZE=$(stat -c %s "$WORK/v1.jsonl")
	settle

	# 1. lmdata add v1.jsonl into a cold store vs zstd -1 -T2.
	reps=1; want add_v1 && reps=$REPS
	t_add=(); t_z=(); r_add=()
	for ((i = 1; i <= reps; i++)); do
		log "add_v1: repetition $i/$reps"
		cd "$WORK"
		warm_file v1.jsonl; settle
		if want add_v1; then
			MOUT=/dev/null measure zstd1 zstd -1 -T2 -q -c v1.jsonl; t_z+=("$T")
		fi
		repo=$WORK/v1repo.$i
		new_git_repo "$repo"
		mv "$WORK/v1.jsonl" "$repo/v1.jsonl"
		cd "$repo"
		lmd init >"$WORK/logs/init-v1.$i" 2>&1 || die "lmdata init (v1 repo) failed: $(cat "$WORK/logs/init-v1.$i")"
		warm_file v1.jsonl; settle
		measure add_v1 "${LMD[@]}" add v1.jsonl; t_add+=("$T"); r_add+=("$RSS")
		if ((i < reps)); then
			mv "$repo/v1.jsonl" "$WORK/v1.jsonl"
			cd "$WORK"; rm -rf "$repo"
		fi
	done
	V1REPO=$repo
	cd "$V1REPO"
	git commit -q -m "add v1" || die "add_v1: git commit of the manifest failed"
	[[ -d .lmdata/cache ]] || die "add_v1: no .lmdata/cache in the repository after lmdata add"
	if want add_v1; then
		ratio_row add_v1 "$(median "${t_add[@]}")" "$(median "${t_z[@]}")" 1.15 s "baseline zstd -1 -T2 -c v1.jsonl >/dev/null"
		note_rss add_v1 "$(maxof "${r_add[@]}")"
	fi

	# 7. store size after v1 vs zstd -3 / zstd -1 (and pack count).
	S1=$(bytes_of .lmdata/cache)
	if want store_v1 || want checkout_v1; then
		log "store_v1: compressing reference copies"
		zstd -1 -q -c v1.jsonl >"$WORK/v1.jsonl.zst"
	fi
	if want store_v1; then
		Z3=$(zstd -3 -q -c v1.jsonl | wc -c)
		Z1=$(stat -c %s "$WORK/v1.jsonl.zst")
		NPACKS=$(find .lmdata/cache -type f -name '*.pack' | wc -l)
		ratio_row store_v1 "$(mib "$S1")" "$(mib "$Z3")" 1.10 MiB "store bytes after v1; baseline zstd -3 -c v1.jsonl | wc -c"
		info_row store_v1_vs_zstd1 "$(mib "$S1")" "$(mib "$Z1")" \
			"$(awk -v a="$S1" -v b="$Z1" 'BEGIN { printf "%.3f", a / b }')" MiB "store bytes after v1; baseline zstd -1"
		info_row packs_v1 "$NPACKS" "-" "-" "" "pack files in .lmdata/cache after v1"
		info_row v1_size "$(mib "$V1_SIZE")" "-" "-" MiB "raw size of v1.jsonl"
	fi

	# fsck on the v1 store (informational).
	if want fsck_v1; then
		log "fsck_v1"
		warm_tree .lmdata/cache; settle
		measure fsck_v1 "${LMD[@]}" fsck
		info_row fsck_v1 "$T" "-" "-" s "lmdata fsck on the v1 store"
		note_rss fsck_v1 "$RSS"
	fi

	# 5a. checkout v1 after rm vs zstd -d of a zstd -1 copy.
	if want checkout_v1; then
		t_co=(); t_zd=(); r_co=()
		for ((i = 1; i <= REPS; i++)); do
			log "checkout_v1: repetition $i/$REPS"
			cd "$WORK"
			rm -f "$WORK/x"
			warm_file v1.jsonl.zst; settle
			measure zstd_d zstd -d -q -f v1.jsonl.zst -o "$WORK/x"; t_zd+=("$T")
			rm -f "$WORK/x"
			cd "$V1REPO"
			rm -f v1.jsonl
			warm_tree .lmdata/cache; settle
			measure checkout_v1 "${LMD[@]}" checkout v1.jsonl; t_co+=("$T"); r_co+=("$RSS")
			[[ -f v1.jsonl ]] || die "checkout_v1: v1.jsonl does not exist after lmdata checkout"
			sha=$(sha256sum v1.jsonl | cut -d' ' -f1)
			[[ $sha == "$V1_SHA" ]] || die "checkout_v1: sha256 of the checked-out v1.jsonl is $sha, expected $V1_SHA"
		done
		ratio_row checkout_v1 "$(median "${t_co[@]}")" "$(median "${t_zd[@]}")" 1.0 s "after rm v1.jsonl; baseline zstd -d of a zstd -1 copy"
		note_rss checkout_v1 "$(maxof "${r_co[@]}")"
	fi
	rm -f "$WORK/v1.jsonl.zst"

	# 2. v2 over v1 at the same path: store growth.
	if want growth_v2; then
		log "growth_v2: copying v2.jsonl over v1.jsonl"
		cd "$V1REPO"
		[[ -f v1.jsonl ]] || die "growth_v2: v1.jsonl missing in the v1 repository"
		cp "$DATA/v2.jsonl" v1.jsonl
		V2_SHA=$(sha256sum v1.jsonl | cut -d' ' -f1)
		warm_file v1.jsonl; settle
		measure add_v2 "${LMD[@]}" add v1.jsonl
		t_v2=$T
		S2=$(bytes_of .lmdata/cache)
		G=$((S2 - S1))
		pct=$(awk -v g="$G" -v s="$S1" 'BEGIN { printf "%.1f", 100 * g / s }')
		st=$(awk -v p="$pct" 'BEGIN { print (p + 0 <= 20) ? "PASS" : "MISS" }')
		row growth_v2 "$(mib "$G")" "$(mib "$S1")" "${pct}%" "<= 20%" "$st" MiB "v2 over v1: store growth; baseline store after v1"
		info_row add_v2 "$t_v2" "-" "-" s "lmdata add of v2 over v1"
		note_rss add_v2 "$RSS"
		# The edit must be visible: the new version has to be restorable.
		rm -f v1.jsonl
		lmd checkout v1.jsonl >"$WORK/logs/checkout-v2" 2>&1 || die "growth_v2: lmdata checkout of v2 failed: $(tail -n 5 "$WORK/logs/checkout-v2")"
		sha=$(sha256sum v1.jsonl | cut -d' ' -f1)
		[[ $sha == "$V2_SHA" ]] || die "growth_v2: checkout after adding v2 gave sha256 $sha, expected $V2_SHA"
	fi
	cd "$WORK"
	rm -rf "$V1REPO"
fi

# ---------------------------------------------------------------- tree

if ((need_tree)); then
	GS=
	log "tree: copying tree into the scratch directory"
	cp -r "$DATA/tree" "$WORK/tree"
	TREE_DIGEST=$(tree_digest "$WORK/tree")
	TREE_FILES=$(find "$WORK/tree" -type f | wc -l)

	need_git=0
	want_any status_tree readd_tree checkout_tree && need_git=1
	if ((need_git)); then
		log "tree: plain git repository with the tree committed (baseline)"
		PLAIN=$WORK/plain
		new_git_repo "$PLAIN"
		cp -r "$DATA/tree" "$PLAIN/tree"
		git -C "$PLAIN" add -A
		git -C "$PLAIN" commit -q -m tree
	fi
	settle

	# 3. lmdata add tree into a fresh repo.
	reps=1; want add_tree && reps=$REPS
	t_at=(); r_at=()
	for ((i = 1; i <= reps; i++)); do
		log "add_tree: repetition $i/$reps"
		repo=$WORK/treerepo.$i
		new_git_repo "$repo"
		mv "$WORK/tree" "$repo/tree"
		cd "$repo"
		lmd init >"$WORK/logs/init-tree.$i" 2>&1 || die "lmdata init (tree repo) failed: $(cat "$WORK/logs/init-tree.$i")"
		warm_tree tree; settle
		measure add_tree "${LMD[@]}" add tree; t_at+=("$T"); r_at+=("$RSS")
		n=$(find tree -type f | wc -l)
		((n == TREE_FILES)) || die "add_tree: lmdata add changed the number of files under tree/ ($TREE_FILES -> $n)"
		if ((i < reps)); then
			mv "$repo/tree" "$WORK/tree"
			cd "$WORK"; rm -rf "$repo"
		fi
	done
	TREEREPO=$repo
	# lmdata add stages PATH.lmd and .gitignore; commit them so that status
	# has truly nothing to report (a staged manifest counts as uncommitted).
	git -C "$TREEREPO" commit -q -m "add tree" || die "add_tree: git commit of the manifest failed"
	if want add_tree; then
		abs_row add_tree "$(median "${t_at[@]}")" 1.5 s "20k files into a fresh repo; no baseline"
		note_rss add_tree "$(maxof "${r_at[@]}")"
	fi

	# 4. status / re-add with nothing changed vs git status.
	if want_any status_tree readd_tree; then
		cd "$PLAIN"; git status >/dev/null          # warm-up
		warm_tree "$TREEREPO/tree"
		cd "$TREEREPO"; lmd status >/dev/null 2>&1 || true   # warm-up (exit checked below)
		t_gs=(); t_st=(); r_st=(); t_ra=(); r_ra=()
		for ((i = 1; i <= SREPS; i++)); do
			cd "$PLAIN"
			measure git_status git status; t_gs+=("$T")
			cd "$TREEREPO"
			if want status_tree; then
				measure status_tree "${LMD[@]}" status; t_st+=("$T"); r_st+=("$RSS")
			fi
		done
		GS=$(median "${t_gs[@]}")
		if want status_tree; then
			ratio_row status_tree "$(median "${t_st[@]}")" "$GS" 2.0 s "nothing changed; baseline git status, 20k files committed"
			note_rss status_tree "$(maxof "${r_st[@]}")"
		fi
		if want readd_tree; then
			for ((i = 1; i <= REPS; i++)); do
				log "readd_tree: repetition $i/$REPS"
				cd "$PLAIN"
				measure git_status git status; t_gs+=("$T")
				cd "$TREEREPO"
				measure readd_tree "${LMD[@]}" add tree; t_ra+=("$T"); r_ra+=("$RSS")
			done
			GS=$(median "${t_gs[@]}")
			ratio_row readd_tree "$(median "${t_ra[@]}")" "$GS" 2.0 s "lmdata add of the unchanged tree; baseline git status"
			note_rss readd_tree "$(maxof "${r_ra[@]}")"
		fi
		info_row git_status "$GS" "-" "-" s "git status, 20k files committed (median of all runs)"
	fi

	# 5b. checkout of the whole tree after rm -rf vs cp -r.
	if want checkout_tree; then
		t_ct=(); r_ct=(); t_cp=()
		for ((i = 1; i <= REPS; i++)); do
			log "checkout_tree: repetition $i/$REPS"
			# Both deletions first, then each timed command right after a
			# sync; the order alternates so neither side always follows
			# the other's writeback.
			rm -rf "$WORK/copy" "$TREEREPO/tree"
			for side in $( ((i % 2)) && echo "cp co" || echo "co cp"); do
				if [[ $side == cp ]]; then
					cd "$WORK"
					warm_tree "$PLAIN/tree"; settle
					measure cp_r cp -r "$PLAIN/tree" "$WORK/copy"; t_cp+=("$T")
				else
					cd "$TREEREPO"
					warm_tree .lmdata/cache; settle
					measure checkout_tree "${LMD[@]}" checkout tree; t_ct+=("$T"); r_ct+=("$RSS")
					[[ -d tree ]] || die "checkout_tree: tree/ does not exist after lmdata checkout"
					d=$(tree_digest tree)
					[[ $d == "$TREE_DIGEST" ]] || die "checkout_tree: the checked-out tree differs from the original (paths or contents)"
				fi
			done
		done
		rm -rf "$WORK/copy"
		cd "$TREEREPO"
		ratio_row checkout_tree "$(median "${t_ct[@]}")" "$(median "${t_cp[@]}")" 1.2 s "after rm -rf tree; baseline cp -r to a fresh destination"
		note_rss checkout_tree "$(maxof "${r_ct[@]}")"
		# Informational: status right after a checkout may re-hash the
		# restored files once (they are racily clean), but never again.
		sleep 1
		measure status_after_co1 "${LMD[@]}" status
		t_s1=$T
		measure status_after_co2 "${LMD[@]}" status
		info_row status_after_co "$T" "${GS:--}" \
			"$( [[ -n ${GS:-} ]] && awk -v a="$T" -v b="$GS" 'BEGIN { printf "%.3f", a / b }' || echo -)" \
			s "2nd lmdata status after checkout_tree (1st: $(printf '%.3f' "$t_s1") s); baseline git status"
	fi
	cd "$WORK"
fi

cd /
finish 0
