/*
 * The stat cache: put/save/load/lookup, misses on any changed stat field,
 * racily-clean entries not trusted, damaged cache files ignored.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hash.h"
#include "lmdata/common.h"
#include "pack.h"
#include "statcache.h"
#include "testutil.h"
#include "util.h"

TestSuite(statcache, .init = t_mktemp, .fini = t_cleanup);

#define SEC 1000000000ll
#define SCAN (2000 * SEC)   /* the scan started at t = 2000 s */

static char statedir[300];

static void mkstate(void)
{
	snprintf(statedir, sizeof(statedir), "%s/state", t_dir);
	cr_assert_eq(mkdir(statedir, 0755), 0);
}

/* A stat of a file last changed well before the scan. */
static struct stat st_of(uint64_t size, int64_t mtime_ns, uint64_t ino)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	st.st_size = (off_t)size;
	st.st_mtim.tv_sec = (time_t)(mtime_ns / SEC);
	st.st_mtim.tv_nsec = (long)(mtime_ns % SEC);
	st.st_ctim = st.st_mtim;
	st.st_ino = (ino_t)ino;
	st.st_mode = S_IFREG | 0644;
	return st;
}

static lmd_oid oid_n(unsigned n)
{
	lmd_oid id;
	cr_assert_eq(lmd_sha256_buf(&n, sizeof(n), &id), 0);
	return id;
}

static lmd_statcache *load(const char *dataset)
{
	lmd_statcache *c = NULL;
	cr_assert_eq(lmd_statcache_load(statedir, dataset, &c), 0, "%s", lmd_error_last());
	cr_assert_not_null(c);
	return c;
}

static void save_one(const char *dataset, const char *rel, const struct stat *st, const lmd_oid *id, int64_t scan)
{
	lmd_statcache *c = load(dataset);
	cr_assert_eq(lmd_statcache_put(c, rel, st, id), 0);
	cr_assert_eq(lmd_statcache_save(c, scan), 0, "%s", lmd_error_last());
	lmd_statcache_free(c);
}

/* The one cache file in statedir. */
static char *cache_file(void)
{
	DIR *d = opendir(statedir);
	struct dirent *de;
	char *found = NULL;
	cr_assert_not_null(d);
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "stat-", 5)) {
			cr_assert_null(found, "more than one cache file");
			cr_assert_geq(asprintf(&found, "%s/%s", statedir, de->d_name), 0);
		}
	closedir(d);
	cr_assert_not_null(found, "no cache file in %s", statedir);
	return found;
}

Test(statcache, put_save_load_lookup)
{
	struct stat st[100];
	lmd_oid id[100];
	char rel[64];
	lmd_statcache *c;

	mkstate();
	c = load("data/train");
	cr_assert_null(lmd_statcache_lookup(c, "a", &st[0]), "an empty cache trusts nothing");
	for (unsigned i = 0; i < 100; i++) {
		st[i] = st_of(i * 1000 + 1, 1000 * SEC + i, 10 + i);
		id[i] = oid_n(i);
		snprintf(rel, sizeof(rel), "dir%u/file %u.bin", i % 7, i);
		cr_assert_eq(lmd_statcache_put(c, rel, &st[i], &id[i]), 0);
	}
	cr_assert(lmd_statcache_changed(c));
	cr_assert_eq(lmd_statcache_save(c, SCAN), 0, "%s", lmd_error_last());
	lmd_statcache_free(c);

	c = load("data/train");
	for (unsigned i = 0; i < 100; i++) {
		const lmd_oid *got;
		snprintf(rel, sizeof(rel), "dir%u/file %u.bin", i % 7, i);
		got = lmd_statcache_lookup(c, rel, &st[i]);
		cr_assert_not_null(got, "entry %u missing", i);
		cr_assert_eq(lmd_oid_cmp(got, &id[i]), 0, "entry %u has the wrong id", i);
	}
	cr_assert_null(lmd_statcache_lookup(c, "dir0/file 1.bin", &st[0]), "a path that was never put");
	cr_assert_null(lmd_statcache_lookup(c, "", &st[0]));
	/* other datasets have their own cache */
	{
		lmd_statcache *o = load("data/test");
		cr_assert_null(lmd_statcache_lookup(o, "dir0/file 0.bin", &st[0]));
		lmd_statcache_free(o);
	}
	lmd_statcache_free(c);
}

Test(statcache, changed_stat_fields_miss)
{
	struct stat st = st_of(12345, 1000 * SEC + 17, 4242), t;
	lmd_oid id = oid_n(1);
	lmd_statcache *c;

	mkstate();
	save_one("ds", "f", &st, &id, SCAN);
	c = load("ds");
	cr_assert_not_null(lmd_statcache_lookup(c, "f", &st));

	t = st; t.st_size++;
	cr_assert_null(lmd_statcache_lookup(c, "f", &t), "a changed size hit");
	t = st; t.st_size = 0;
	cr_assert_null(lmd_statcache_lookup(c, "f", &t), "a truncated file hit");
	t = st; t.st_mtim.tv_nsec++;
	cr_assert_null(lmd_statcache_lookup(c, "f", &t), "a changed mtime (1 ns) hit");
	t = st; t.st_mtim.tv_sec--;
	cr_assert_null(lmd_statcache_lookup(c, "f", &t), "an older mtime hit");
	t = st; t.st_ctim.tv_sec++;
	cr_assert_null(lmd_statcache_lookup(c, "f", &t), "a changed ctime hit");
	t = st; t.st_ino++;
	cr_assert_null(lmd_statcache_lookup(c, "f", &t), "a changed inode hit");
	t = st; t.st_mode = S_IFREG | 0755;
	cr_assert_null(lmd_statcache_lookup(c, "f", &t), "a changed mode hit");
	t = st; t.st_mode = S_IFLNK | 0777;
	cr_assert_null(lmd_statcache_lookup(c, "f", &t), "a file turned link hit");
	lmd_statcache_free(c);
}

Test(statcache, racily_clean_entries_are_not_trusted)
{
	lmd_oid id = oid_n(2);
	struct stat old = st_of(10, SCAN - 1, 1);       /* 1 ns before the scan */
	struct stat same = st_of(10, SCAN, 2);          /* in the scan's tick */
	struct stat later = st_of(10, SCAN + SEC, 3);   /* after it began */
	struct stat cnew = st_of(10, SCAN - SEC, 4);    /* old mtime, ctime during the scan */
	lmd_statcache *c;

	cnew.st_ctim.tv_sec = (time_t)(SCAN / SEC);
	mkstate();
	c = load("ds");
	cr_assert_eq(lmd_statcache_put(c, "old", &old, &id), 0);
	cr_assert_eq(lmd_statcache_put(c, "same", &same, &id), 0);
	cr_assert_eq(lmd_statcache_put(c, "later", &later, &id), 0);
	cr_assert_eq(lmd_statcache_put(c, "cnew", &cnew, &id), 0);
	cr_assert_eq(lmd_statcache_save(c, SCAN), 0);
	lmd_statcache_free(c);

	c = load("ds");
	cr_assert_not_null(lmd_statcache_lookup(c, "old", &old));
	cr_assert_null(lmd_statcache_lookup(c, "same", &same), "mtime == scan start trusted");
	cr_assert_null(lmd_statcache_lookup(c, "later", &later), "mtime after scan start trusted");
	cr_assert_null(lmd_statcache_lookup(c, "cnew", &cnew), "ctime at scan start trusted");
	lmd_statcache_free(c);
}

Test(statcache, racily_clean_real_file)
{
	/* A file written and recorded in the same tick as the scan start. */
	struct stat st;
	lmd_oid id = oid_n(3);
	lmd_statcache *c;
	int64_t mt;

	mkstate();
	t_write(t_path("f"), "hello", 5);
	cr_assert_eq(stat(t_path("f"), &st), 0);
	mt = (int64_t)st.st_mtim.tv_sec * SEC + st.st_mtim.tv_nsec;
	save_one("ds", "f", &st, &id, mt);
	c = load("ds");
	cr_assert_null(lmd_statcache_lookup(c, "f", &st));
	lmd_statcache_free(c);
	/* recorded by a scan that began after the write: trusted */
	save_one("ds", "f", &st, &id, mt + SEC);
	c = load("ds");
	cr_assert_not_null(lmd_statcache_lookup(c, "f", &st));
	lmd_statcache_free(c);
	/* the coarse clock is not behind the file's time */
	cr_assert_geq(lmd_statcache_now() + 20 * 1000000ll, mt);
}

Test(statcache, save_replaces_and_changed_tracks_puts)
{
	struct stat a = st_of(1, 100 * SEC, 1), b = st_of(2, 100 * SEC, 2);
	lmd_oid ia = oid_n(10), ib = oid_n(11);
	lmd_statcache *c;

	mkstate();
	c = load("ds");
	cr_assert_eq(lmd_statcache_put(c, "a", &a, &ia), 0);
	cr_assert_eq(lmd_statcache_put(c, "b", &b, &ib), 0);
	cr_assert_eq(lmd_statcache_save(c, SCAN), 0);
	lmd_statcache_free(c);

	/* the same puts: unchanged */
	c = load("ds");
	cr_assert_eq(lmd_statcache_put(c, "a", &a, &ia), 0);
	cr_assert_eq(lmd_statcache_put(c, "b", &b, &ib), 0);
	cr_assert_not(lmd_statcache_changed(c));
	lmd_statcache_free(c);

	/* a different id, a dropped entry: changed */
	c = load("ds");
	cr_assert_eq(lmd_statcache_put(c, "a", &a, &ib), 0);
	cr_assert_eq(lmd_statcache_put(c, "b", &b, &ib), 0);
	cr_assert(lmd_statcache_changed(c));
	lmd_statcache_free(c);
	c = load("ds");
	cr_assert_eq(lmd_statcache_put(c, "a", &a, &ia), 0);
	cr_assert(lmd_statcache_changed(c), "an entry was dropped");
	/* saving keeps only what was put since load */
	cr_assert_eq(lmd_statcache_save(c, SCAN), 0);
	lmd_statcache_free(c);
	c = load("ds");
	cr_assert_not_null(lmd_statcache_lookup(c, "a", &a));
	cr_assert_null(lmd_statcache_lookup(c, "b", &b), "an entry not put again survived a save");
	lmd_statcache_free(c);
	cr_assert_eq(t_count_entries(statedir), 1, "temp files left in the state folder");
}

Test(statcache, remove_and_missing_folder)
{
	struct stat a = st_of(1, 100 * SEC, 1);
	lmd_oid ia = oid_n(1);
	lmd_statcache *c;

	snprintf(statedir, sizeof(statedir), "%s/does-not-exist", t_dir);
	c = load("ds");  /* missing folder: an empty cache */
	cr_assert_null(lmd_statcache_lookup(c, "a", &a));
	lmd_statcache_free(c);

	mkstate();
	save_one("ds", "a", &a, &ia, SCAN);
	cr_assert_eq(t_count_entries(statedir), 1);
	cr_assert_eq(lmd_statcache_remove(statedir, "ds"), 0);
	cr_assert_eq(t_count_entries(statedir), 0);
	c = load("ds");
	cr_assert_null(lmd_statcache_lookup(c, "a", &a));
	lmd_statcache_free(c);
	cr_assert_eq(lmd_statcache_remove(statedir, "ds"), 0, "removing a missing cache is fine");
}

static void save_sample(struct stat *st, lmd_oid *id)
{
	lmd_statcache *c = load("ds");
	for (unsigned i = 0; i < 10; i++) {
		char rel[16];
		st[i] = st_of(100 + i, 500 * SEC + i, 7 + i);
		id[i] = oid_n(i);
		snprintf(rel, sizeof(rel), "f%u", i);
		cr_assert_eq(lmd_statcache_put(c, rel, &st[i], &id[i]), 0);
	}
	cr_assert_eq(lmd_statcache_save(c, SCAN), 0);
	lmd_statcache_free(c);
}

static int trusted(const struct stat *st)
{
	lmd_statcache *c = load("ds");
	int n = 0;
	for (unsigned i = 0; i < 10; i++) {
		char rel[16];
		snprintf(rel, sizeof(rel), "f%u", i);
		n += lmd_statcache_lookup(c, rel, &st[i]) != NULL;
	}
	lmd_statcache_free(c);
	return n;
}

static void rewrite(const char *path, const lmd_buf *b)
{
	t_write(path, b->ptr, b->len);
}

Test(statcache, corrupted_cache_file_is_ignored)
{
	struct stat st[10];
	lmd_oid id[10];
	lmd_buf orig = LMD_BUF_INIT, b = LMD_BUF_INIT;
	char *path;

	mkstate();
	save_sample(st, id);
	cr_assert_eq(trusted(st), 10);
	path = cache_file();
	cr_assert_eq(lmd_read_file(path, 1u << 20, &orig), 0);

	/* every single flipped byte makes the whole cache untrusted */
	for (size_t off = 0; off < orig.len; off += 7) {
		lmd_buf_clear(&b);
		cr_assert_eq(lmd_buf_put(&b, orig.ptr, orig.len), 0);
		b.ptr[off] ^= 0x01;
		rewrite(path, &b);
		cr_assert_eq(trusted(st), 0, "cache with byte %zu flipped was trusted", off);
	}
	/* truncated, extended, emptied, garbage */
	lmd_buf_clear(&b);
	cr_assert_eq(lmd_buf_put(&b, orig.ptr, orig.len - 1), 0);
	rewrite(path, &b);
	cr_assert_eq(trusted(st), 0);
	cr_assert_eq(lmd_buf_put(&b, orig.ptr + orig.len - 1, 1), 0);
	cr_assert_eq(lmd_buf_put(&b, "x", 1), 0);
	rewrite(path, &b);
	cr_assert_eq(trusted(st), 0);
	b.len = 0;
	rewrite(path, &b);
	cr_assert_eq(trusted(st), 0);
	cr_assert_eq(lmd_buf_puts(&b, "LMDSTAT1 this is not a cache at all, but long enough to have a trailer"), 0);
	rewrite(path, &b);
	cr_assert_eq(trusted(st), 0);
	/* a folder in its place */
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(mkdir(path, 0755), 0);
	cr_assert_eq(trusted(st), 0);
	cr_assert_eq(rmdir(path), 0);

	/* back to the original: trusted again */
	rewrite(path, &orig);
	cr_assert_eq(trusted(st), 10);
	free(path);
	lmd_buf_release(&orig);
	lmd_buf_release(&b);
}

/* Damage that keeps a valid checksum (a hostile or buggy writer) must not
 * crash the reader or make it trust anything it should not. */
static void reseal(lmd_buf *b)
{
	lmd_oid sum;
	cr_assert_eq(lmd_sha256_buf(b->ptr, b->len - 32, &sum), 0);
	memcpy(b->ptr + b->len - 32, sum.id, 32);
}

Test(statcache, resealed_damage_is_ignored)
{
	struct stat st[10];
	lmd_oid id[10];
	lmd_buf orig = LMD_BUF_INIT, b = LMD_BUF_INIT;
	char *path;
	const uint32_t counts[] = { 11, 9, 0xffffffffu, 0x80000000u, 1000 };

	mkstate();
	save_sample(st, id);
	path = cache_file();
	cr_assert_eq(lmd_read_file(path, 1u << 20, &orig), 0);
	cr_assert_eq(memcmp(orig.ptr, "LMDSTAT1", 8), 0);
	cr_assert_eq(lmd_get_le32(orig.ptr + 16), 10);

	/* a count that does not match the entries */
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		lmd_buf_clear(&b);
		cr_assert_eq(lmd_buf_put(&b, orig.ptr, orig.len), 0);
		lmd_put_le32(b.ptr + 16, counts[i]);
		reseal(&b);
		rewrite(path, &b);
		cr_assert_eq(trusted(st), 0, "count %u trusted", counts[i]);
	}
	/* a path length running past the end */
	lmd_buf_clear(&b);
	cr_assert_eq(lmd_buf_put(&b, orig.ptr, orig.len), 0);
	lmd_put_le32(b.ptr + 24 + 36, 0xfffffff0u);
	reseal(&b);
	rewrite(path, &b);
	cr_assert_eq(trusted(st), 0);
	/* a later scan start makes every entry racy */
	lmd_buf_clear(&b);
	cr_assert_eq(lmd_buf_put(&b, orig.ptr, orig.len), 0);
	lmd_put_le64(b.ptr + 8, (uint64_t)(400 * SEC));
	reseal(&b);
	rewrite(path, &b);
	cr_assert_eq(trusted(st), 0);
	free(path);
	lmd_buf_release(&orig);
	lmd_buf_release(&b);
}
