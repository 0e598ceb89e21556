#!/usr/bin/env bash
# How lmdata scales with the number of packs in its store.  Two stores hold
# the same SIZE MiB of chat JSONL (default 256: the first 256 MiB of
# bench.sh's v1.jsonl):
#
#   few    added by the real binary: default pack target (32 MiB), ~3 packs
#   many   added by lmdata-test-hooks with LMDATA_TEST_PACK_TARGET=65536: a
#          pack per block (~1 MiB of raw data), ~SIZE packs
#
# and in each the real binary is timed (medians; few and many take turns,
# with a sync before every timed command):
#
#   add_new    add of 64 MiB of new JSONL (the slice of v1.jsonl at offset
#              SIZE MiB): every chunk is looked up in every pack; on a copy
#              of the store (hard links), a fresh one per run
#   checkout   checkout of the SIZE MiB file after rm (sha256 checked)
#   status     status with nothing changed
#   fsck       fsck of the whole store
#   gc         gc --workspace with nothing to delete (grace 0), last, on a
#              copy: once gc merges small packs, the many store's packs are
#              rewritten; the pack counts before and after are reported
#
# plus each command's peak RSS (GNU time %M, max over runs), and a run of
# the many store's commands (status, ls, fsck, cat, checkout, add, gc)
# under 'ulimit -n N' (default 256), each reported as pass or fail.
#
#   tests/bench/packs.sh --lmdata build-rel/src/cli/lmdata [--hooks PATH]
#       [--data DIR] [--gen gen_corpus.py] [--size MiB] [--many-target BYTES]
#       [--ulimit N] [--reps N] [--json FILE] [--work DIR] [--keep]
#       [--cmd-timeout S]
#
#   --hooks: the lmdata-test-hooks binary (default: tests/e2e/lmdata-test-hooks
#   in the build directory --lmdata is in).  --data: where bench.sh keeps its
#   corpora (default /work/benchdata); its v1.jsonl (512 MiB) is generated
#   there by gen_corpus.py (--gen, default ../shared/bench/gen_corpus.py next
#   to the repository) when missing, as bench.sh does.  SIZE + 64 MiB are
#   needed: a bigger --size makes its own corpus in the scratch directory
#   (~40 s per 512 MiB).  A pack holds at least one block (~1 MiB of raw
#   data), so the many store has about SIZE packs: --size 2048 for ~2000.
#
# A measurement, not a test, and not run by the test suite.  Exit status: 0
# when every timed command succeeded (the ulimit row is a result: its
# failures are reported, not fatal), 1 when a timed command failed or gave
# wrong bytes, 2 on usage errors.
set -Eeuo pipefail
export LC_ALL=C

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SELF_DIR/../.." && pwd)

LMDATA= HOOKS= DATA=/work/benchdata GEN=$REPO_ROOT/../shared/bench/gen_corpus.py
SIZE_MIB=256 NEW_MIB=64 MANY_TARGET=65536 ULIMIT=256 REPS=3 JSON=
WORK_PARENT=${TMPDIR:-/tmp} KEEP=0 CMD_TIMEOUT=900

usage() { sed -n '2,44p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
	case $1 in
	--lmdata) LMDATA=${2:?--lmdata needs a path}; shift 2 ;;
	--hooks) HOOKS=${2:?--hooks needs a path}; shift 2 ;;
	--data) DATA=${2:?--data needs a directory}; shift 2 ;;
	--gen) GEN=${2:?--gen needs a path}; shift 2 ;;
	--size) SIZE_MIB=${2:?--size needs MiB}; shift 2 ;;
	--many-target) MANY_TARGET=${2:?--many-target needs bytes}; shift 2 ;;
	--ulimit) ULIMIT=${2:?--ulimit needs a number}; shift 2 ;;
	--reps) REPS=${2:?--reps needs a number}; shift 2 ;;
	--json) JSON=${2:?--json needs a file}; shift 2 ;;
	--work) WORK_PARENT=${2:?--work needs a directory}; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--cmd-timeout) CMD_TIMEOUT=${2:?--cmd-timeout needs seconds}; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "packs.sh: unknown option '$1'" >&2; exit 2 ;;
	*) if [[ -z $LMDATA ]]; then LMDATA=$1; shift; else echo "packs.sh: unexpected '$1'" >&2; exit 2; fi ;;
	esac
done
for v in SIZE_MIB MANY_TARGET ULIMIT REPS CMD_TIMEOUT; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "packs.sh: ${v,,} must be a positive integer" >&2; exit 2; }
done
[[ -n $LMDATA && -x $LMDATA && -f $LMDATA ]] || { echo "packs.sh: --lmdata PATH (the lmdata executable) is required" >&2; exit 2; }
LMDATA=$(cd "$(dirname "$LMDATA")" && pwd)/$(basename "$LMDATA")
if [[ -z $HOOKS ]]; then
	# build/src/cli/lmdata -> build/tests/e2e/lmdata-test-hooks
	d=$(dirname "$LMDATA")
	for _ in 1 2 3 4; do
		[[ -x $d/tests/e2e/lmdata-test-hooks ]] && { HOOKS=$d/tests/e2e/lmdata-test-hooks; break; }
		d=$(dirname "$d")
	done
	[[ -n $HOOKS ]] || { echo "packs.sh: no lmdata-test-hooks next to $LMDATA: give --hooks PATH (built with -Dtests=true)" >&2; exit 2; }
fi
[[ -x $HOOKS && -f $HOOKS ]] || { echo "packs.sh: --hooks '$HOOKS' is not an executable" >&2; exit 2; }
HOOKS=$(cd "$(dirname "$HOOKS")" && pwd)/$(basename "$HOOKS")
[[ -x /usr/bin/time ]] || { echo "packs.sh: needs GNU time (/usr/bin/time)" >&2; exit 2; }
for p in git python3 sha256sum timeout; do
	command -v "$p" >/dev/null || { echo "packs.sh: '$p' is missing" >&2; exit 2; }
done
[[ -n $JSON ]] && JSON=$(cd "$(dirname "$JSON")" && pwd)/$(basename "$JSON")
SREPS=$((REPS > 7 ? REPS : 7))

export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost \
	GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost
unset LMDATA_GC_GRACE_SECONDS LMDATA_TEST_PACK_TARGET LMDATA_TEST_PART_CHUNKS

# ---------------------------------------------------------------- helpers

log() { printf '[packs %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
W=
ROWS=()   # name|few|many|ratio|unit|note
FAILED=
finish() {
	local rc=$1
	print_table
	[[ -n $JSON ]] && write_json "$rc"
	exit "$rc"
}
die() {
	if [[ $BASHPID != "$$" ]]; then printf '[packs] %s\n' "$*" >&2; exit 1; fi
	trap - ERR
	FAILED="$*"
	log "FAILED: $*"
	finish 1
}
cleanup() {
	[[ -n $W && -d $W ]] || return 0
	if ((KEEP)); then log "scratch directory kept: $W"; else chmod -R u+w "$W" 2>/dev/null; rm -rf -- "$W"; fi
}
trap cleanup EXIT
trap 'die "internal error at line $LINENO: $BASH_COMMAND"' ERR
trap 'FAILED=interrupted; exit 130' INT TERM

# measure NAME CMD...: run CMD under GNU time in the current directory;
# sets T (wall seconds) and RSS (peak KiB).  A failure ends the benchmark.
SEQ=0
measure() {
	local name=$1 lg t0 t1 rc=0
	shift
	SEQ=$((SEQ + 1))
	lg=$W/logs/$(printf %03d $SEQ)-$name
	t0=$EPOCHREALTIME
	/usr/bin/time -f %M -o "$lg.rss" timeout -k 10 "$CMD_TIMEOUT" "$@" >"$lg.out" 2>"$lg.err" || rc=$?
	t1=$EPOCHREALTIME
	if ((rc != 0)); then
		log "output of '$*' (in $PWD):"
		tail -n 20 "$lg.err" >&2 || true
		((rc == 124 || rc == 137)) && die "$name: '$*' did not finish within $CMD_TIMEOUT s"
		die "$name: '$*' exited with status $rc"
	fi
	T=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
	RSS=$(tail -n 1 "$lg.rss")
	[[ $RSS =~ ^[0-9]+$ ]] || RSS=0
}
LMD=("$LMDATA" --no-progress)
lmd() { "${LMD[@]}" "$@"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.4f", v[(NR + 1) / 2]; else printf "%.4f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
npacks() { find "$1/.lmdata/cache/packs" -name '*.pack' | wc -l; }
pack_set() { find "$1/.lmdata/cache/packs" -name '*.pack' -printf '%f\n' | sort; }
store_mib() { find "$1/.lmdata/cache" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.1f", s / 1048576 }'; }
warm_store() { find "$1/.lmdata/cache" -type f -print0 | xargs -0r cat -- >/dev/null; }
sha() { sha256sum <"$1" | cut -d' ' -f1; }

# row NAME FEW MANY UNIT NOTE (ratio many/few computed)
row() { ROWS+=("$1|$2|$3|$(ratio "$3" "$2")|$4|${5:-}"); }
text_row() { ROWS+=("$1|$2|$3|-|${4:-}|${5:-}"); }

print_table() {
	local r n f m ra u no
	echo
	printf '%-16s %12s %12s %8s %-4s %s\n' name few many many/few unit notes
	printf '%-16s %12s %12s %8s %-4s %s\n' ---------------- ------------ ------------ -------- ---- -----
	for r in "${ROWS[@]+"${ROWS[@]}"}"; do
		IFS='|' read -r n f m ra u no <<<"$r"
		printf '%-16s %12s %12s %8s %-4s %s\n' "$n" "$f" "$m" "$ra" "$u" "$no"
	done
	if [[ -n $FAILED ]]; then echo; echo "FAILED: $FAILED"; fi
	echo
}
write_json() {
	printf '%s\n' "${ROWS[@]+"${ROWS[@]}"}" | python3 -c '
import json, sys, datetime
out, rc, failed, lmdata, hooks, reps, size, target, uname, ncpu = sys.argv[1:11]
def num(x):
    try:
        return float(x)
    except ValueError:
        return None if x in ("-", "") else x
rows = []
for line in sys.stdin.read().splitlines():
    if line:
        n, f, m, r, u, note = (line.split("|") + [""] * 6)[:6]
        rows.append({"name": n, "few": num(f), "many": num(m), "ratio": num(r), "unit": u or None, "note": note})
doc = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
       "lmdata": lmdata, "hooks": hooks, "reps": int(reps), "size_mib": int(size), "many_pack_target": int(target),
       "machine": {"uname": uname, "cpus": int(ncpu)}, "exit_status": int(rc), "failed": failed or None, "rows": rows}
with open(out, "w") as fh:
    json.dump(doc, fh, indent=2)
    fh.write("\n")
' "$JSON" "$1" "$FAILED" "$LMDATA" "$HOOKS" "$REPS" "$SIZE_MIB" "$MANY_TARGET" "$(uname -srm)" "$(nproc)"
}

# copy_repo SRC DST: a copy to run a writing command in.  Pack files and
# indexes are hard links (lmdata never writes a pack in place: new packs are
# new files, and gc unlinks); everything else is copied.  The data file is
# left out (add and gc do not need it; a link would change its ctime and
# make SRC's next status re-read it).
copy_repo() {
	mkdir -p "$2"
	(cd "$1" && tar --exclude=./.lmdata/cache --exclude=./data.jsonl -cf - .) | (cd "$2" && tar -xf -)
	mkdir -p "$2/.lmdata/cache"
	cp -al "$1/.lmdata/cache/." "$2/.lmdata/cache/"
}

# ---------------------------------------------------------------- data

W=$(mktemp -d "$WORK_PARENT/lmdata-bench-packs.XXXXXX")
mkdir -p "$W/logs"
need=$(((SIZE_MIB + NEW_MIB) << 20))
gen() { # gen OUT MiB
	[[ -f $GEN ]] || { echo "packs.sh: need $((need >> 20)) MiB of JSONL: no such $DATA/v1.jsonl and no generator '$GEN' (give --data or --gen)" >&2; exit 2; }
	mkdir -p "$(dirname "$1")"
	log "generating $1 ($2 MiB with gen_corpus.py)"
	python3 "$GEN" jsonl "$1.tmp" --mb "$2" >&2 && mv "$1.tmp" "$1" || die "gen_corpus.py failed"
}
SRC=$DATA/v1.jsonl
if [[ ! -f $SRC ]]; then
	gen "$SRC" 512   # as bench.sh makes it (and will reuse it)
fi
if (($(stat -c %s "$SRC") < need)); then
	# --size bigger than the cached corpus: a bigger one, in the scratch directory.
	SRC=$W/corpus.jsonl
	gen "$SRC" $((SIZE_MIB + NEW_MIB))
fi
head -c $((SIZE_MIB << 20)) "$SRC" >"$W/data.jsonl"
dd if="$SRC" of="$W/new.jsonl" bs=1M skip="$SIZE_MIB" count="$NEW_MIB" iflag=fullblock status=none
rm -f "$W/corpus.jsonl"
WANT=$(sha "$W/data.jsonl")
LOAD0=$(cut -d' ' -f1 /proc/loadavg)
log "lmdata $LMDATA, hooks $HOOKS, $SIZE_MIB MiB + $NEW_MIB MiB new, reps $REPS, scratch $W"

# ---------------------------------------------------------------- stores

make_store() { # make_store NAME [ENV...]: a repo with data.jsonl added by CMD and committed
	local name=$1
	shift
	mkdir -p "$W/$name" && cd "$W/$name"
	git init -q . && lmd -q init && git commit -qm init
	cp "$W/data.jsonl" data.jsonl
	"$@" --no-progress -q add data.jsonl >"$W/logs/make-$name.log" 2>&1 || die "building the $name store failed: $(tail -n 5 "$W/logs/make-$name.log")"
	git commit -qm data
}
make_store few "$LMDATA"
make_store many env LMDATA_TEST_PACK_TARGET="$MANY_TARGET" "$HOOKS"
cd "$W"
P_FEW=$(npacks "$W/few") P_MANY=$(npacks "$W/many")
log "packs: few $P_FEW, many $P_MANY"
text_row packs "$P_FEW" "$P_MANY" "" "pack files holding the same $SIZE_MIB MiB (many: LMDATA_TEST_PACK_TARGET=$MANY_TARGET)"
row store "$(store_mib "$W/few")" "$(store_mib "$W/many")" MiB "bytes under .lmdata/cache"

declare -A TS RS
add_t() { TS[$1]="${TS[$1]:-} $2"; RS[$1]="${RS[$1]:-} $3"; }

# ---------------------------------------------------------------- timed
for ((i = 1; i <= REPS; i++)); do
	log "round $i of $REPS"
	for s in few many; do
		# add of new data, on a copy
		copy_repo "$W/$s" "$W/add-$s"
		ln "$W/new.jsonl" "$W/add-$s/new.jsonl"
		cd "$W/add-$s"
		warm_store . && sync
		measure "add-$s" "${LMD[@]}" add new.jsonl
		add_t "add_new_$s" "$T" "$RSS"
		cd "$W" && chmod -R u+w "$W/add-$s" && rm -rf "$W/add-$s"
	done
	for s in few many; do
		cd "$W/$s"
		rm -f data.jsonl
		warm_store . && sync
		measure "checkout-$s" "${LMD[@]}" checkout data.jsonl
		add_t "checkout_$s" "$T" "$RSS"
		[[ $(sha data.jsonl) = "$WANT" ]] || die "checkout ($s) restored wrong bytes"
	done
	for s in few many; do
		cd "$W/$s"
		warm_store . && sync
		measure "fsck-$s" "${LMD[@]}" fsck
		add_t "fsck_$s" "$T" "$RSS"
	done
done
# status: sub-second, more runs; the first one (after checkout) may re-hash
# the racily clean file, so one untimed run first.
for s in few many; do (cd "$W/$s" && lmd status >/dev/null && lmd status --check) || die "status ($s) failed or is not clean"; done
for ((i = 1; i <= SREPS; i++)); do
	for s in few many; do
		cd "$W/$s"
		measure "status-$s" "${LMD[@]}" status
		add_t "status_$s" "$T" "$RSS"
	done
done
cd "$W"
# gc last, on copies; with nothing to delete (grace 0).
GC_BEFORE= GC_AFTER=
for ((i = 1; i <= REPS; i++)); do
	for s in few many; do
		copy_repo "$W/$s" "$W/gc-$s"
		cd "$W/gc-$s"
		before=$(npacks .)
		warm_store . && sync
		measure "gc-$s" env LMDATA_GC_GRACE_SECONDS=0 "$LMDATA" --no-progress gc --workspace
		add_t "gc_$s" "$T" "$RSS"
		after=$(npacks .)
		[[ $s = many ]] && GC_BEFORE=$before GC_AFTER=$after
		[[ $s = few && $after != "$before" ]] && log "note: gc changed the few store's packs ($before -> $after)"
		if ((i == 1)); then
			measure "gc-fsck-$s" "${LMD[@]}" fsck
			rm -f data.jsonl
			measure "gc-checkout-$s" "${LMD[@]}" checkout data.jsonl
			[[ $(sha data.jsonl) = "$WANT" ]] || die "checkout after gc ($s) restored wrong bytes"
		fi
		cd "$W" && chmod -R u+w "$W/gc-$s" && rm -rf "$W/gc-$s"
	done
done

for c in add_new checkout status fsck gc; do
	# shellcheck disable=SC2086
	f=$(median ${TS[${c}_few]}) m=$(median ${TS[${c}_many]})
	note=
	case $c in
	add_new) note="add of $NEW_MIB MiB of new JSONL (copy of the store)" ;;
	checkout) note="checkout of the $SIZE_MIB MiB file after rm (sha256 checked)" ;;
	status) note="status, nothing changed ($SREPS runs)" ;;
	fsck) note="fsck of the whole store" ;;
	gc) note="gc --workspace, nothing to delete, grace 0 (copy of the store); many: $GC_BEFORE -> $GC_AFTER packs" ;;
	esac
	row "$c" "$f" "$m" s "$note"
done
for c in add_new checkout status fsck gc; do
	# shellcheck disable=SC2086
	row "rss_$c" "$(mib "$(maxof ${RS[${c}_few]})")" "$(mib "$(maxof ${RS[${c}_many]})")" MiB "peak RSS (max over runs)"
done
text_row gc_packs "$P_FEW -> $P_FEW" "$GC_BEFORE -> $GC_AFTER" "" "pack count before -> after gc (few: unchanged expected)"

# ---------------------------------------------------------------- ulimit
# The many store's commands with 'ulimit -n N': pass or fail each.
log "many store under ulimit -n $ULIMIT"
UL_RES=$W/ulimit.txt
: >"$UL_RES"
(
	set +e
	trap - ERR
	ulimit -n "$ULIMIT" || { echo "ulimit|fail|cannot set ulimit -n $ULIMIT" >>"$UL_RES"; exit 0; }
	try() { # try NAME CMD...
		local name=$1 rc
		shift
		timeout -k 10 "$CMD_TIMEOUT" "$@" >"$W/logs/ulimit-$name.out" 2>"$W/logs/ulimit-$name.err"
		rc=$?
		if ((rc == 0)); then
			echo "$name|pass|" >>"$UL_RES"
		else
			# the first error line, without paths: "exit 3: cannot open pack: too many open files"
			echo "$name|fail|exit $rc: $(grep -m1 . "$W/logs/ulimit-$name.err" |
				sed -E "s/^lmdata: (error: )?//; s/ *'[^']*'//g" | cut -c1-120)" >>"$UL_RES"
		fi
	}
	cd "$W/many"
	try status "$LMDATA" --no-progress status
	try ls "$LMDATA" --no-progress ls
	try fsck "$LMDATA" --no-progress fsck
	try cat "$LMDATA" --no-progress cat HEAD data.jsonl
	mv data.jsonl "$W/data.keep"
	try checkout "$LMDATA" --no-progress checkout data.jsonl
	if [[ -f data.jsonl && $(sha data.jsonl) != "$WANT" ]]; then
		echo "checkout-bytes|fail|wrong bytes" >>"$UL_RES"
	fi
	[[ -f data.jsonl ]] || mv "$W/data.keep" data.jsonl
	rm -f "$W/data.keep"
	copy_repo "$W/many" "$W/ul-many"
	ln "$W/new.jsonl" "$W/ul-many/new.jsonl"
	cd "$W/ul-many"
	try add "$LMDATA" --no-progress add new.jsonl
	try gc env LMDATA_GC_GRACE_SECONDS=0 "$LMDATA" --no-progress gc --workspace
	cd "$W"
	chmod -R u+w "$W/ul-many"
	rm -rf "$W/ul-many"
)
pass=0 total=0
while IFS='|' read -r n r why; do
	total=$((total + 1))
	[[ $r = pass ]] && pass=$((pass + 1))
	text_row "ulimit_$n" - "$r" "" "$why"
done <"$UL_RES"
text_row "ulimit_$ULIMIT" - "$pass/$total pass" "" "the many store ($P_MANY packs) under ulimit -n $ULIMIT: the rows above"
text_row loadavg "$LOAD0" "$(cut -d' ' -f1 /proc/loadavg)" "" "1-min load average at start / end ($(nproc) CPUs)"
finish 0
