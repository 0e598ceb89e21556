#!/usr/bin/env bash
# log through its cache (.lmdata/state/log-cache): the output is byte for byte what the
# uncached walk (LMDATA_NO_LOG_CACHE=1) prints, with a cold cache, a warm one, a partly
# filled one, a damaged one, a read-only state folder, concurrent runs, replace refs,
# a shallow clone and a clone whose store lacks the trees (then gets them).
. "$(dirname "$0")/history-lib.sh"

CACHE=.lmdata/state/log-cache

# at DATE: the author and committer date of the next commits.
at() { export GIT_AUTHOR_DATE=$1 GIT_COMMITTER_DATE=$1; }

new_lmdata_repo repo
at 2026-01-01T00:00:00Z
commit_all init
mkdir -p d e/f
for i in 1 2 3; do echo "file $i" >d/f$i; done
jsonl a.jsonl 100 a1
jsonl e/f/g.jsonl 50 g1
expect_exit 0 lmdata add a.jsonl d e/f/g.jsonl
at 2026-01-02T00:00:00Z
commit_all v1
main=$(git symbolic-ref --short HEAD)

# a side branch whose clock runs ahead, then behind; main with two equal times, the
# second equal to side's last too (ties go in the order the commits were reached).
git checkout -q -b side
echo "file 4" >d/f4 && expect_exit 0 lmdata add d
at 2026-01-05T00:00:00Z
commit_all side1
jsonl s.jsonl 30 s1 && expect_exit 0 lmdata add s.jsonl
at 2026-01-04T00:00:00Z
commit_all side2
git checkout -q "$main"
expect_exit 0 lmdata checkout --force
jsonl e/f/g.jsonl 60 g2 && expect_exit 0 lmdata add e/f/g.jsonl
at 2026-01-04T00:00:00Z
commit_all main1
jsonl a.jsonl 120 a2 && expect_exit 0 lmdata add a.jsonl
commit_all main2
at 2026-01-06T00:00:00Z
git merge -q --no-ff -m "merge side" side || fail "merge failed"
# an octopus of two branches, each adding a dataset (in its own folder: .gitignore merges).
for b in o1 o2; do
	git checkout -q -b "$b" "$main~1"
	mkdir -p "$b" && jsonl "$b/$b.jsonl" 20 "$b" && expect_exit 0 lmdata add "$b/$b.jsonl"
	at "2026-01-0${b#o}T12:00:00Z"
	commit_all "$b"
done
git checkout -q "$main"
at 2026-01-07T00:00:00Z
git merge -q --no-ff -m octopus o1 o2 >/dev/null || fail "octopus merge failed"
expect_exit 0 lmdata checkout --force
# a commit outside tracked data, a removal, a rename, a damaged manifest and its fix.
echo notes >README && git add README && git commit -qm readme
expect_exit 0 lmdata rm e/f/g.jsonl
at 2026-01-08T00:00:00Z
commit_all "remove g"
mv s.jsonl s2.jsonl
expect_exit 0 lmdata rm s.jsonl
expect_exit 0 lmdata add s2.jsonl
commit_all "rename s"
cp a.jsonl.lmd a.keep
printf 'not a manifest\n' >a.jsonl.lmd
git add a.jsonl.lmd && git commit -qm "damaged a" --no-verify
cp a.keep a.jsonl.lmd && rm a.keep
git add a.jsonl.lmd && git commit -qm "fixed a" --no-verify
jsonl a.jsonl 140 a3 && expect_exit 0 lmdata add a.jsonl d
at 2026-01-09T00:00:00Z
commit_all v9
git log --graph --oneline --format='%h %cI %s' | sed 's/^/# /'

ARGS=(
	""
	"--oneline"
	"--json"
	"-n 1"
	"-n 4 --oneline"
	"--since 2026-01-04T00:00:00Z"
	"--until 2026-01-04T12:00:00Z --oneline"
	"--since 2026-01-03T00:00:00Z --until 2026-01-06T00:00:00Z --json"
	"d"
	"a.jsonl"
	"e"
	"e/f/g.jsonl"
	"d/f1"
	"--json a.jsonl d"
	"nothing"
	"--oneline -- s.jsonl s2.jsonl o1/o1.jsonl"
)

# the uncached output of every argument list, once (keys: k + the arguments).
declare -A WANT
for a in "${ARGS[@]}"; do
	LMDATA_NO_LOG_CACHE=1 expect_exit 0 lmdata log $a
	WANT[k$a]=$OUT
done
[ -n "${WANT[k--json]}" ] || fail "no uncached output"
contains "${WANT[k--oneline]}" "merge side" || fail "the merge is not shown: ${WANT[k--oneline]}"
contains "${WANT[k--oneline]}" "octopus" || fail "the octopus merge is not shown"
contains "${WANT[k]}" "a.jsonl  (removed" && fail "a damaged manifest read as removed"

# check_all WHAT [ARGS...]: every (or the given) argument list prints what it did uncached.
check_all() {
	local what=$1 a
	shift
	local -a list=("$@")
	[ ${#list[@]} = 0 ] && list=("${ARGS[@]}")
	for a in "${list[@]}"; do
		expect_exit 0 lmdata log $a
		[ "$OUT" = "${WANT[k$a]}" ] || fail "$what: 'log $a' differs from the uncached walk:
$(diff <(printf '%s\n' "${WANT[k$a]}") <(printf '%s\n' "$OUT") | head -20)"
	done
}

# cold: each run starts without a cache, and leaves one.
for a in "${ARGS[@]}"; do
	rm -f "$CACHE"
	check_all "cold" "$a"
	[ "$a" = nothing ] || expect_file "$CACHE"
done
# warm: filled by a full log, then read; a warm run rewrites nothing.
rm -f "$CACHE"
check_all "cold full" ""
expect_file "$CACHE"
sum=$(sha_of "$CACHE")
check_all "warm"
check_all "warm again"
expect_eq "$(sha_of "$CACHE")" "$sum" "cache after warm runs"
# partly filled: the newest commits cached, older ones read from git.
for a in "-n 1" "-n 3 d" "--since 2026-01-06T00:00:00Z"; do
	rm -f "$CACHE"
	expect_exit 0 lmdata log $a
	check_all "partly cached after 'log $a'"
done
expect_no_tmp_files

# damaged caches are ignored (and replaced), never an error.
rm -f "$CACHE"
check_all "refill" ""
cp "$CACHE" "$TMP_ROOT/good-cache"
size=$(stat -c %s "$CACHE")
damage() { # damage KIND: a damaged copy of the good cache
	cp "$TMP_ROOT/good-cache" "$CACHE"
	python3 - "$CACHE" "$1" "$size" <<'PY' || fail "cannot damage the cache"
import os, random, sys
path, kind, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = bytearray(open(path, "rb").read())
if kind.startswith("flip:"):
    for pos in kind[5:].split(","):
        data[int(pos) % size] ^= 0x40
elif kind == "truncate-half":
    data = data[: size // 2]
elif kind == "truncate-header":
    data = data[:20]
elif kind == "empty":
    data = b""
elif kind == "garbage":
    data = bytes(random.Random(7).getrandbits(8) for _ in range(size))
elif kind == "version":
    data[8] = 99
elif kind == "idlen":
    data[12] = 32
elif kind == "count":
    data[16:20] = (0xFFFFFFFF).to_bytes(4, "little")
open(path, "wb").write(data)
if kind == "oversized":
    os.truncate(path, 65 << 20)
PY
}
for kind in truncate-half truncate-header empty garbage version idlen count oversized \
	flip:0 flip:9 flip:17 flip:25 flip:40 flip:100 flip:$((size / 2)) flip:$((size - 1)) \
	flip:$((size / 3)),$((size / 3 + 1)),$((size * 2 / 3)); do
	damage "$kind"
	check_all "cache damaged ($kind)" "" "--json" "-n 4 --oneline" "d" "--since 2026-01-03T00:00:00Z --until 2026-01-06T00:00:00Z --json"
	check_all "cache rewritten after damage ($kind)" "" "--json"
done
# random single-byte damage anywhere.
for seed in $(seq 1 40); do
	damage "flip:$(( (seed * 7919) % size ))"
	check_all "cache with byte $(( (seed * 7919) % size )) flipped" "--json"
done
expect_no_tmp_files

# a cache that cannot be written: a folder in its place, then (not as root) a read-only state folder.
rm -f "$CACHE" && mkdir -p "$CACHE/x"
check_all "cache path is a folder" "" "--json" "-n 1"
[ -d "$CACHE" ] || fail "the folder in the cache's place was replaced"
rm -rf "$CACHE"
expect_no_tmp_files
ro_run=()
if is_root; then
	if command -v setpriv >/dev/null &&
		setpriv --reuid=65534 --regid=65534 --clear-groups "$LMDATA" --version >/dev/null 2>&1; then
		chmod 755 "$TMP_ROOT"
		chown -R 65534:65534 "$REPO"
		ro_run=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	else
		note "running as root without setpriv: read-only state folder not checked"
		ro_run=(skip)
	fi
fi
if [ "${ro_run[0]:-}" != skip ]; then
	chmod 555 .lmdata/state
	for a in "" "--json" "-n 4 --oneline" "d"; do
		expect_exit 0 "${ro_run[@]}" "$LMDATA" log $a
		[ "$OUT" = "${WANT[k$a]}" ] || fail "read-only state folder: 'log $a' differs"
		[ -z "$ERR" ] || fail "read-only state folder: 'log $a' wrote to stderr: $ERR"
	done
	expect_no_file "$CACHE"
	chmod 755 .lmdata/state
	# a read-only cache file that is there is still read.
	expect_exit 0 "${ro_run[@]}" "$LMDATA" log
	expect_file "$CACHE"
	chmod 444 "$CACHE" && chmod 555 .lmdata/state
	expect_exit 0 "${ro_run[@]}" "$LMDATA" log --json
	[ "$OUT" = "${WANT[k--json]}" ] || fail "read-only cache: 'log --json' differs"
	chmod 755 .lmdata/state && chmod 644 "$CACHE"
	is_root && chown -R 0:0 "$REPO"
fi

# concurrent cold runs: all right, and the cache they leave is sound.
rm -f "$CACHE"
for i in 1 2 3 4 5 6; do
	"$LMDATA" log --json >"$TMP_ROOT/par$i" 2>&1 &
done
wait
for i in 1 2 3 4 5 6; do
	[ "$(cat "$TMP_ROOT/par$i")" = "${WANT[k--json]}" ] || fail "concurrent run $i differs"
done
expect_file "$CACHE"
check_all "after concurrent runs"
expect_no_tmp_files

# replace refs change parents under the same ids: the cache is bypassed.
check_all "warm before replace" "" "--json"
git replace --graft HEAD~1 HEAD~3
LMDATA_NO_LOG_CACHE=1 expect_exit 0 lmdata log --json
replaced=$OUT
expect_exit 0 lmdata log --json
expect_eq "$OUT" "$replaced" "log with a replace ref"
git replace -d "$(git rev-parse HEAD~1)" >/dev/null

# a shallow clone: bypassed too (its edge commit has no parents yet), output as uncached.
cd "$TMP_ROOT"
git clone -q --depth 3 "file://$REPO" shallow
cd shallow
for a in "" "--json" "d"; do
	LMDATA_NO_LOG_CACHE=1 expect_exit 0 lmdata log $a
	want=$OUT
	expect_exit 0 lmdata log $a
	expect_eq "$OUT" "$want" "shallow clone: log $a"
done
expect_no_file "$CACHE"

# a clone without the store: folder counts unknown, then known once the store has the trees.
cd "$TMP_ROOT"
git clone -q "$REPO" nostore
cd nostore
LMDATA_NO_LOG_CACHE=1 expect_exit 0 lmdata log d
want=$OUT
contains "$want" "files," && fail "counts shown without the store: $want"
expect_exit 0 lmdata log d
expect_eq "$OUT" "$want" "clone without store: log d"
expect_exit 0 lmdata log d
expect_eq "$OUT" "$want" "clone without store: log d (warm)"
cp -a "$REPO/.lmdata/cache/." .lmdata/cache/
LMDATA_NO_LOG_CACHE=1 expect_exit 0 lmdata log d
want=$OUT
contains "$want" "files," || fail "no counts with the store: $want"
expect_exit 0 lmdata log d
expect_eq "$OUT" "$want" "clone after copying the store: log d"
expect_exit 0 lmdata log
expect_exit 0 lmdata log d
expect_eq "$OUT" "$want" "clone after copying the store: log d (warm)"
