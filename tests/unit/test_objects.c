/*
 * Tree and file-list objects: encode/parse roundtrips, ordering, and
 * rejection of malformed bytes (parsing treats every byte as hostile).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "objects.h"
#include "pack.h"
#include "testutil.h"

static lmd_oid oid_of(const char *s)
{
	lmd_oid id;
	cr_assert_eq(lmd_sha256_buf(s, strlen(s), &id), 0);
	return id;
}

static lmd_buf buf_of(const void *p, size_t n)
{
	lmd_buf b = LMD_BUF_INIT;
	cr_assert_eq(lmd_buf_put(&b, p, n), 0);
	return b;
}

/* ---- trees ---- */

Test(tree, encode_parse_roundtrip)
{
	lmd_tree_entry e[] = {
		{ "README.md", LMD_MODE_FILE, 1234, 1, oid_of("readme") },
		{ "data", LMD_MODE_DIR, 1ull << 40, 100000, oid_of("data") },
		{ "empty", LMD_MODE_FILE, 0, 1, oid_of("") },
		{ "link", LMD_MODE_LINK, 9, 1, oid_of("target") },
		{ "run.sh", LMD_MODE_EXEC, 42, 1, oid_of("run") },
		{ "with space \xc3\xa9\n", LMD_MODE_FILE, 7, 1, oid_of("sp") },
	};
	size_t n = sizeof(e) / sizeof(e[0]);
	lmd_buf raw = LMD_BUF_INIT;
	lmd_oid id, want;
	lmd_tree t;

	cr_assert_eq(lmd_tree_encode(e, n, &raw, &id), 0);
	cr_assert_eq(lmd_sha256_buf(raw.ptr, raw.len, &want), 0);
	cr_assert_eq(lmd_oid_cmp(&id, &want), 0, "a tree's id is the sha256 of its bytes");
	cr_assert_eq(memcmp(raw.ptr, LMD_TREE_MAGIC, strlen(LMD_TREE_MAGIC)), 0);

	cr_assert_eq(lmd_tree_parse(&raw, &t), 0, "%s", lmd_error_last());
	cr_assert_null(raw.ptr, "parse takes ownership of the buffer");
	cr_assert_eq(t.n, n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(t.entries[i].name, e[i].name);
		cr_assert_eq(t.entries[i].mode, e[i].mode);
		cr_assert_eq(t.entries[i].size, e[i].size);
		cr_assert_eq(t.entries[i].files, e[i].files);
		cr_assert_eq(lmd_oid_cmp(&t.entries[i].id, &e[i].id), 0);
		cr_assert_eq(lmd_tree_find(&t, e[i].name), &t.entries[i]);
	}
	cr_assert_null(lmd_tree_find(&t, "nope"));
	cr_assert_null(lmd_tree_find(&t, ""));
	cr_assert_null(lmd_tree_find(&t, "data/"));

	/* Re-encoding the parsed entries gives the same bytes and id. */
	{
		lmd_buf again = LMD_BUF_INIT;
		lmd_oid id2;
		cr_assert_eq(lmd_tree_encode(t.entries, t.n, &again, &id2), 0);
		cr_assert_eq(again.len, t.raw.len);
		cr_assert_arr_eq(again.ptr, t.raw.ptr, again.len);
		cr_assert_eq(lmd_oid_cmp(&id, &id2), 0);
		lmd_buf_release(&again);
	}
	lmd_tree_release(&t);
}

Test(tree, empty_tree)
{
	lmd_buf raw = LMD_BUF_INIT;
	lmd_oid id;
	lmd_tree t;
	cr_assert_eq(lmd_tree_encode(NULL, 0, &raw, &id), 0);
	cr_assert_eq(raw.len, strlen(LMD_TREE_MAGIC));
	cr_assert_eq(lmd_tree_parse(&raw, &t), 0);
	cr_assert_eq(t.n, 0);
	cr_assert_null(lmd_tree_find(&t, "a"));
	lmd_tree_release(&t);
}

Test(tree, sorted_bytewise_by_cmp)
{
	const char *names[] = { "b", "a0", "a.b", "B", "a", "\xc3\xa9t\xc3\xa9", "z", "a-", "_x", "~" };
	size_t n = sizeof(names) / sizeof(names[0]);
	lmd_tree_entry e[sizeof(names) / sizeof(names[0])];
	lmd_buf raw = LMD_BUF_INIT;
	lmd_oid id;
	lmd_tree t;

	for (size_t i = 0; i < n; i++)
		e[i] = (lmd_tree_entry){ names[i], LMD_MODE_FILE, i, 1, oid_of(names[i]) };
	qsort(e, n, sizeof(e[0]), lmd_tree_entry_cmp);
	for (size_t i = 1; i < n; i++)
		cr_assert_lt(memcmp(e[i - 1].name, e[i].name, LMD_MIN(strlen(e[i - 1].name), strlen(e[i].name)) + 1), 0,
			     "'%s' sorted before '%s'", e[i - 1].name, e[i].name);
	/* bytewise: uppercase before lowercase, UTF-8 after ASCII */
	cr_assert_str_eq(e[0].name, "B");
	cr_assert_str_eq(e[n - 1].name, "\xc3\xa9t\xc3\xa9");

	cr_assert_eq(lmd_tree_encode(e, n, &raw, &id), 0);
	cr_assert_eq(lmd_tree_parse(&raw, &t), 0, "%s", lmd_error_last());
	for (size_t i = 0; i < n; i++)
		cr_assert_not_null(lmd_tree_find(&t, names[i]), "'%s' not found", names[i]);
	lmd_tree_release(&t);
}

Test(tree, unsorted_encoding_is_rejected_by_parse)
{
	lmd_tree_entry e[] = {
		{ "b", LMD_MODE_FILE, 1, 1, oid_of("b") },
		{ "a", LMD_MODE_FILE, 1, 1, oid_of("a") },
	};
	lmd_buf raw = LMD_BUF_INIT;
	lmd_oid id;
	lmd_tree t;
	cr_assert_eq(lmd_tree_encode(e, 2, &raw, &id), 0);
	cr_assert_eq(lmd_tree_parse(&raw, &t), LMD_ECORRUPT);
	cr_assert_null(raw.ptr);
}

/* Build one entry line "<mode> <size> <files> <hex> <name>\0". */
static void put_entry(lmd_buf *b, const char *mode, const char *size, const char *files, const char *hex,
		      const char *name, size_t name_len)
{
	cr_assert_eq(lmd_buf_printf(b, "%s %s %s %s ", mode, size, files, hex), 0);
	cr_assert_eq(lmd_buf_put(b, name, name_len), 0);
	cr_assert_eq(lmd_buf_put(b, "", 1), 0);
}

#define HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse_one(const char *mode, const char *size, const char *files, const char *hex, const char *name,
		     size_t name_len)
{
	lmd_buf b = LMD_BUF_INIT;
	lmd_tree t;
	int r;
	cr_assert_eq(lmd_buf_puts(&b, LMD_TREE_MAGIC), 0);
	put_entry(&b, mode, size, files, hex, name, name_len);
	r = lmd_tree_parse(&b, &t);
	if (r == 0)
		lmd_tree_release(&t);
	return r;
}

#define ONE(mode, size, files, hex, name) parse_one(mode, size, files, hex, name, strlen(name))

Test(tree, handmade_valid_entries_parse)
{
	cr_assert_eq(ONE("100644", "5", "1", HEX, "a"), 0, "%s", lmd_error_last());
	cr_assert_eq(ONE("100755", "0", "1", HEX, "a"), 0);
	cr_assert_eq(ONE("120000", "3", "1", HEX, "l"), 0);
	cr_assert_eq(ONE("40000", "99", "7", HEX, "d"), 0);
	cr_assert_eq(ONE("40000", "0", "0", HEX, "d"), 0);
	cr_assert_eq(ONE("100644", "5", "1", "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", "a"), 0);
}

Test(tree, rejects_bad_mode)
{
	const char *modes[] = { "100600", "100777", "644", "0", "040000x", "100648", "", "-100644", "160000",
				"10000000000000000000000000" };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		cr_assert_eq(ONE(modes[i], "1", "1", HEX, "a"), LMD_ECORRUPT, "mode '%s' accepted", modes[i]);
}

Test(tree, rejects_bad_numbers)
{
	cr_assert_eq(ONE("100644", "-1", "1", HEX, "a"), LMD_ECORRUPT);
	cr_assert_eq(ONE("100644", "1x", "1", HEX, "a"), LMD_ECORRUPT);
	cr_assert_eq(ONE("100644", "", "1", HEX, "a"), LMD_ECORRUPT);
	cr_assert_eq(ONE("100644", "99999999999999999999999", "1", HEX, "a"), LMD_ECORRUPT);
	cr_assert_eq(ONE("100644", "4611686018427387905", "1", HEX, "a"), LMD_ECORRUPT); /* > 2^62 */
	cr_assert_eq(ONE("40000", "1", "1099511627777", HEX, "d"), LMD_ECORRUPT);        /* > 2^40 files */
	/* a file, link or exec counts exactly one file */
	cr_assert_eq(ONE("100644", "1", "0", HEX, "a"), LMD_ECORRUPT);
	cr_assert_eq(ONE("100644", "1", "2", HEX, "a"), LMD_ECORRUPT);
	cr_assert_eq(ONE("120000", "1", "2", HEX, "a"), LMD_ECORRUPT);
}

Test(tree, rejects_bad_hex)
{
	cr_assert_eq(ONE("100644", "1", "1", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg", "a"),
		     LMD_ECORRUPT);
	cr_assert_eq(ONE("100644", "1", "1", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", "a"),
		     LMD_ECORRUPT);
	cr_assert_eq(ONE("100644", "1", "1", HEX "0", "a"), LMD_ECORRUPT);
	cr_assert_eq(ONE("100644", "1", "1", "", "a"), LMD_ECORRUPT);
	cr_assert_eq(ONE("100644", "1", "1", "0x23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "a"),
		     LMD_ECORRUPT);
}

Test(tree, rejects_bad_names)
{
	cr_assert_eq(ONE("100644", "1", "1", HEX, "a/b"), LMD_ECORRUPT);
	cr_assert_eq(ONE("100644", "1", "1", HEX, "/"), LMD_ECORRUPT);
	cr_assert_eq(ONE("100644", "1", "1", HEX, "/etc"), LMD_ECORRUPT);
	cr_assert_eq(ONE("100644", "1", "1", HEX, "x/"), LMD_ECORRUPT);
	cr_assert_eq(ONE("40000", "1", "1", HEX, ".."), LMD_ECORRUPT);
	cr_assert_eq(ONE("40000", "1", "1", HEX, "."), LMD_ECORRUPT);
	cr_assert_eq(ONE("100644", "1", "1", HEX, ""), LMD_ECORRUPT);
	/* but names merely starting with dots are fine */
	cr_assert_eq(ONE("100644", "1", "1", HEX, "..."), 0);
	cr_assert_eq(ONE("100644", "1", "1", HEX, ".hidden"), 0);
	cr_assert_eq(ONE("100644", "1", "1", HEX, "..x"), 0);
}

Test(tree, rejects_unsorted_and_duplicate_names)
{
	const char *pairs[][2] = { { "b", "a" }, { "a", "a" }, { "a0", "a.b" }, { "a", "B" }, { "ab", "a" } };
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		lmd_buf b = LMD_BUF_INIT;
		lmd_tree t;
		cr_assert_eq(lmd_buf_puts(&b, LMD_TREE_MAGIC), 0);
		put_entry(&b, "100644", "1", "1", HEX, pairs[i][0], strlen(pairs[i][0]));
		put_entry(&b, "100644", "1", "1", HEX, pairs[i][1], strlen(pairs[i][1]));
		cr_assert_eq(lmd_tree_parse(&b, &t), LMD_ECORRUPT, "'%s' then '%s' accepted", pairs[i][0], pairs[i][1]);
	}
}

Test(tree, rejects_bad_framing)
{
	static const char *bad[] = {
		"",
		"lmdtree 1",
		"lmdtree 2\n",
		"LMDTREE 1\n",
		"lmdtree 1\n100644 1 1 " HEX " a",            /* no terminating NUL */
		"lmdtree 1\n100644 1 1 " HEX,                 /* truncated */
		"lmdtree 1\n100644 1 1 ",
		"lmdtree 1\n100644 1 1",
		"lmdtree 1\n100644",
		"lmdtree 1\n100644  1 1 " HEX " a",           /* double space */
		"lmdtree 1\n100644 1 1 " HEX "\ta",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lmd_buf b = buf_of(bad[i], strlen(bad[i]));
		lmd_tree t;
		cr_assert_eq(lmd_tree_parse(&b, &t), LMD_ECORRUPT, "case %zu accepted", i);
	}
	/* a NUL inside the name ends it: "a\0b\0" is two entries' worth of
	 * bytes, the second malformed */
	{
		lmd_buf b = LMD_BUF_INIT;
		lmd_tree t;
		cr_assert_eq(lmd_buf_puts(&b, LMD_TREE_MAGIC), 0);
		put_entry(&b, "100644", "1", "1", HEX, "a\0b", 3);
		cr_assert_eq(lmd_tree_parse(&b, &t), LMD_ECORRUPT);
	}
}

Test(tree, name_ok)
{
	cr_assert(lmd_name_ok("a", 1));
	cr_assert(lmd_name_ok("...", 3));
	cr_assert(lmd_name_ok("a b\n", 4));
	cr_assert_not(lmd_name_ok("", 0));
	cr_assert_not(lmd_name_ok(".", 1));
	cr_assert_not(lmd_name_ok("..", 2));
	cr_assert_not(lmd_name_ok("a/b", 3));
	cr_assert_not(lmd_name_ok("a\0b", 3));
}

/* ---- file lists ---- */

static void make_chunks(lmd_chunk_ref *c, uint32_t n, uint64_t *size)
{
	t_rng r = { 99 };
	*size = 0;
	for (uint32_t i = 0; i < n; i++) {
		t_fill(&r, c[i].id.id, 32);
		c[i].len = 1 + (uint32_t)(t_rand(&r) % 100000);
		*size += c[i].len;
	}
}

Test(filelist, encode_parse_roundtrip)
{
	lmd_chunk_ref c[50], *got = NULL;
	uint64_t size, gsize = 0;
	uint32_t gn = 0;
	lmd_buf b = LMD_BUF_INIT;
	lmd_oid sum;

	make_chunks(c, 50, &size);
	cr_assert_eq(lmd_filelist_encode(size, c, 50, &b), 0);
	cr_assert_eq(b.len, LMD_FILE_HDR + 50 * LMD_FILE_ENT + 32);
	cr_assert_eq(memcmp(b.ptr, LMD_FILE_MAGIC, 8), 0);
	/* its own trailer: sha256 of everything before it */
	cr_assert_eq(lmd_sha256_buf(b.ptr, b.len - 32, &sum), 0);
	cr_assert_arr_eq(sum.id, b.ptr + b.len - 32, 32);

	cr_assert_eq(lmd_filelist_parse(b.ptr, b.len, &gsize, &got, &gn), 0, "%s", lmd_error_last());
	cr_assert_eq(gsize, size);
	cr_assert_eq(gn, 50);
	for (uint32_t i = 0; i < 50; i++) {
		cr_assert_eq(lmd_oid_cmp(&got[i].id, &c[i].id), 0);
		cr_assert_eq(got[i].len, c[i].len);
	}
	free(got);
	lmd_buf_release(&b);
}

Test(filelist, large_sizes_roundtrip)
{
	lmd_chunk_ref c[3];
	lmd_chunk_ref *got = NULL;
	uint64_t gsize;
	uint32_t gn;
	lmd_buf b = LMD_BUF_INIT;
	memset(c, 0x11, sizeof(c));
	c[0].len = c[1].len = c[2].len = UINT32_MAX;
	cr_assert_eq(lmd_filelist_encode(3ull * UINT32_MAX, c, 3, &b), 0);
	cr_assert_eq(lmd_filelist_parse(b.ptr, b.len, &gsize, &got, &gn), 0);
	cr_assert_eq(gsize, 3ull * UINT32_MAX);
	cr_assert_eq(gn, 3);
	free(got);
	lmd_buf_release(&b);
}

static int parse_buf(const lmd_buf *b)
{
	lmd_chunk_ref *got = (lmd_chunk_ref *)0x1;
	uint64_t size = 7;
	uint32_t n = 7;
	int r = lmd_filelist_parse(b->ptr, b->len, &size, &got, &n);
	if (r == 0)
		free(got);
	else
		cr_assert(got == (lmd_chunk_ref *)0x1 && size == 7 && n == 7, "out-parameters touched on failure");
	return r;
}

Test(filelist, rejects_wrong_sizes)
{
	lmd_chunk_ref c[4];
	uint64_t size;
	lmd_buf b = LMD_BUF_INIT;

	make_chunks(c, 4, &size);
	cr_assert_eq(lmd_filelist_encode(size, c, 4, &b), 0);
	cr_assert_eq(parse_buf(&b), 0);

	/* one byte short, one byte long */
	b.len--;
	cr_assert_eq(parse_buf(&b), LMD_ECORRUPT);
	b.len++;
	cr_assert_eq(lmd_buf_put(&b, "x", 1), 0);
	cr_assert_eq(parse_buf(&b), LMD_ECORRUPT);
	b.len--;
	/* a whole entry short */
	b.len -= LMD_FILE_ENT;
	cr_assert_eq(parse_buf(&b), LMD_ECORRUPT);
	b.len += LMD_FILE_ENT;
	/* too short for a header */
	{
		size_t keep = b.len;
		b.len = LMD_FILE_HDR + 31;
		cr_assert_eq(parse_buf(&b), LMD_ECORRUPT);
		b.len = 0;
		cr_assert_eq(parse_buf(&b), LMD_ECORRUPT);
		b.len = keep;
	}
	/* count that does not match the length (incl. overflow-prone huge counts) */
	lmd_put_le32(b.ptr + 16, 5);
	cr_assert_eq(parse_buf(&b), LMD_ECORRUPT);
	lmd_put_le32(b.ptr + 16, 3);
	cr_assert_eq(parse_buf(&b), LMD_ECORRUPT);
	lmd_put_le32(b.ptr + 16, UINT32_MAX);
	cr_assert_eq(parse_buf(&b), LMD_ECORRUPT);
	lmd_put_le32(b.ptr + 16, 4);
	/* size that does not add up */
	lmd_put_le64(b.ptr + 8, size + 1);
	cr_assert_eq(parse_buf(&b), LMD_ECORRUPT);
	lmd_put_le64(b.ptr + 8, size - 1);
	cr_assert_eq(parse_buf(&b), LMD_ECORRUPT);
	lmd_put_le64(b.ptr + 8, 0);
	cr_assert_eq(parse_buf(&b), LMD_ECORRUPT);
	lmd_put_le64(b.ptr + 8, size);
	cr_assert_eq(parse_buf(&b), 0);
	/* bad magic */
	b.ptr[0] = 'X';
	cr_assert_eq(parse_buf(&b), LMD_ECORRUPT);
	lmd_buf_release(&b);
}

Test(filelist, rejects_zero_length_chunk)
{
	lmd_chunk_ref c[3];
	uint64_t size;
	lmd_buf b = LMD_BUF_INIT;
	make_chunks(c, 3, &size);
	size -= c[1].len;
	c[1].len = 0;
	cr_assert_eq(lmd_filelist_encode(size, c, 3, &b), 0);
	cr_assert_eq(parse_buf(&b), LMD_ECORRUPT);
	lmd_buf_release(&b);
}

Test(filelist, empty_list)
{
	lmd_buf b = LMD_BUF_INIT;
	cr_assert_eq(lmd_filelist_encode(0, NULL, 0, &b), 0);
	cr_assert_eq(b.len, LMD_FILE_HDR + 32);
	cr_assert_eq(parse_buf(&b), 0);
	lmd_buf_release(&b);
}

/* ---- seeded mutations: parsing never crashes and never half-accepts ---- */

static void mutate(t_rng *r, lmd_buf *b)
{
	unsigned k = (unsigned)(t_rand(r) % 4);
	if (!b->len)
		return;
	if (k == 0) {
		b->ptr[t_rand(r) % b->len] ^= (uint8_t)(1u << (t_rand(r) % 8));
	} else if (k == 1) {
		b->len = (size_t)(t_rand(r) % b->len);
	} else if (k == 2) {
		b->ptr[t_rand(r) % b->len] = (uint8_t)t_rand(r);
	} else {
		static const char special[] = { ' ', '\0', '/', '.', '0', '9', 'f' };
		b->ptr[t_rand(r) % b->len] = (uint8_t)special[t_rand(r) % sizeof(special)];
	}
}

Test(tree, mutated_trees_are_parsed_or_rejected)
{
	lmd_tree_entry e[] = {
		{ "a", LMD_MODE_FILE, 1, 1, oid_of("a") },
		{ "b.d", LMD_MODE_DIR, 100, 5, oid_of("b") },
		{ "c", LMD_MODE_LINK, 3, 1, oid_of("c") },
	};
	lmd_buf orig = LMD_BUF_INIT;
	lmd_oid id;
	t_rng r = { 5 };

	cr_assert_eq(lmd_tree_encode(e, 3, &orig, &id), 0);
	for (int i = 0; i < 20000; i++) {
		lmd_buf b = buf_of(orig.ptr, orig.len);
		lmd_tree t;
		int rc;
		mutate(&r, &b);
		if (t_rand(&r) % 2)
			mutate(&r, &b);
		rc = lmd_tree_parse(&b, &t);
		cr_assert(rc == 0 || rc == LMD_ECORRUPT, "iteration %d: %d", i, rc);
		if (rc == 0) {
			for (size_t j = 0; j < t.n; j++) {
				cr_assert(lmd_name_ok(t.entries[j].name, strlen(t.entries[j].name)));
				if (j)
					cr_assert_lt(strcmp(t.entries[j - 1].name, t.entries[j].name), 0);
				cr_assert(t.entries[j].mode == LMD_MODE_DIR || t.entries[j].files == 1);
			}
			lmd_tree_release(&t);
		}
	}
	lmd_buf_release(&orig);
}

Test(filelist, mutated_lists_are_parsed_or_rejected)
{
	lmd_chunk_ref c[5];
	uint64_t size;
	lmd_buf orig = LMD_BUF_INIT;
	t_rng r = { 6 };

	make_chunks(c, 5, &size);
	cr_assert_eq(lmd_filelist_encode(size, c, 5, &orig), 0);
	for (int i = 0; i < 20000; i++) {
		lmd_buf b = buf_of(orig.ptr, orig.len);
		lmd_chunk_ref *got = NULL;
		uint64_t gsize, sum = 0;
		uint32_t gn;
		int rc;
		mutate(&r, &b);
		rc = lmd_filelist_parse(b.ptr, b.len, &gsize, &got, &gn);
		cr_assert(rc == 0 || rc == LMD_ECORRUPT, "iteration %d: %d", i, rc);
		if (rc == 0) {
			cr_assert_eq(b.len, LMD_FILE_HDR + (size_t)gn * LMD_FILE_ENT + 32);
			for (uint32_t j = 0; j < gn; j++) {
				cr_assert_gt(got[j].len, 0);
				sum += got[j].len;
			}
			cr_assert_eq(sum, gsize);
			free(got);
		}
		lmd_buf_release(&b);
	}
	lmd_buf_release(&orig);
}

/* ---- two-level lists: file lists of parts, and parts ---- */

static void make_parts(lmd_part_ref *p, uint32_t n, uint64_t *size)
{
	t_rng r = { 77 };
	*size = 0;
	for (uint32_t i = 0; i < n; i++) {
		t_fill(&r, p[i].id.id, 32);
		p[i].nchunks = 1 + (uint32_t)(t_rand(&r) % 40000);
		p[i].size = (uint64_t)p[i].nchunks * (1 + t_rand(&r) % 65536);
		*size += p[i].size;
	}
}

static int parse_parts(const lmd_buf *b)
{
	lmd_part_ref *got = (lmd_part_ref *)0x1;
	uint64_t size = 7;
	uint32_t n = 7;
	int r = lmd_fileparts_parse(b->ptr, b->len, &size, &got, &n);
	if (r == 0)
		free(got);
	else
		cr_assert(got == (lmd_part_ref *)0x1 && size == 7 && n == 7, "out-parameters touched on failure");
	return r;
}

/* Rewrite the header fields and the trailer, as a hostile writer would. */
static void reseal(lmd_buf *b)
{
	lmd_oid sum;
	cr_assert_eq(lmd_sha256_buf(b->ptr, b->len - 32, &sum), 0);
	memcpy(b->ptr + b->len - 32, sum.id, 32);
}

Test(fileparts, encode_parse_roundtrip)
{
	lmd_part_ref p[20], *got = NULL;
	uint64_t size, gsize = 0;
	uint32_t gn = 0;
	lmd_buf b = LMD_BUF_INIT;
	lmd_oid sum;

	make_parts(p, 20, &size);
	cr_assert_eq(lmd_fileparts_encode(size, p, 20, &b), 0);
	cr_assert_eq(b.len, LMD_FILE_HDR + 20 * LMD_FILEP_ENT + 32);
	cr_assert_eq(memcmp(b.ptr, LMD_FILEP_MAGIC, 8), 0);
	cr_assert(lmd_filelist_has_parts(b.ptr, b.len));
	cr_assert_eq(lmd_sha256_buf(b.ptr, b.len - 32, &sum), 0);
	cr_assert_arr_eq(sum.id, b.ptr + b.len - 32, 32);

	cr_assert_eq(lmd_fileparts_parse(b.ptr, b.len, &gsize, &got, &gn), 0, "%s", lmd_error_last());
	cr_assert_eq(gsize, size);
	cr_assert_eq(gn, 20);
	for (uint32_t i = 0; i < 20; i++) {
		cr_assert_eq(lmd_oid_cmp(&got[i].id, &p[i].id), 0);
		cr_assert_eq(got[i].size, p[i].size);
		cr_assert_eq(got[i].nchunks, p[i].nchunks);
	}
	free(got);
	/* A flat list is not one of parts, and is refused by the parts parser. */
	{
		lmd_chunk_ref c[2];
		uint64_t csize;
		make_chunks(c, 2, &csize);
		cr_assert_eq(lmd_filelist_encode(csize, c, 2, &b), 0);
		cr_assert_not(lmd_filelist_has_parts(b.ptr, b.len));
		cr_assert_eq(parse_parts(&b), LMD_ECORRUPT);
	}
	lmd_buf_release(&b);
}

Test(fileparts, huge_file_roundtrip)
{
	/* Sizes past 4 GiB per part and far past 4 GiB per file. */
	lmd_part_ref p[3], *got = NULL;
	uint64_t gsize;
	uint32_t gn;
	lmd_buf b = LMD_BUF_INIT;
	memset(p, 0x22, sizeof(p));
	for (int i = 0; i < 3; i++) {
		p[i].nchunks = 32768;
		p[i].size = 32768ull * UINT32_MAX;
	}
	cr_assert_eq(lmd_fileparts_encode(3 * 32768ull * UINT32_MAX, p, 3, &b), 0);
	cr_assert_eq(lmd_fileparts_parse(b.ptr, b.len, &gsize, &got, &gn), 0, "%s", lmd_error_last());
	cr_assert_eq(gsize, 3 * 32768ull * UINT32_MAX);
	free(got);
	lmd_buf_release(&b);
}

Test(fileparts, rejects_hostile_lists)
{
	lmd_part_ref p[4];
	uint64_t size;
	lmd_buf b = LMD_BUF_INIT;
	uint8_t *e1;

	make_parts(p, 4, &size);
	cr_assert_eq(lmd_fileparts_encode(size, p, 4, &b), 0);
	cr_assert_eq(parse_parts(&b), 0);
	e1 = b.ptr + LMD_FILE_HDR + LMD_FILEP_ENT; /* the second part's entry */

	/* truncated, one byte long, an entry short, shorter than a header */
	b.len--;
	cr_assert_eq(parse_parts(&b), LMD_ECORRUPT);
	b.len++;
	cr_assert_eq(lmd_buf_put(&b, "x", 1), 0);
	cr_assert_eq(parse_parts(&b), LMD_ECORRUPT);
	b.len--;
	b.len -= LMD_FILEP_ENT;
	cr_assert_eq(parse_parts(&b), LMD_ECORRUPT);
	b.len += LMD_FILEP_ENT;
	{
		size_t keep = b.len;
		for (size_t n = 0; n < LMD_FILE_HDR + 32; n++) {
			b.len = n;
			cr_assert_eq(parse_parts(&b), LMD_ECORRUPT, "length %zu", n);
		}
		b.len = keep;
	}
	/* counts that do not match the length, wrap a 32-bit product, or are 0 */
	static const uint32_t counts[] = { 0, 3, 5, UINT32_MAX, 0x80000000u, 0x5D1745D2u /* x44 wraps to 8 */ };
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		lmd_put_le32(b.ptr + 16, counts[i]);
		cr_assert_eq(parse_parts(&b), LMD_ECORRUPT, "count %u", counts[i]);
	}
	lmd_put_le32(b.ptr + 16, 4);
	cr_assert_eq(parse_parts(&b), 0);
	/* the reserved field */
	lmd_put_le32(b.ptr + 20, 1);
	cr_assert_eq(parse_parts(&b), LMD_ECORRUPT);
	lmd_put_le32(b.ptr + 20, 0);
	/* a file size that does not add up, or over the cap */
	lmd_put_le64(b.ptr + 8, size + 1);
	cr_assert_eq(parse_parts(&b), LMD_ECORRUPT);
	lmd_put_le64(b.ptr + 8, size - 1);
	cr_assert_eq(parse_parts(&b), LMD_ECORRUPT);
	lmd_put_le64(b.ptr + 8, UINT64_MAX);
	cr_assert_eq(parse_parts(&b), LMD_ECORRUPT);
	lmd_put_le64(b.ptr + 8, size);
	cr_assert_eq(parse_parts(&b), 0);
	/* a part of no chunks, of more chunks than any part may have */
	lmd_put_le32(e1 + 40, 0);
	cr_assert_eq(parse_parts(&b), LMD_ECORRUPT);
	lmd_put_le32(e1 + 40, LMD_PART_MAX_ENTRIES + 1);
	cr_assert_eq(parse_parts(&b), LMD_ECORRUPT);
	lmd_put_le32(e1 + 40, p[1].nchunks);
	/* a part smaller than its chunk count, bigger than its chunks can be */
	{
		uint64_t fix = size - p[1].size;
		lmd_put_le64(e1 + 32, p[1].nchunks - 1ull);
		lmd_put_le64(b.ptr + 8, fix + p[1].nchunks - 1ull);
		cr_assert_eq(parse_parts(&b), LMD_ECORRUPT);
		lmd_put_le64(e1 + 32, (uint64_t)p[1].nchunks * UINT32_MAX + 1);
		lmd_put_le64(b.ptr + 8, fix + (uint64_t)p[1].nchunks * UINT32_MAX + 1);
		cr_assert_eq(parse_parts(&b), LMD_ECORRUPT);
		lmd_put_le64(e1 + 32, p[1].size);
		lmd_put_le64(b.ptr + 8, size);
		cr_assert_eq(parse_parts(&b), 0);
	}
	/* part sizes whose sum wraps around to the file's size */
	{
		lmd_part_ref w[2];
		memset(w, 0x33, sizeof(w));
		w[0].nchunks = w[1].nchunks = LMD_PART_MAX_ENTRIES;
		w[0].size = (uint64_t)LMD_PART_MAX_ENTRIES * UINT32_MAX;
		w[1].size = UINT64_MAX - w[0].size + 1 + 100; /* w0 + w1 = 100 mod 2^64 */
		cr_assert_eq(lmd_fileparts_encode(100, w, 2, &b), 0);
		cr_assert_eq(parse_parts(&b), LMD_ECORRUPT);
	}
	/* bad magic (the flat one, or garbage) */
	cr_assert_eq(lmd_fileparts_encode(size, p, 4, &b), 0);
	memcpy(b.ptr, LMD_FILE_MAGIC, 8);
	cr_assert_not(lmd_filelist_has_parts(b.ptr, b.len));
	cr_assert_eq(parse_parts(&b), LMD_ECORRUPT);
	b.ptr[0] = 'X';
	cr_assert_eq(parse_parts(&b), LMD_ECORRUPT);
	reseal(&b);
	cr_assert_eq(parse_parts(&b), LMD_ECORRUPT);
	/* encoding refuses what no reader would accept */
	cr_assert_eq(lmd_fileparts_encode(0, p, 0, &b), LMD_ETOOBIG);
	lmd_buf_release(&b);
}

static int parse_part(const lmd_buf *b, const lmd_part_ref *want)
{
	lmd_chunk_ref *got = (lmd_chunk_ref *)0x1;
	uint32_t n = 7;
	int r = lmd_part_parse(b->ptr, b->len, want, &got, &n);
	if (r == 0)
		free(got);
	else
		cr_assert(got == (lmd_chunk_ref *)0x1 && n == 7, "out-parameters touched on failure");
	return r;
}

Test(part, encode_parse_roundtrip)
{
	lmd_chunk_ref c[30], *got = NULL;
	lmd_part_ref want;
	uint64_t size;
	uint32_t gn = 0;
	lmd_buf b = LMD_BUF_INIT;
	lmd_oid sum;

	make_chunks(c, 30, &size);
	cr_assert_eq(lmd_part_encode(c, 30, &b, &want.id, &want.size), 0);
	want.nchunks = 30;
	cr_assert_eq(want.size, size);
	cr_assert_eq(b.len, LMD_FILE_HDR + 30 * LMD_FILE_ENT);
	cr_assert_eq(memcmp(b.ptr, LMD_PART_MAGIC, 8), 0);
	/* content-addressed: its id is the hash of its bytes */
	cr_assert_eq(lmd_sha256_buf(b.ptr, b.len, &sum), 0);
	cr_assert_eq(lmd_oid_cmp(&sum, &want.id), 0);

	cr_assert_eq(lmd_part_parse(b.ptr, b.len, &want, &got, &gn), 0, "%s", lmd_error_last());
	cr_assert_eq(gn, 30);
	for (uint32_t i = 0; i < 30; i++) {
		cr_assert_eq(lmd_oid_cmp(&got[i].id, &c[i].id), 0);
		cr_assert_eq(got[i].len, c[i].len);
	}
	free(got);
	cr_assert_eq(parse_part(&b, NULL), 0);
	/* The same chunks give the same part (and id): versions share parts. */
	{
		lmd_buf b2 = LMD_BUF_INIT;
		lmd_oid id2;
		uint64_t s2;
		cr_assert_eq(lmd_part_encode(c, 30, &b2, &id2, &s2), 0);
		cr_assert_eq(lmd_oid_cmp(&id2, &want.id), 0);
		lmd_buf_release(&b2);
	}
	cr_assert_eq(lmd_part_encode(c, 0, &b, &sum, &size), -EINVAL);
	lmd_buf_release(&b);
}

Test(part, rejects_hostile_parts)
{
	lmd_chunk_ref c[4];
	lmd_part_ref want;
	lmd_buf b = LMD_BUF_INIT;

	make_chunks(c, 4, &want.size);
	cr_assert_eq(lmd_part_encode(c, 4, &b, &want.id, &want.size), 0);
	want.nchunks = 4;
	cr_assert_eq(parse_part(&b, &want), 0);

	/* not what the file list says of it */
	want.nchunks = 5;
	cr_assert_eq(parse_part(&b, &want), LMD_ECORRUPT);
	want.nchunks = 4;
	want.size++;
	cr_assert_eq(parse_part(&b, &want), LMD_ECORRUPT);
	want.size--;
	/* truncated or long */
	for (size_t n = 0; n < b.len; n++) {
		size_t keep = b.len;
		b.len = n;
		cr_assert_eq(parse_part(&b, NULL), LMD_ECORRUPT, "length %zu", n);
		b.len = keep;
	}
	cr_assert_eq(lmd_buf_put(&b, "x", 1), 0);
	cr_assert_eq(parse_part(&b, NULL), LMD_ECORRUPT);
	b.len--;
	/* counts: wrong, zero, huge, wrapping 36 x count in 32 bits */
	static const uint32_t counts[] = { 0, 3, 5, UINT32_MAX, 0x80000000u, 0x71C71C72u /* x36 wraps to 8 */ };
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		lmd_put_le32(b.ptr + 16, counts[i]);
		cr_assert_eq(parse_part(&b, NULL), LMD_ECORRUPT, "count %u", counts[i]);
	}
	lmd_put_le32(b.ptr + 16, 4);
	/* lengths that do not add up to its size; a chunk of no bytes */
	lmd_put_le64(b.ptr + 8, want.size + 1);
	cr_assert_eq(parse_part(&b, NULL), LMD_ECORRUPT);
	lmd_put_le64(b.ptr + 8, want.size);
	cr_assert_eq(parse_part(&b, NULL), 0);
	{
		uint8_t *len1 = b.ptr + LMD_FILE_HDR + LMD_FILE_ENT + 32;
		uint32_t old = lmd_get_le32(len1);
		lmd_put_le32(len1, 0);
		lmd_put_le64(b.ptr + 8, want.size - old);
		cr_assert_eq(parse_part(&b, NULL), LMD_ECORRUPT);
		lmd_put_le32(len1, old);
		lmd_put_le64(b.ptr + 8, want.size);
	}
	/* the reserved field; wrong magic (a flat list's, or garbage) */
	lmd_put_le32(b.ptr + 20, 1);
	cr_assert_eq(parse_part(&b, NULL), LMD_ECORRUPT);
	lmd_put_le32(b.ptr + 20, 0);
	memcpy(b.ptr, LMD_FILE_MAGIC, 8);
	cr_assert_eq(parse_part(&b, NULL), LMD_ECORRUPT);
	memcpy(b.ptr, LMD_PART_MAGIC, 8);
	cr_assert_eq(parse_part(&b, &want), 0);
	lmd_buf_release(&b);
}

Test(part, mutated_lists_and_parts_are_parsed_or_rejected)
{
	lmd_part_ref p[4];
	lmd_chunk_ref c[5];
	uint64_t size, csize;
	lmd_buf fl = LMD_BUF_INIT, pt = LMD_BUF_INIT;
	lmd_oid pid;
	t_rng r = { 8 };

	make_parts(p, 4, &size);
	make_chunks(c, 5, &csize);
	cr_assert_eq(lmd_fileparts_encode(size, p, 4, &fl), 0);
	cr_assert_eq(lmd_part_encode(c, 5, &pt, &pid, &csize), 0);
	for (int i = 0; i < 20000; i++) {
		lmd_buf b = buf_of(fl.ptr, fl.len);
		lmd_part_ref *gp = NULL;
		lmd_chunk_ref *gc = NULL;
		uint64_t gsize, sum = 0;
		uint32_t gn;
		int rc;
		mutate(&r, &b);
		rc = lmd_fileparts_parse(b.ptr, b.len, &gsize, &gp, &gn);
		cr_assert(rc == 0 || rc == LMD_ECORRUPT, "iteration %d: %d", i, rc);
		if (rc == 0) {
			cr_assert_eq(b.len, LMD_FILE_HDR + (size_t)gn * LMD_FILEP_ENT + 32);
			for (uint32_t j = 0; j < gn; j++) {
				cr_assert(gp[j].nchunks > 0 && gp[j].size >= gp[j].nchunks);
				sum += gp[j].size;
			}
			cr_assert_eq(sum, gsize);
			free(gp);
		}
		lmd_buf_release(&b);

		b = buf_of(pt.ptr, pt.len);
		mutate(&r, &b);
		sum = 0;
		rc = lmd_part_parse(b.ptr, b.len, NULL, &gc, &gn);
		cr_assert(rc == 0 || rc == LMD_ECORRUPT, "iteration %d: %d", i, rc);
		if (rc == 0) {
			cr_assert_eq(b.len, LMD_FILE_HDR + (size_t)gn * LMD_FILE_ENT);
			for (uint32_t j = 0; j < gn; j++) {
				cr_assert_gt(gc[j].len, 0);
				sum += gc[j].len;
			}
			cr_assert_eq(sum, lmd_get_le64(b.ptr + 8));
			free(gc);
		}
		lmd_buf_release(&b);
	}
	lmd_buf_release(&fl);
	lmd_buf_release(&pt);
}

/* ---- where parts end ---- */

static void random_chunks(lmd_chunk_ref *c, uint32_t n, uint64_t seed)
{
	t_rng r = { seed };
	for (uint32_t i = 0; i < n; i++) {
		t_fill(&r, c[i].id.id, 32);
		c[i].len = 16384;
	}
}

/* All cuts of a chunk sequence, as the writer makes them. */
static uint32_t all_cuts(const lmd_chunk_ref *c, uint32_t n, uint32_t max, uint32_t *cuts)
{
	uint32_t at = 0, k = 0;
	while (at < n) {
		uint32_t len = lmd_part_cut(c + at, n - at, max);
		if (!len)
			len = n - at; /* the last part */
		at += len;
		cuts[k++] = at;
	}
	return k;
}

Test(part, cut_bounds_and_average)
{
	enum { N = 200000 };
	lmd_chunk_ref *c = calloc(N, sizeof(*c));
	uint32_t *cuts = calloc(N, sizeof(*cuts));
	cr_assert(c && cuts);
	random_chunks(c, N, 1);
	static const uint32_t maxes[] = { 4, 5, 16, 100, 1024, 32768 };
	for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
		uint32_t max = maxes[m], k = all_cuts(c, N, max, cuts), prev = 0;
		for (uint32_t i = 0; i + 1 < k; i++) { /* all but the last part */
			uint32_t len = cuts[i] - prev;
			cr_assert(len >= max / 4 && len <= max, "max %u: part of %u chunks", max, len);
			prev = cuts[i];
		}
		/* about 0.64 x max on average (random ids), when there are enough parts */
		if (k > 50 && max >= 100) {
			double avg = (double)N / k;
			cr_assert(avg > 0.5 * max && avg < 0.8 * max, "max %u: average %.1f", max, avg);
		}
	}
	/* Undecided until max chunks are known, unless an id decides earlier. */
	cr_assert_eq(lmd_part_cut(c, 0, 16), 0);
	{
		uint32_t first = lmd_part_cut(c, N, 16);
		cr_assert(first >= 4 && first <= 16);
		for (uint32_t n = 1; n < first; n++)
			cr_assert_eq(lmd_part_cut(c, n, 16), 0, "decided early at %u of %u", n, first);
		for (uint32_t n = first; n <= 40; n++)
			cr_assert_eq(lmd_part_cut(c, n, 16), first, "the cut moved with more chunks known");
	}
	/* Identical chunks (a file of zeros) still end at max. */
	{
		lmd_chunk_ref same[64];
		for (int i = 0; i < 64; i++)
			same[i] = c[0];
		if (lmd_get_le64(c[0].id.id) % 8 != 0)
			cr_assert_eq(lmd_part_cut(same, 64, 16), 16);
	}
	free(c);
	free(cuts);
}

Test(part, cut_resyncs_after_an_insertion)
{
	/* Chunks inserted in the middle change the parts around them only: the
	 * parts before are the same, and after a few parts the same cuts. */
	enum { N = 20000, INS = 7 };
	lmd_chunk_ref *a = calloc(N, sizeof(*a)), *b = calloc(N + INS, sizeof(*b));
	uint32_t *ca = calloc(N, sizeof(*ca)), *cb = calloc(N + INS, sizeof(*cb));
	cr_assert(a && b && ca && cb);
	random_chunks(a, N, 2);
	memcpy(b, a, (N / 2) * sizeof(*a));
	random_chunks(b + N / 2, INS, 3);
	memcpy(b + N / 2 + INS, a + N / 2, (N - N / 2) * sizeof(*a));
	uint32_t ka = all_cuts(a, N, 64, ca), kb = all_cuts(b, N + INS, 64, cb), checked = 0;
	for (uint32_t i = 0; i < ka; i++) {
		if (ca[i] <= N / 2) {
			/* before the insertion: the same parts */
			cr_assert_eq(cb[i], ca[i], "part %u before the insertion moved", i);
			checked++;
		} else if (ca[i] > N / 2 + 3 * 64) {
			/* a few parts later: the same cuts, shifted by the insertion */
			bool found = false;
			for (uint32_t j = 0; j < kb && !found; j++)
				found = cb[j] == ca[i] + INS;
			cr_assert(found, "cut at %u did not resync after the insertion", ca[i]);
			checked++;
		}
	}
	cr_assert_gt(checked, ka - 6);
	free(a);
	free(b);
	free(ca);
	free(cb);
}
