/*
 * The git-style INI config: sections and subsections, get/set/unset and a
 * write + reload roundtrip that keeps comments and order, numbers with
 * k/M suffixes, and refusal of malformed lines.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* src/lib's config.h, not the generated one at the top of the build folder */
#include "../../src/lib/config.h"
#include "lmdata/common.h"
#include "testutil.h"
#include "util.h"

TestSuite(config, .init = t_mktemp, .fini = t_cleanup);

#define SAMPLE \
	"# shared settings\n" \
	"[core]\n" \
	"\tformat = 1\n" \
	"[chunk]\n" \
	"\tavg = 16k\n" \
	"\tMax = 2M\n" \
	"\tmin=4096\n" \
	"\t; a comment\n" \
	"\n" \
	"[remote \"origin\"]\n" \
	"\turl = s3://bucket/prefix\n" \
	"\tRegion = \"us east 1\"\n" \
	"  [Gc]  \n" \
	"   auto   =   0   \n"

static lmd_config *load_text(const char *name, const char *text)
{
	lmd_config *c = NULL;
	char *path = strdup(t_path(name));
	int r;
	t_write(path, text, strlen(text));
	r = lmd_config_load(path, &c);
	cr_assert_eq(r, 0, "load: %d %s", r, lmd_error_last());
	cr_assert_not_null(c);
	free(path);
	return c;
}

static lmd_config *reload(const char *name)
{
	lmd_config *c = NULL;
	cr_assert_eq(lmd_config_load(t_path(name), &c), 0, "%s", lmd_error_last());
	return c;
}

static char *read_text(const char *name)
{
	lmd_buf b = LMD_BUF_INIT;
	cr_assert_eq(lmd_read_file(t_path(name), 1u << 20, &b), 0);
	cr_assert_eq(lmd_buf_cstr(&b), 0);
	return (char *)b.ptr;
}

Test(config, parse_sections_and_subsections)
{
	lmd_config *c = load_text("config", SAMPLE);
	cr_assert_str_eq(lmd_config_get(c, "core.format"), "1");
	cr_assert_str_eq(lmd_config_get(c, "chunk.avg"), "16k");
	cr_assert_str_eq(lmd_config_get(c, "chunk.max"), "2M", "keys are case-insensitive");
	cr_assert_str_eq(lmd_config_get(c, "chunk.min"), "4096", "no spaces around '='");
	cr_assert_str_eq(lmd_config_get(c, "CHUNK.AVG"), "16k");
	cr_assert_str_eq(lmd_config_get(c, "remote.origin.url"), "s3://bucket/prefix");
	cr_assert_str_eq(lmd_config_get(c, "remote.origin.region"), "us east 1", "quotes are removed");
	cr_assert_str_eq(lmd_config_get(c, "gc.auto"), "0", "spaces are trimmed");
	cr_assert_null(lmd_config_get(c, "core.missing"));
	cr_assert_null(lmd_config_get(c, "remote.url"));
	cr_assert_null(lmd_config_get(c, "origin.url"));
	cr_assert_null(lmd_config_get(c, "format"));
	cr_assert_null(lmd_config_get(c, "chunk.a comment"));
	lmd_config_free(c);
}

Test(config, missing_file_is_empty)
{
	lmd_config *c = NULL;
	cr_assert_eq(lmd_config_load(t_path("nope"), &c), 0);
	cr_assert_not_null(c);
	cr_assert_null(lmd_config_get(c, "core.format"));
	cr_assert_eq(lmd_config_set(c, "core.format", "1"), 0);
	cr_assert_eq(lmd_config_write(c), 0, "%s", lmd_error_last());
	lmd_config_free(c);
	c = reload("nope");
	cr_assert_str_eq(lmd_config_get(c, "core.format"), "1");
	lmd_config_free(c);
	lmd_config_free(NULL);
}

Test(config, last_value_wins)
{
	lmd_config *c = load_text("config", "[a]\nx = 1\n[b]\ny = 2\n[a]\nx = 3\n");
	cr_assert_str_eq(lmd_config_get(c, "a.x"), "3");
	lmd_config_free(c);
}

static int collect(const char *key, const char *value, void *payload)
{
	lmd_buf *b = payload;
	return lmd_buf_printf(b, "%s=%s;", key, value);
}

Test(config, foreach_in_file_order)
{
	lmd_config *c = load_text("config", SAMPLE "[remote \"backup\"]\n\turl = file:///srv\n");
	lmd_buf b = LMD_BUF_INIT;
	cr_assert_eq(lmd_config_foreach(c, "remote.", collect, &b), 0);
	cr_assert_str_eq((char *)b.ptr,
			 "remote.origin.url=s3://bucket/prefix;remote.origin.region=us east 1;remote.backup.url=file:///srv;");
	lmd_buf_clear(&b);
	cr_assert_eq(lmd_config_foreach(c, "chunk.", collect, &b), 0);
	cr_assert_str_eq((char *)b.ptr, "chunk.avg=16k;chunk.max=2M;chunk.min=4096;");
	lmd_buf_release(&b);
	lmd_config_free(c);
}

Test(config, set_unset_write_roundtrip)
{
	lmd_config *c = load_text("config", SAMPLE);
	char *text;

	cr_assert_eq(lmd_config_set(c, "core.format", "2"), 0);           /* replace */
	cr_assert_eq(lmd_config_set(c, "chunk.level", "3"), 0);           /* new key, existing section */
	cr_assert_eq(lmd_config_set(c, "remote.origin.region", "eu-west-1"), 0);
	cr_assert_eq(lmd_config_set(c, "remote.backup.url", "file:///srv/x"), 0);  /* new subsection */
	cr_assert_eq(lmd_config_set(c, "fetch.jobs", "8"), 0);            /* new section */
	cr_assert_eq(lmd_config_set(c, "chunk.min", NULL), 0);            /* unset */
	cr_assert_eq(lmd_config_set(c, "chunk.nothing", NULL), 0);        /* unset of an unset key */
	cr_assert_eq(lmd_config_set(c, "remote.origin.note", "has spaces # and ; marks"), 0);

	cr_assert_str_eq(lmd_config_get(c, "core.format"), "2");
	cr_assert_null(lmd_config_get(c, "chunk.min"));
	cr_assert_eq(lmd_config_write(c), 0, "%s", lmd_error_last());
	lmd_config_free(c);

	c = reload("config");
	cr_assert_str_eq(lmd_config_get(c, "core.format"), "2");
	cr_assert_str_eq(lmd_config_get(c, "chunk.avg"), "16k");
	cr_assert_str_eq(lmd_config_get(c, "chunk.max"), "2M");
	cr_assert_str_eq(lmd_config_get(c, "chunk.level"), "3");
	cr_assert_null(lmd_config_get(c, "chunk.min"));
	cr_assert_str_eq(lmd_config_get(c, "remote.origin.url"), "s3://bucket/prefix");
	cr_assert_str_eq(lmd_config_get(c, "remote.origin.region"), "eu-west-1");
	cr_assert_str_eq(lmd_config_get(c, "remote.origin.note"), "has spaces # and ; marks");
	cr_assert_str_eq(lmd_config_get(c, "remote.backup.url"), "file:///srv/x");
	cr_assert_str_eq(lmd_config_get(c, "fetch.jobs"), "8");
	cr_assert_str_eq(lmd_config_get(c, "gc.auto"), "0");
	lmd_config_free(c);

	/* comments and order are kept; new keys go into their section */
	text = read_text("config");
	cr_assert_eq(strncmp(text, "# shared settings\n[core]\n", 25), 0, "file starts:\n%s", text);
	cr_assert_not_null(strstr(text, "; a comment"));
	{
		char *chunk = strstr(text, "[chunk]"), *level = strstr(text, "level = 3"), *remote = strstr(text, "[remote \"origin\"]");
		char *backup = strstr(text, "[remote \"backup\"]"), *fetch = strstr(text, "[fetch]");
		cr_assert(chunk && level && remote && backup && fetch, "file:\n%s", text);
		cr_assert(chunk < level && level < remote, "chunk.level not in [chunk]:\n%s", text);
		cr_assert(remote < backup, "file:\n%s", text);
	}
	cr_assert_null(strstr(text, "min"));
	free(text);
}

Test(config, rewrite_without_changes_keeps_bytes)
{
	lmd_config *c = load_text("config", SAMPLE);
	char *text;
	cr_assert_eq(lmd_config_write(c), 0);
	lmd_config_free(c);
	text = read_text("config");
	cr_assert_str_eq(text, SAMPLE);
	free(text);
	cr_assert_eq(t_count_entries(t_dir), 1, "a temp file was left behind");
}

Test(config, remove_section)
{
	lmd_config *c = load_text("config", SAMPLE "[remote \"backup\"]\n\turl = file:///srv\n");
	cr_assert_eq(lmd_config_remove_section(c, "remote.origin"), 0);
	cr_assert_null(lmd_config_get(c, "remote.origin.url"));
	cr_assert_null(lmd_config_get(c, "remote.origin.region"));
	cr_assert_str_eq(lmd_config_get(c, "remote.backup.url"), "file:///srv");
	cr_assert_str_eq(lmd_config_get(c, "gc.auto"), "0");
	cr_assert_eq(lmd_config_remove_section(c, "nothing"), 0);
	cr_assert_eq(lmd_config_write(c), 0);
	lmd_config_free(c);
	c = reload("config");
	cr_assert_null(lmd_config_get(c, "remote.origin.url"));
	cr_assert_str_eq(lmd_config_get(c, "remote.backup.url"), "file:///srv");
	cr_assert_str_eq(lmd_config_get(c, "core.format"), "1");
	/* setting a key of the removed section brings the header back */
	cr_assert_eq(lmd_config_set(c, "remote.origin.url", "s3://b/p"), 0);
	cr_assert_eq(lmd_config_write(c), 0);
	lmd_config_free(c);
	c = reload("config");
	cr_assert_str_eq(lmd_config_get(c, "remote.origin.url"), "s3://b/p");
	lmd_config_free(c);
}

Test(config, set_rejects_bad_keys)
{
	lmd_config *c = load_text("config", SAMPLE);
	cr_assert_eq(lmd_config_set(c, "nodot", "1"), LMD_EBADINPUT);
	cr_assert_eq(lmd_config_set(c, ".x", "1"), LMD_EBADINPUT);
	cr_assert_eq(lmd_config_set(c, "x.", "1"), LMD_EBADINPUT);
	cr_assert_eq(lmd_config_set(c, "", "1"), LMD_EBADINPUT);
	cr_assert_str_eq(lmd_config_get(c, "core.format"), "1");
	lmd_config_free(c);
}

Test(config, numbers_with_suffixes)
{
	lmd_config *c = load_text("config",
		"[n]\n a = 16384\n b = 16k\n c = 16K\n d = 2M\n e = 3m\n f = 0\n g = 999999999999999\n"
		" bad1 = 12x\n bad2 = \n bad3 = k\n bad4 = -1\n bad5 = 1.5M\n bad6 = 1G\n bad7 = 1kk\n"
		" bad8 = 1234567890123456\n bad9 = 0x10\n");
	uint64_t v = 0;
	const char *bad[] = { "n.bad1", "n.bad2", "n.bad3", "n.bad4", "n.bad5", "n.bad6", "n.bad7", "n.bad8", "n.bad9" };

	cr_assert_eq(lmd_config_get_u64(c, "n.a", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 16384);
	cr_assert_eq(lmd_config_get_u64(c, "n.b", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 16384);
	cr_assert_eq(lmd_config_get_u64(c, "n.c", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 16384);
	cr_assert_eq(lmd_config_get_u64(c, "n.d", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 2u << 20);
	cr_assert_eq(lmd_config_get_u64(c, "n.e", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 3u << 20);
	cr_assert_eq(lmd_config_get_u64(c, "n.f", 7, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(lmd_config_get_u64(c, "n.g", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 999999999999999ull);
	/* unset: the default */
	cr_assert_eq(lmd_config_get_u64(c, "n.unset", 42, 10, &v), 0);
	cr_assert_eq(v, 42);
	/* the cap */
	cr_assert_eq(lmd_config_get_u64(c, "n.d", 0, 2u << 20, &v), 0);
	v = 5;
	cr_assert_eq(lmd_config_get_u64(c, "n.d", 0, (2u << 20) - 1, &v), LMD_EBADINPUT);
	cr_assert_eq(v, 5, "out-parameter set on failure");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 5;
		cr_assert_eq(lmd_config_get_u64(c, bad[i], 0, UINT64_MAX, &v), LMD_EBADINPUT, "%s = '%s' accepted as %llu",
			     bad[i], lmd_config_get(c, bad[i]), (unsigned long long)v);
		cr_assert_neq(lmd_error_last()[0], '\0');
	}
	lmd_config_free(c);
}

/* A value whose suffix multiplication overflows 64 bits must not wrap
 * around to a small number that passes the cap. */
Test(config, number_suffix_overflow_is_rejected)
{
	lmd_config *c = load_text("config", "[n]\n wrap0 = 17592186044416M\n wrap1 = 17592186044417M\n big = 999999999999999M\n");
	uint64_t v = 5;
	int r;
	r = lmd_config_get_u64(c, "n.wrap0", 0, 16u << 20, &v);
	cr_assert_eq(r, LMD_EBADINPUT, "2^44 M (= 2^64) accepted as %llu", (unsigned long long)v);
	r = lmd_config_get_u64(c, "n.wrap1", 0, 16u << 20, &v);
	cr_assert_eq(r, LMD_EBADINPUT, "(2^44 + 1) M accepted as %llu", (unsigned long long)v);
	r = lmd_config_get_u64(c, "n.big", 0, UINT64_MAX, &v);
	cr_assert_eq(r, LMD_EBADINPUT, "999999999999999M accepted as %llu", (unsigned long long)v);
	lmd_config_free(c);
}

static int load_bad(const char *text)
{
	lmd_config *c = (lmd_config *)0x1;
	int r;
	t_write(t_path("bad"), text, strlen(text));
	lmd_error_clear();
	r = lmd_config_load(t_path("bad"), &c);
	if (r == 0) {
		lmd_config_free(c);
	} else {
		cr_assert_eq(c, (lmd_config *)0x1, "out-parameter set on failure");
		cr_assert_neq(lmd_error_last()[0], '\0');
	}
	return r;
}

Test(config, bad_lines)
{
	cr_assert_eq(load_bad("[core\n\tformat = 1\n"), LMD_EBADINPUT, "unclosed '['");
	cr_assert_eq(load_bad("format = 1\n[core]\n"), LMD_EBADINPUT, "key before any section");
	cr_assert_eq(load_bad("[core]\n\t= 1\n"), LMD_EBADINPUT, "empty key");
	cr_assert_eq(load_bad("[remote \"origin]\n\turl = x\n"), LMD_EBADINPUT, "unclosed subsection quote");
	cr_assert_eq(load_bad("[core]\nformat = 1\n[broken\n"), LMD_EBADINPUT);
	/* and what is fine */
	cr_assert_eq(load_bad(""), 0);
	cr_assert_eq(load_bad("\n\n# only comments\n; and these\n"), 0);
	cr_assert_eq(load_bad("[core]\n"), 0);
	cr_assert_eq(load_bad("[core]\n\tformat = 1"), 0, "no final newline");
}

Test(config, oversized_file_is_refused)
{
	size_t n = (1u << 20) + 1;
	char *big = malloc(n + 1);
	lmd_config *c = NULL;
	cr_assert_not_null(big);
	memset(big, '#', n);
	big[n] = 0;
	t_write(t_path("big"), big, n);
	cr_assert_lt(lmd_config_load(t_path("big"), &c), 0);
	free(big);
}

/*
 * Values must come back from a write + load exactly as they were set (or
 * be refused by set with LMD_EBADINPUT).
 */
Test(config, awkward_values_roundtrip)
{
	static const char *vals[] = {
		" leading space", "trailing space ", "tab\there", "semi;colon", "hash#mark", "back\\slash",
		"a=b", "[not a section]", "quote\"inside", "\"quoted\"", "multi\nline",
	};
	bool refused[sizeof(vals) / sizeof(vals[0])] = { 0 };
	lmd_config *c = load_text("config", "[core]\n\tformat = 1\n");
	char key[64];
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		int r;
		snprintf(key, sizeof(key), "v.k%zu", i);
		r = lmd_config_set(c, key, vals[i]);
		cr_assert(r == 0 || r == LMD_EBADINPUT, "set of value %zu: %d", i, r);
		refused[i] = r < 0;
	}
	cr_assert_eq(lmd_config_write(c), 0);
	lmd_config_free(c);
	c = reload("config");
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		const char *got;
		if (refused[i])
			continue;
		snprintf(key, sizeof(key), "v.k%zu", i);
		got = lmd_config_get(c, key);
		cr_expect(got && !strcmp(got, vals[i]), "value %zu '%s' came back as '%s'", i, vals[i], got ? got : "(unset)");
	}
	cr_assert_str_eq(lmd_config_get(c, "core.format"), "1");
	lmd_config_free(c);
}

/* A value set through the API must not be able to add other keys. */
Test(config, value_with_newline_cannot_inject_keys)
{
	lmd_config *c = load_text("config", "[core]\n\tformat = 1\n");
	int r = lmd_config_set(c, "remote.origin.url", "s3://b/p\n[core]\n\tformat = 9");
	cr_assert(r == 0 || r == LMD_EBADINPUT);
	if (r == 0)
		cr_assert_eq(lmd_config_write(c), 0);
	lmd_config_free(c);
	c = reload("config");
	cr_assert_str_eq(lmd_config_get(c, "core.format"), "1", "a newline in a value injected 'core.format = 9'");
	lmd_config_free(c);
}
