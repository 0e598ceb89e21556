#!/usr/bin/env bash
# kill -9 at many points of a gc that merges ~120 small packs, rewrites a
# partly dead one and then rebuilds the multi-pack indexes: every time the
# store verifies clean, every file checks out with its bytes, and a gc run
# again finishes the job.  Also the same for an add whose end builds a
# multi-pack index.
. "$(dirname "$0")/lib.sh"

[ -n "${LMDATA_HOOKS:-}" ] && [ -x "$LMDATA_HOOKS" ] ||
	fail "set LMDATA_HOOKS to the lmdata-test-hooks binary (meson test does)"
case $LMDATA_HOOKS in /*) ;; *) LMDATA_HOOKS=$PWD/$LMDATA_HOOKS ;; esac
hooked() { LMDATA_TEST_PACK_TARGET=1 timeout -k 5 "$E2E_CMD_TIMEOUT" "$LMDATA_HOOKS" "$@"; }
export LMDATA_GC_GRACE_SECONDS=0

new_lmdata_repo repo
mkdir d
for i in $(seq 1 60); do
	gen_file "d/f$i" 300000 "kill-gc-$i"
	hooked -q add "d/f$i" >/dev/null 2>"$ERR_FILE" || fail "add d/f$i: $(cat "$ERR_FILE")"
done
gen_file gone 300000 gone
expect_exit 0 hooked add gone
git commit -qm data || fail "git commit failed"
expect_exit 0 lmdata rm gone
git commit -qm "rm gone" || fail "git commit failed"
rm -f gone
sums=$(cd d && sha256sum f*)
npacks=$(ls .lmdata/cache/packs/*.pack | wc -l)
[ "$npacks" -ge 100 ] || fail "expected 100+ packs, got $npacks"
ls .lmdata/cache/packs/*.midx >/dev/null 2>&1 || fail "60 adds left no multi-pack index"
cp -a .lmdata "$TMP_ROOT/store"

check_store() {   # what: after a kill
	expect_exit 0 lmdata fsck
	find d -type f -name 'f*' ! -name '*.lmd' -delete
	expect_exit 0 lmdata checkout
	expect_eq "$(cd d && sha256sum f*)" "$sums" "files after $1"
}

# Time a whole gc (the fastest of three: one slowed down by the load of
# other tests would put every kill after the end), then kill at points
# spread over that time.
took=
for i in 1 2 3; do
	rm -rf .lmdata && cp -a "$TMP_ROOT/store" .lmdata
	start=$(date +%s%N)
	expect_exit 0 lmdata gc --workspace
	t=$(( ($(date +%s%N) - start) / 1000000 ))
	[ -z "$took" ] || [ "$t" -lt "$took" ] && took=$t
done
note "gc took ${took} ms: $npacks packs -> $(ls .lmdata/cache/packs/*.pack | wc -l)"
check_store "an uninterrupted gc"
killed=0
for frac in 5 15 30 45 60 70 80 90 95 99; do
	delay=$(awk -v t="$took" -v f="$frac" 'BEGIN { printf "%.3f", t * f / 100000 }')
	# A run that finished before the kill is tried again, sooner.
	for try in 1 2 3; do
		rm -rf .lmdata && cp -a "$TMP_ROOT/store" .lmdata
		"$LMDATA" gc --workspace >/dev/null 2>&1 &
		pid=$!
		sleep "$delay"
		if kill -9 "$pid" 2>/dev/null; then
			killed=$((killed + 1))
			wait "$pid" 2>/dev/null
			break
		fi
		wait "$pid" 2>/dev/null
		check_store "a gc that finished before the kill"
		delay=$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 2 }')
	done
	check_store "gc killed at ${delay}s"
	expect_exit 0 lmdata gc --workspace
	check_store "gc rerun after a kill at ${delay}s"
	n=$(ls .lmdata/cache/packs/*.pack | wc -l)
	[ "$n" -le 3 ] || fail "gc rerun after a kill at ${delay}s left $n packs"
done
note "$killed of 10 gc runs killed before they finished"
[ "$killed" -ge 3 ] || fail "only $killed gc runs were killed: the kills came too late"

# An add whose end builds a multi-pack index (32+ packs without one).
rm -rf .lmdata && cp -a "$TMP_ROOT/store" .lmdata
gen_file big $((40 * 1024 * 1024)) kill-gc-big
for delay in 0.3 0.9; do
	LMDATA_TEST_PACK_TARGET=1 "$LMDATA_HOOKS" add big >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	check_store "add killed at ${delay}s"
done
expect_exit 0 lmdata add big
expect_exit 0 lmdata fsck
ls .lmdata/cache/packs/*.midx >/dev/null 2>&1 || fail "no multi-pack index after the adds"
