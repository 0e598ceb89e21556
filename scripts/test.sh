#!/usr/bin/env bash
# Command (2) of the README, and what .ci/run executes: install the test
# dependencies, then build and run the whole test suite twice:
#
#   build-test/   -Dtests=true
#   build-asan/   -Dtests=true -Db_sanitize=address,undefined
#                 (skipped with LMD_SKIP_ASAN=1)
#
# Ends with one line "N passed, N failed" summed over both runs, and exits
# non-zero if anything failed (a build failure counts as one failure).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# libcurl4-openssl-dev: curl's headers (lmdata loads libcurl at run time
# and does not link it); it pulls in libcurl4, which the S3 commands load.
packages=(build-essential meson ninja-build pkg-config libgit2-dev libssl-dev
	libzstd-dev libcurl4-openssl-dev git python3 zstd
	libcriterion-dev)

. scripts/apt-deps.sh
apt_install_missing test

if [ -x scripts/install-test-deps.sh ]; then
	scripts/install-test-deps.sh
elif [ -f scripts/install-test-deps.sh ]; then
	sh scripts/install-test-deps.sh
fi

jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
skipped=0
suite_failed=0
logdir=$(mktemp -d "${TMPDIR:-/tmp}/lmdata-test.XXXXXX")
trap 'rm -rf "$logdir"' EXIT

# count LOG: add meson test's summary lines ("Ok:", "Fail:", ...) to the
# totals.  Returns 1 if the log has no summary (meson test did not finish).
count() {
	local log=$1 ok fail xpass timeout skip
	ok=$(sed -n 's/^Ok:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	[ -n "$ok" ] || return 1
	fail=$(sed -n 's/^Fail:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	xpass=$(sed -n 's/^Unexpected Pass:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	timeout=$(sed -n 's/^Timeout:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	skip=$(sed -n 's/^Skipped:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	suite_failed=$((${fail:-0} + ${xpass:-0} + ${timeout:-0}))
	passed=$((passed + ok))
	failed=$((failed + suite_failed))
	skipped=$((skipped + ${skip:-0}))
}

# suite NAME BUILDDIR [MESON_TEST_ARGS...] -- [MESON_SETUP_ARGS...]:
# configure (or reconfigure), build and run the whole suite.
suite() {
	local name=$1 dir=$2 test_args=() setup_args=() rc=0
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do test_args+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	setup_args=("$@")

	echo
	echo "=== $name: $dir (${setup_args[*]})"
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "${setup_args[@]}" >/dev/null || rc=$?
	else
		meson setup "$dir" "${setup_args[@]}" || rc=$?
	fi
	if [ $rc = 0 ]; then
		meson compile -C "$dir" || rc=$?
	fi
	if [ $rc != 0 ]; then
		echo "test: $name: configure or build failed in $dir" >&2
		failed=$((failed + 1))
		return
	fi
	meson test -C "$dir" --print-errorlogs --num-processes "$jobs" \
		"${test_args[@]}" 2>&1 | tee "$logdir/$name.log" || rc=$?
	if ! count "$logdir/$name.log"; then
		echo "test: $name: meson test did not print a summary" >&2
		failed=$((failed + 1))
	elif [ $rc != 0 ] && [ "$suite_failed" = 0 ]; then
		echo "test: $name: meson test exited with $rc" >&2
		failed=$((failed + 1))
	fi
}

suite tests build-test -- -Dtests=true

if [ "${LMD_SKIP_ASAN:-0}" = 1 ]; then
	echo
	echo "=== asan: skipped (LMD_SKIP_ASAN=1)"
else
	# Sanitizers stop at the first error, and a leak is a failure.
	export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:halt_on_error=1:detect_leaks=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}
	suite asan build-asan --timeout-multiplier 3 -- \
		-Dtests=true -Db_sanitize=address,undefined -Db_lundef=false
fi

echo
if [ "$skipped" -gt 0 ]; then
	echo "($skipped skipped)"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
