/*
 * Internal helpers: quoting for display, atomic file replacement, the
 * growable buffer and its cap, capped file reads, paths, ids, sizes.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lmdata/common.h"
#include "testutil.h"
#include "util.h"

TestSuite(util, .init = t_mktemp, .fini = t_cleanup);
TestSuite(quote);
TestSuite(buf);

/* ---- lmd_quote ---- */

Test(quote, plain_and_escaped)
{
	static const char *cases[][2] = {
		{ "plain.txt", "plain.txt" },
		{ "", "" },
		{ "with space", "with space" },
		{ "dir/sub/file", "dir/sub/file" },
		{ "~!@#$%^&*()_+-={}[]|:;'<>,.?`", "~!@#$%^&*()_+-={}[]|:;'<>,.?`" },
		{ "new\nline", "\"new\\nline\"" },
		{ "tab\t", "\"tab\\t\"" },
		{ "cr\r", "\"cr\\r\"" },
		{ "q\"uote", "\"q\\\"uote\"" },
		{ "back\\slash", "\"back\\\\slash\"" },
		{ "caf\xc3\xa9", "\"caf\\303\\251\"" },
		{ "\x01", "\"\\001\"" },
		{ "\x1f", "\"\\037\"" },
		{ "\x7f", "\"\\177\"" },
		{ "\xff", "\"\\377\"" },
		{ "a\x1b[31mred", "\"a\\033[31mred\"" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_str_eq(lmd_quote(cases[i][0]), cases[i][1], "case %zu", i);
}

Test(quote, four_slots_stay_valid)
{
	const char *a = lmd_quote("one\n"), *b = lmd_quote("two"), *c = lmd_quote("three\t"), *d = lmd_quote("four");
	cr_assert_str_eq(a, "\"one\\n\"");
	cr_assert_str_eq(b, "two");
	cr_assert_str_eq(c, "\"three\\t\"");
	cr_assert_str_eq(d, "four");
	cr_assert(a != b && b != c && c != d && a != d);
}

Test(quote, long_name)
{
	size_t n = 10000;
	char *s = malloc(n + 1);
	const char *q;
	cr_assert_not_null(s);
	memset(s, '\n', n);
	s[n] = 0;
	q = lmd_quote(s);
	cr_assert_eq(strlen(q), 2 * n + 2);
	free(s);
}

/* ---- buffers ---- */

Test(buf, put_printf_cstr_clear)
{
	lmd_buf b = LMD_BUF_INIT;
	cr_assert_null(b.ptr);
	cr_assert_eq(lmd_buf_put(&b, "abc", 3), 0);
	cr_assert_eq(b.len, 3);
	cr_assert_leq(b.len, b.alloc);
	cr_assert_str_eq((char *)b.ptr, "abc", "put keeps the buffer NUL-terminated");
	cr_assert_eq(lmd_buf_puts(&b, "def"), 0);
	cr_assert_eq(lmd_buf_printf(&b, "-%d-%s", 42, "x"), 0);
	cr_assert_eq(b.len, 11);
	cr_assert_str_eq((char *)b.ptr, "abcdef-42-x");
	cr_assert_eq(lmd_buf_put(&b, "\0z", 2), 0);
	cr_assert_eq(b.len, 13);
	cr_assert_eq(lmd_buf_cstr(&b), 0);
	cr_assert_eq(b.len, 13, "cstr does not count the NUL");
	cr_assert_eq(b.ptr[13], 0);
	lmd_buf_clear(&b);
	cr_assert_eq(b.len, 0);
	cr_assert_not_null(b.ptr);
	cr_assert_str_eq((char *)b.ptr, "");
	/* growth across many reallocations */
	for (int i = 0; i < 100000; i++)
		cr_assert_eq(lmd_buf_put(&b, &i, sizeof(i)), 0);
	cr_assert_eq(b.len, 100000 * sizeof(int));
	for (int i = 0; i < 100000; i += 997) {
		int v;
		memcpy(&v, b.ptr + (size_t)i * sizeof(int), sizeof(v));
		cr_assert_eq(v, i);
	}
	lmd_buf_release(&b);
	cr_assert_null(b.ptr);
	cr_assert_eq(b.len + b.alloc, 0);
	lmd_buf_release(&b);
}

Test(buf, growth_is_capped)
{
	lmd_buf b = LMD_BUF_INIT;
	uint8_t *keep;
	size_t alloc;

	cr_assert_eq(lmd_buf_grow(&b, (size_t)LMD_MAX_BLOB + 1), LMD_ETOOBIG);
	cr_assert_null(b.ptr, "a refused growth allocated");
	cr_assert_eq(lmd_buf_grow(&b, SIZE_MAX), LMD_ETOOBIG);
	cr_assert_eq(lmd_buf_grow(&b, SIZE_MAX - 10), LMD_ETOOBIG);
	cr_assert_neq(lmd_error_last()[0], '\0');

	cr_assert_eq(lmd_buf_puts(&b, "data"), 0);
	keep = b.ptr;
	alloc = b.alloc;
	cr_assert_eq(lmd_buf_put(&b, "x", (size_t)LMD_MAX_BLOB), LMD_ETOOBIG, "len + n over the cap");
	cr_assert_eq(b.len, 4, "a refused put changed the length");
	cr_assert_eq(b.ptr, keep);
	cr_assert_eq(b.alloc, alloc);
	cr_assert_str_eq((char *)b.ptr, "data");
	/* a buffer already at the cap cannot take one more byte (the check
	 * happens before any memory is touched, so a fake length is enough) */
	b.len = LMD_MAX_BLOB;
	cr_assert_eq(lmd_buf_grow(&b, 1), LMD_ETOOBIG);
	b.len = LMD_MAX_BLOB - 1;
	cr_assert_eq(lmd_buf_grow(&b, 2), LMD_ETOOBIG);
	b.len = 4;
	cr_assert_str_eq((char *)b.ptr, "data");
	lmd_buf_release(&b);
}

/* ---- files ---- */

Test(util, atomic_write_creates_and_replaces)
{
	lmd_buf b = LMD_BUF_INIT;
	struct stat st;
	const char *path = strdup(t_path("out.txt"));

	umask(022);
	cr_assert_eq(lmd_write_file_atomic(path, "first", 5, 0640), 0, "%s", lmd_error_last());
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0640);
	cr_assert_eq(lmd_read_file(path, 100, &b), 0);
	cr_assert_eq(b.len, 5);
	cr_assert_str_eq((char *)b.ptr, "first");
	cr_assert_eq(t_count_entries(t_dir), 1, "a temp file was left behind");

	cr_assert_eq(lmd_write_file_atomic(path, "second, longer", 14, 0644), 0);
	cr_assert_eq(lmd_read_file(path, 100, &b), 0);
	cr_assert_str_eq((char *)b.ptr, "second, longer");
	cr_assert_eq(t_count_entries(t_dir), 1, "a temp file was left behind");

	cr_assert_eq(lmd_write_file_atomic(path, "", 0, 0644), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_size, 0);
	cr_assert_eq(t_count_entries(t_dir), 1);
	lmd_buf_release(&b);
	free((char *)path);
}

Test(util, atomic_write_failure_leaves_no_temp_file)
{
	char *dir = strdup(t_path("target"));
	char *missing = strdup(t_path("no/such/folder/f"));
	char *inside = NULL;

	/* the target is a folder: rename fails after the temp file exists */
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_geq(asprintf(&inside, "%s/keep", dir), 0);
	t_write(inside, "x", 1);
	cr_assert_lt(lmd_write_file_atomic(dir, "data", 4, 0644), 0);
	cr_assert_neq(lmd_error_last()[0], '\0');
	cr_assert_eq(t_count_entries(t_dir), 1, "a temp file was left next to the target");
	cr_assert_eq(t_count_entries(dir), 1, "the folder was changed");

	/* the folder does not exist: nothing is created anywhere */
	cr_assert_lt(lmd_write_file_atomic(missing, "data", 4, 0644), 0);
	cr_assert_eq(t_count_entries(t_dir), 1);
	free(dir);
	free(missing);
	free(inside);
}

Test(util, tmpfile_near_makes_distinct_files)
{
	char *a = NULL, *b = NULL, *path = strdup(t_path("base"));
	int fa = lmd_tmpfile_near(path, 0600, &a), fb = lmd_tmpfile_near(path, 0600, &b);
	cr_assert_geq(fa, 0);
	cr_assert_geq(fb, 0);
	cr_assert_str_neq(a, b);
	cr_assert_eq(strncmp(a, t_dir, strlen(t_dir)), 0, "temp file '%s' not next to its target", a);
	cr_assert_eq(lmd_write_all(fa, "hello", 5), 0);
	close(fa);
	close(fb);
	{
		int fd = open(a, O_RDONLY);
		char buf[16];
		cr_assert_eq(lmd_read_full(fd, buf, sizeof(buf)), 5, "read_full returns less only at end of file");
		cr_assert_eq(lmd_pread_full(fd, buf, 3, 2), 3);
		cr_assert_eq(memcmp(buf, "llo", 3), 0);
		close(fd);
	}
	unlink(a);
	unlink(b);
	free(a);
	free(b);
	free(path);
}

Test(util, read_file_caps_and_checks)
{
	lmd_buf b = LMD_BUF_INIT;
	char *path = strdup(t_path("f"));
	uint8_t data[100];

	memset(data, 'a', sizeof(data));
	t_write(path, data, sizeof(data));
	cr_assert_eq(lmd_read_file(path, 99, &b), LMD_ETOOBIG);
	cr_assert_eq(lmd_read_file(path, 100, &b), 0);
	cr_assert_eq(b.len, 100);
	cr_assert_eq(b.ptr[100], 0, "read_file NUL-terminates");
	cr_assert_eq(lmd_read_file(t_path("missing"), 100, &b), -ENOENT);
	cr_assert_eq(lmd_read_file(t_dir, 100, &b), LMD_EBADINPUT, "a folder is not a regular file");
	t_write(path, "", 0);
	cr_assert_eq(lmd_read_file(path, 0, &b), 0);
	cr_assert_eq(b.len, 0);
	lmd_buf_release(&b);
	free(path);
}

Test(util, mkdir_p)
{
	char *deep = strdup(t_path("a/b/c/d"));
	struct stat st;
	cr_assert_eq(lmd_mkdir_p(deep, 0755), 0, "%s", lmd_error_last());
	cr_assert_eq(stat(deep, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(lmd_mkdir_p(deep, 0755), 0, "existing folders are fine");
	t_write(t_path("file"), "x", 1);
	free(deep);
	deep = strdup(t_path("file/sub"));
	cr_assert_lt(lmd_mkdir_p(deep, 0755), 0, "a file in the way");
	free(deep);
}

/* An empty path is an error, not a walk past the end of the string (run
 * under AddressSanitizer to see the difference). */
Test(util, mkdir_p_of_empty_path_fails_cleanly)
{
	char *empty = strdup("");
	cr_assert_not_null(empty);
	cr_assert_lt(lmd_mkdir_p(empty, 0755), 0);
	free(empty);
}

/* ---- paths ---- */

Test(quote, paths)
{
	char *p;
#define EQ(expr, want) do { p = (expr); cr_assert_str_eq(p, want); free(p); } while (0)
	EQ(lmd_path_join("a", "b"), "a/b");
	EQ(lmd_path_join("a/", "b"), "a/b");
	EQ(lmd_path_join("/", "b"), "/b");
	EQ(lmd_path_join("a", ""), "a");
	EQ(lmd_path_join("", "b"), "b");
	EQ(lmd_path_dirname("a/b/c"), "a/b");
	EQ(lmd_path_dirname("c"), "");
	EQ(lmd_path_dirname("/c"), "/");
	EQ(lmd_path_dirname("/x/c"), "/x");
#undef EQ
	cr_assert_str_eq(lmd_path_basename("a/b/c"), "c");
	cr_assert_str_eq(lmd_path_basename("c"), "c");
	cr_assert_str_eq(lmd_path_basename("a/"), "");
}

/* ---- ids and sizes ---- */

Test(quote, oid_fmt_parse)
{
	static const char *hex = "00ff0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab";
	char out[LMD_OID_HEXSZ + 1];
	lmd_oid a, b, zero = { { 0 } };

	cr_assert_eq(lmd_oid_parse(&a, hex, 64), 0);
	cr_assert_eq(a.id[0], 0x00);
	cr_assert_eq(a.id[1], 0xff);
	lmd_oid_fmt(out, &a);
	cr_assert_str_eq(out, hex);
	cr_assert_eq(lmd_oid_parse(&b, "00FF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789AB", 64), 0);
	cr_assert_eq(lmd_oid_cmp(&a, &b), 0, "uppercase hex is accepted");
	cr_assert(lmd_oid_is_zero(&zero));
	cr_assert_not(lmd_oid_is_zero(&a));
	cr_assert_lt(lmd_oid_cmp(&zero, &a), 0);

	b = zero;
	cr_assert_eq(lmd_oid_parse(&b, hex, 63), -EINVAL);
	cr_assert_eq(lmd_oid_parse(&b, hex, 0), -EINVAL);
	cr_assert_eq(lmd_oid_parse(&b, "g0ff0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab", 64), -EINVAL);
	cr_assert_eq(lmd_oid_parse(&b, "00ff0123456789abcdef0123456789abcdef0123456789abcdef012345678 ab", 64), -EINVAL);
	cr_assert(lmd_oid_is_zero(&b), "out-parameter set on failure");
}

Test(quote, human_size)
{
	cr_assert_str_eq(lmd_human_size(0), "0 B");
	cr_assert_str_eq(lmd_human_size(1023), "1023 B");
	cr_assert_str_eq(lmd_human_size(1024), "1.0 KiB");
	cr_assert_str_eq(lmd_human_size(1536), "1.5 KiB");
	cr_assert_str_eq(lmd_human_size(5ull << 20), "5.0 MiB");
	cr_assert_str_eq(lmd_human_size(3ull << 30), "3.0 GiB");
	cr_assert_str_eq(lmd_human_size(UINT64_MAX), "16384.0 PiB");
}

Test(quote, error_messages)
{
	lmd_error_clear();
	cr_assert_str_eq(lmd_error_last(), "");
	cr_assert_eq(lmd_error_code(), 0);
	cr_assert_eq(lmd_error_set(LMD_ECORRUPT, "object %s is bad", "x"), LMD_ECORRUPT);
	cr_assert_str_eq(lmd_error_last(), "object x is bad");
	cr_assert_eq(lmd_error_code(), LMD_ECORRUPT);
	cr_assert_eq(lmd_error_wrap(LMD_ECORRUPT, "pack %d", 3), LMD_ECORRUPT);
	cr_assert_str_eq(lmd_error_last(), "pack 3: object x is bad");
	lmd_error_clear();
	cr_assert_eq(lmd_error_code(), 0);
}
