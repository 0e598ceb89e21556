/*
 * Manifests (PATH.lmd): format/parse roundtrips for files, folders and
 * links, quoting of awkward names, and rejection of hostile or damaged
 * text with LMD_EMANIFEST.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "lmdata/lmdata.h"
#include "objects.h"
#include "testutil.h"

static bool lmd_name_ok_for_test(const char *name)
{
	return name && lmd_name_ok(name, strlen(name));
}

#define HEX "45cd501e0123456789abcdef0123456789abcdef0123456789abcdef01234567"
#define HDR "# lmdata manifest: written by 'lmdata add', do not edit\n"

static lmd_manifest mk(lmd_kind kind, const char *name, uint64_t size, uint64_t files, bool exec)
{
	lmd_manifest m = { 0 };
	m.version = LMD_MANIFEST_VERSION;
	m.kind = kind;
	m.name = (char *)name;
	m.size = size;
	m.files = files;
	m.executable = exec;
	cr_assert_eq(lmd_sha256_buf(name, strlen(name), &m.id), 0);
	return m;
}

/* format -> parse -> compare; returns the text (caller frees). */
static char *roundtrip(const lmd_manifest *m)
{
	lmd_manifest got;
	char *text = lmd_manifest_format(m);
	cr_assert_not_null(text);
	memset(&got, 0x5a, sizeof(got));
	cr_assert_eq(lmd_manifest_parse(text, strlen(text), "x.lmd", &got), 0, "parse of\n%s\nfailed: %s", text,
		     lmd_error_last());
	cr_assert_eq(got.version, LMD_MANIFEST_VERSION);
	cr_assert_eq(got.kind, m->kind);
	cr_assert_str_eq(got.name, m->name);
	cr_assert_eq(got.size, m->size);
	cr_assert_eq(got.files, m->kind == LMD_KIND_DIR ? m->files : 1);
	cr_assert_eq(lmd_oid_cmp(&got.id, &m->id), 0);
	cr_assert_eq(got.executable, m->kind == LMD_KIND_FILE && m->executable);
	lmd_manifest_release(&got);
	cr_assert_null(got.name);
	/* formatting is stable */
	{
		char *again = lmd_manifest_format(m);
		cr_assert_str_eq(again, text);
		free(again);
	}
	return text;
}

Test(manifest, file_exact_text)
{
	lmd_manifest m = mk(LMD_KIND_FILE, "train.jsonl", 536871015, 1, false);
	char hex[LMD_OID_HEXSZ + 1], want[512];
	char *text;
	lmd_oid_fmt(hex, &m.id);
	snprintf(want, sizeof(want), HDR "version: 1\ntype: file\npath: train.jsonl\nsize: 536871015\nsha256: %s\n", hex);
	text = roundtrip(&m);
	cr_assert_str_eq(text, want);
	free(text);
}

Test(manifest, roundtrip_kinds)
{
	lmd_manifest ms[] = {
		mk(LMD_KIND_FILE, "a.bin", 0, 1, false),
		mk(LMD_KIND_FILE, "run.sh", 12, 1, true),
		mk(LMD_KIND_DIR, "images", 123456789012ull, 100000, false),
		mk(LMD_KIND_DIR, "empty", 0, 0, false),
		mk(LMD_KIND_LINK, "latest", 9, 1, false),
		mk(LMD_KIND_FILE, "huge", 1ull << 62, 1, false),
		mk(LMD_KIND_DIR, "many", 1ull << 62, 1ull << 40, false),
	};
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		char *text = roundtrip(&ms[i]);
		if (ms[i].kind == LMD_KIND_DIR) {
			cr_assert_not_null(strstr(text, "\ntype: dir\n"));
			cr_assert_not_null(strstr(text, "\ntree: "));
			cr_assert_null(strstr(text, "sha256:"));
		} else if (ms[i].kind == LMD_KIND_LINK) {
			cr_assert_not_null(strstr(text, "\ntype: link\n"));
		}
		cr_assert_eq(strstr(text, "mode: 100755") != NULL, ms[i].executable);
		free(text);
	}
}

Test(manifest, roundtrip_awkward_names)
{
	static const char *names[] = {
		"with space", " leading", "trailing ", "  ", "new\nline", "tab\there", "cr\rhere",
		"quote\"d", "back\\slash", "caf\xc3\xa9", "\xff\xfe\x80", "\x01\x1f\x7f", "#not-a-comment",
		"key: value", "\"quoted\"", "\"", "...", ".hidden", "<<<<<<< HEAD", "a\\057b",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		lmd_manifest m = mk(i % 2 ? LMD_KIND_DIR : LMD_KIND_FILE, names[i], i, 3, false);
		char *text = roundtrip(&m);
		/* a name with bytes outside printable ASCII is written quoted,
		 * so every manifest is a line-oriented ASCII file */
		for (const unsigned char *p = (const unsigned char *)text; *p; p++)
			cr_assert(*p == '\n' || (*p >= 0x20 && *p < 0x7f), "name %zu: byte 0x%02x in the text", i, *p);
		free(text);
	}
}

static int parse(const char *text, size_t len)
{
	lmd_manifest m;
	int r;
	lmd_error_clear();
	r = lmd_manifest_parse(text, len, "data.lmd", &m);
	if (r == 0)
		lmd_manifest_release(&m);
	else
		cr_assert_neq(lmd_error_last()[0], '\0', "no message for a rejected manifest");
	return r;
}

#define P(s) parse(s, strlen(s))
#define FILE_BODY "type: file\npath: data\nsize: 5\nsha256: " HEX "\n"
#define GOOD "version: 1\n" FILE_BODY

Test(manifest, minimal_and_variants_parse)
{
	lmd_manifest m;
	cr_assert_eq(P(GOOD), 0, "%s", lmd_error_last());
	cr_assert_eq(P(HDR GOOD), 0);
	cr_assert_eq(P("# c\n\n" GOOD "\n# trailing comment\n"), 0);
	cr_assert_eq(P("version: 1\r\ntype: file\r\npath: data\r\nsize: 5\r\nsha256: " HEX "\r\n"), 0, "CRLF manifest");
	cr_assert_eq(P("version: 1\ntype: file\npath: data\nsize: 5\nsha256: " HEX), 0, "no final newline");
	cr_assert_eq(P(GOOD "mode: 100644\n"), 0);
	cr_assert_eq(P("version: 1\ntype: dir\npath: d\nsize: 5\nfiles: 2\ntree: " HEX "\n"), 0);
	cr_assert_eq(P("version: 1\ntype: link\npath: l\nsize: 5\nsha256: " HEX "\n"), 0);
	cr_assert_eq(P("version: 1\ntype: file\npath: \"a\\nb\\303\\251\"\nsize: 5\nsha256: " HEX "\n"), 0);

	cr_assert_eq(lmd_manifest_parse(GOOD "mode: 100755\n", strlen(GOOD "mode: 100755\n"), "x", &m), 0);
	cr_assert(m.executable);
	cr_assert_eq(m.files, 1);
	cr_assert_eq(m.size, 5);
	lmd_manifest_release(&m);

	cr_assert_eq(lmd_manifest_parse("version: 1\ntype: file\npath: \"a\\nb\\303\\251\"\nsize: 5\nsha256: " HEX "\n",
					strlen("version: 1\ntype: file\npath: \"a\\nb\\303\\251\"\nsize: 5\nsha256: " HEX "\n"),
					"x", &m),
		     0);
	cr_assert_str_eq(m.name, "a\nb\xc3\xa9");
	lmd_manifest_release(&m);
}

Test(manifest, rejects_unknown_version)
{
	cr_assert_eq(P("version: 2\n" FILE_BODY), LMD_EMANIFEST);
	cr_assert_eq(P("version: 0\n" FILE_BODY), LMD_EMANIFEST);
	cr_assert_eq(P("version: 10\n" FILE_BODY), LMD_EMANIFEST);
	cr_assert_eq(P("version: 1.0\n" FILE_BODY), LMD_EMANIFEST);
	cr_assert_eq(P("version: one\n" FILE_BODY), LMD_EMANIFEST);
	cr_assert_eq(P("version: \n" FILE_BODY), LMD_EMANIFEST);
	cr_assert_eq(P("version: 18446744073709551617\n" FILE_BODY), LMD_EMANIFEST);
	/* the version comes first */
	cr_assert_eq(P(FILE_BODY "version: 1\n"), LMD_EMANIFEST);
	cr_assert_eq(P(FILE_BODY), LMD_EMANIFEST);
	cr_assert_eq(lmd_error_code(), LMD_EMANIFEST);
}

#define WITH_PATH(p) "version: 1\ntype: file\npath: " p "\nsize: 5\nsha256: " HEX "\n"

Test(manifest, rejects_paths_that_are_not_plain_names)
{
	static const char *bad[] = {
		WITH_PATH("../x"), WITH_PATH(".."), WITH_PATH("."), WITH_PATH("/etc/passwd"), WITH_PATH("a/b"),
		WITH_PATH("a/"), WITH_PATH("/"), WITH_PATH("\"../x\""), WITH_PATH("\"a/b\""), WITH_PATH("\"..\""),
		WITH_PATH("\"a\\057b\""),        /* an escaped '/' */
		WITH_PATH("\"\\056\\056\""),      /* an escaped ".." */
		WITH_PATH("\"a\\000b\""),        /* an escaped NUL */
		WITH_PATH("\"\""),               /* empty */
		WITH_PATH("\"a\\qb\""),          /* bad escape */
		WITH_PATH("\"a\\\""),            /* dangling backslash */
		WITH_PATH("\"a\"b\""),           /* unescaped quote inside */
		WITH_PATH("\"\\400\""),          /* octal out of range */
		WITH_PATH("\"\\12\""),           /* short octal */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(P(bad[i]), LMD_EMANIFEST, "accepted:\n%s", bad[i]);
	/* an empty value is not even a "key: value" line */
	cr_assert_eq(P("version: 1\ntype: file\npath: \nsize: 5\nsha256: " HEX "\n"), LMD_EMANIFEST);
}

Test(manifest, rejects_absurd_sizes)
{
	static const char *bad[] = {
		"version: 1\ntype: file\npath: d\nsize: 4611686018427387905\nsha256: " HEX "\n",  /* 2^62 + 1 */
		"version: 1\ntype: file\npath: d\nsize: 9999999999999999999\nsha256: " HEX "\n",
		"version: 1\ntype: file\npath: d\nsize: 18446744073709551616\nsha256: " HEX "\n", /* 2^64 */
		"version: 1\ntype: file\npath: d\nsize: 99999999999999999999999\nsha256: " HEX "\n",
		"version: 1\ntype: file\npath: d\nsize: -1\nsha256: " HEX "\n",
		"version: 1\ntype: file\npath: d\nsize: 1e9\nsha256: " HEX "\n",
		"version: 1\ntype: file\npath: d\nsize: 0x10\nsha256: " HEX "\n",
		"version: 1\ntype: file\npath: d\nsize: 5 \nsha256: " HEX "\n",
		"version: 1\ntype: file\npath: d\nsize: +5\nsha256: " HEX "\n",
		"version: 1\ntype: dir\npath: d\nsize: 5\nfiles: 1099511627777\ntree: " HEX "\n",       /* 2^40 + 1 */
		"version: 1\ntype: dir\npath: d\nsize: 5\nfiles: -3\ntree: " HEX "\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(P(bad[i]), LMD_EMANIFEST, "accepted:\n%s", bad[i]);
	cr_assert_eq(P("version: 1\ntype: file\npath: d\nsize: 4611686018427387904\nsha256: " HEX "\n"), 0, "2^62 is allowed");
}

Test(manifest, rejects_missing_keys)
{
	static const char *bad[] = {
		"",
		"version: 1\n",
		"version: 1\npath: data\nsize: 5\nsha256: " HEX "\n",               /* no type */
		"version: 1\ntype: file\nsize: 5\nsha256: " HEX "\n",               /* no path */
		"version: 1\ntype: file\npath: data\nsha256: " HEX "\n",            /* no size */
		"version: 1\ntype: file\npath: data\nsize: 5\n",                    /* no id */
		"version: 1\ntype: dir\npath: d\nsize: 5\ntree: " HEX "\n",         /* dir without files */
		"version: 1\ntype: dir\npath: d\nsize: 5\nfiles: 2\n",              /* dir without tree */
		"# only a comment\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(P(bad[i]), LMD_EMANIFEST, "accepted:\n%s", bad[i]);
}

Test(manifest, rejects_unknown_keys_and_values)
{
	static const char *bad[] = {
		GOOD "owner: me\n",
		GOOD "Size: 5\n",
		GOOD "sha1: 0123\n",
		GOOD "mode: 100777\n",
		GOOD "mode: 120000\n",
		"version: 1\ntype: blob\npath: data\nsize: 5\nsha256: " HEX "\n",
		"version: 1\ntype: File\npath: data\nsize: 5\nsha256: " HEX "\n",
		"version: 1\ntype: file\npath: data\nsize: 5\nsha256: " HEX "0\n",
		"version: 1\ntype: file\npath: data\nsize: 5\nsha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg\n",
		"version: 1\ntype: file\npath: data\nsize: 5\nsha256: 45cd501e\n",
		GOOD "garbage line\n",
		GOOD "key:value\n",
		GOOD ": value\n",
		GOOD " version: 1\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(P(bad[i]), LMD_EMANIFEST, "accepted:\n%s", bad[i]);
}

Test(manifest, rejects_conflict_markers)
{
	static const char *bad[] = {
		"<<<<<<< HEAD\n" GOOD "=======\n" GOOD ">>>>>>> branch\n",
		"version: 1\n<<<<<<< ours\ntype: file\npath: data\nsize: 5\nsha256: " HEX "\n=======\nsize: 6\n>>>>>>> theirs\n",
		GOOD "=======\n",
		GOOD ">>>>>>> x\n",
		GOOD "<<<<<<<\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(P(bad[i]), LMD_EMANIFEST, "accepted:\n%s", bad[i]);
		cr_assert_not_null(strstr(lmd_error_last(), "conflict"), "message: %s", lmd_error_last());
	}
}

Test(manifest, rejects_nul_bytes)
{
	static const char good[] = GOOD;
	char buf[sizeof(good)];
	/* a NUL anywhere: in a value, in a key, at the end */
	size_t at[] = { 0, 3, 12, sizeof(good) / 2, sizeof(good) - 2 };
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		memcpy(buf, good, sizeof(good));
		buf[at[i]] = '\0';
		cr_assert_eq(parse(buf, sizeof(good) - 1), LMD_EMANIFEST, "NUL at %zu accepted", at[i]);
	}
	memcpy(buf, good, sizeof(good));
	cr_assert_eq(parse(buf, sizeof(good)), LMD_EMANIFEST, "trailing NUL accepted");
}

Test(manifest, rejects_oversized_text)
{
	size_t n = (64u << 10) + 1;
	char *big = malloc(n);
	cr_assert_not_null(big);
	memset(big, '#', n);
	memcpy(big, GOOD "#", strlen(GOOD "#"));
	cr_assert_eq(parse(big, n), LMD_EMANIFEST);
	free(big);
}

Test(manifest, out_param_untouched_on_failure)
{
	lmd_manifest m;
	memset(&m, 0x77, sizeof(m));
	cr_assert_eq(lmd_manifest_parse(WITH_PATH("../x"), strlen(WITH_PATH("../x")), "x", &m), LMD_EMANIFEST);
	for (size_t i = 0; i < sizeof(m); i++)
		cr_assert_eq(((unsigned char *)&m)[i], 0x77);
}

Test(manifest, mutated_manifests_are_parsed_or_rejected)
{
	lmd_manifest m = mk(LMD_KIND_DIR, "some \"odd\"\nname\xc3\xa9", 123456, 42, false);
	char *orig = lmd_manifest_format(&m);
	size_t len = strlen(orig);
	char *buf = malloc(len);
	t_rng r = { 8 };
	static const char special[] = { '\0', '/', '.', '"', '\\', '\n', ':', ' ', '0', '<', '=' };

	cr_assert_not_null(buf);
	for (int i = 0; i < 20000; i++) {
		lmd_manifest got;
		size_t n = len;
		int rc;
		memcpy(buf, orig, len);
		for (int k = 0; k < 1 + (int)(t_rand(&r) % 3); k++) {
			switch (t_rand(&r) % 3) {
			case 0: buf[t_rand(&r) % n] ^= (char)(1u << (t_rand(&r) % 8)); break;
			case 1: buf[t_rand(&r) % n] = special[t_rand(&r) % sizeof(special)]; break;
			default: n = 1 + (size_t)(t_rand(&r) % n); break;
			}
		}
		rc = lmd_manifest_parse(buf, n, "m.lmd", &got);
		cr_assert(rc == 0 || rc == LMD_EMANIFEST, "iteration %d: %d", i, rc);
		if (rc == 0) {
			cr_assert(lmd_name_ok_for_test(got.name), "iteration %d accepted the name '%s'", i, lmd_quote(got.name));
			cr_assert_leq(got.size, 1ull << 62);
			lmd_manifest_release(&got);
		}
	}
	free(buf);
	free(orig);
}
