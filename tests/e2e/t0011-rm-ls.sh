#!/usr/bin/env bash
# rm stops tracking (manifest + .gitignore line, both staged; data stays);
# ls lists files with size and sha256, also as JSON.
. "$(dirname "$0")/lib.sh"

new_lmdata_repo repo
printf 'keep me\n' >a
gen_file b 70000 seed-b
mkdir d
printf 'one\n' >d/one
printf 'two two\n' >"d/two words"
printf 'accent\n' >d/café
expect_exit 0 lmdata add a b d
git commit -qm data || fail "git commit failed"

# ls: mode, size, sha256, path for every file.
expect_exit 0 lmdata ls
expect_eq "$(printf '%s\n' "$OUT" | grep -c .)" 5 "ls lines"
for f in a b d/one "d/two words"; do
	line=$(printf '%s\n' "$OUT" | grep -F "  $f" | grep -F "$(sha_of "$f")") ||
		fail "ls has no line with the sha256 of '$f':
$OUT"
	size=$(printf '%s\n' "$line" | awk '{print $2}')
	expect_eq "$size" "$(stat -c %s "$f")" "ls size of '$f'"
	printf '%s\n' "$line" | grep -q '^100644 ' || fail "ls mode of '$f': $line"
done
expect_exit 0 lmdata ls d
expect_eq "$(printf '%s\n' "$OUT" | grep -c .)" 3 "ls d lines"
contains "$OUT" "  a" && fail "ls d lists a: $OUT"

expect_exit 0 lmdata ls --json
expect_json
printf '%s' "$OUT" | python3 -c '
import json, sys, hashlib
j = json.load(sys.stdin)
assert len(j) == 5, j
ascii = sorted(e["path"] for e in j if e["path"].isascii())
assert ascii == ["a", "b", "d/one", "d/two words"], ascii
for e in j:
    if not e["path"].isascii():
        continue  # non-ASCII names: t0016
    data = open(e["path"], "rb").read()
    assert e["size"] == len(data), e
    assert e["sha256"] == hashlib.sha256(data).hexdigest(), e
    assert e["mode"] == "100644", e
    assert e["dataset"] == e["path"].split("/")[0], e
' || fail "ls --json content wrong:
$OUT"

# rm a single file.
a_sum=$(sha_of a)
expect_exit 0 lmdata rm a
expect_no_file a.lmd
expect_file a
expect_eq "$(sha_of a)" "$a_sum" "a after rm"
grep -qx '/a' .gitignore && fail ".gitignore still ignores /a"
grep -qx '/b' .gitignore || fail "rm a removed /b from .gitignore"
grep -qx '/d' .gitignore || fail "rm a removed /d from .gitignore"
staged=$(git diff --cached --name-status | sort)
expect_eq "$staged" "$(printf 'D\ta.lmd\nM\t.gitignore')" "staged after rm a"
git check-ignore -q a && fail "a is still ignored by git"
git status --porcelain | grep -qx '?? a' || fail "a is not shown as untracked by git"
expect_exit 0 lmdata ls
contains "$OUT" "  a"$'\n' && fail "ls still lists a"
expect_eq "$(printf '%s\n' "$OUT" | grep -c .)" 4 "ls lines after rm a"

# rm a folder: data stays, store keeps the objects.
expect_exit 0 lmdata rm d
expect_no_file d.lmd
expect_eq "$(cat d/one)" one "d/one after rm d"
grep -qx '/d' .gitignore && fail ".gitignore still ignores /d"
git diff --cached --name-only | grep -qx d.lmd || fail "d.lmd deletion not staged"
expect_exit 0 lmdata fsck
git commit -qm rm || fail "git commit failed"
expect_exit 0 lmdata status --check

# rm of untracked / missing paths is a usage error and changes nothing.
expect_exit 2 lmdata rm a
expect_err_contains "not tracked"
expect_exit 2 lmdata rm nothing-here
expect_exit 2 lmdata rm
expect_eq "$(git status --porcelain --untracked-files=no)" "" "git status after refused rm"

# rm a tracked file whose data is gone.
rm b
expect_exit 0 lmdata rm b
expect_no_file b.lmd
expect_no_file b
expect_eq "$(cat .gitignore 2>/dev/null)" "" ".gitignore after removing everything"

# Re-adding after rm works.
expect_exit 0 lmdata add a
expect_eq "$(manifest_field a.lmd sha256)" "$a_sum" "re-added a"
exit 0
