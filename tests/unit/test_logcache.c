/*
 * The log cache file: round trips, replacement and merging of records,
 * caps, and damaged files (truncated, any bit flipped, oversized, foreign
 * version or id length, forged records whose checks pass but whose
 * structure does not) read as empty or as absent records, never as wrong
 * ones.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "logcache.h"
#include "pack.h"
#include "testutil.h"
#include "util.h"

TestSuite(logcache, .init = t_mktemp, .fini = t_cleanup);

#define IDLEN 20u
#define NCOMMITS 6

static char cpath[300];

static const char *cache_path(void)
{
	snprintf(cpath, sizeof(cpath), "%s/state/log-cache", t_dir);
	return cpath;
}

static void id_n(uint8_t *id, unsigned n)
{
	t_rng r = { 1000 + n };
	t_fill(&r, id, IDLEN);
}

/* The test commits: varied parents, strings and changes (known and not). */
struct tcommit {
	lmd_logcache_commit c;
	uint8_t parents[3 * IDLEN];
	lmd_logcache_change ch[3];
	char subject[64];
};

static struct tcommit T[NCOMMITS];

static void make_commits(void)
{
	static const char *paths[] = { "train.jsonl", "d/shards", "caf\xc3\xa9/x y" };
	for (unsigned i = 0; i < NCOMMITS; i++) {
		struct tcommit *t = &T[i];
		memset(t, 0, sizeof(*t));
		id_n(t->c.id, i);
		t->c.time = 1700000000 + (int64_t)(i % 3) * 60;
		t->c.author_time = t->c.time - 5;
		t->c.tz = i % 2 ? -330 : 120;
		t->c.author = i % 2 ? "" : "A. Uthor";
		t->c.email = "a@example.com";
		snprintf(t->subject, sizeof(t->subject), "commit %u: \"quoted\" \t tab", i);
		t->c.subject = t->subject;
		t->c.nparents = i % 4 == 3 ? 3 : i ? 1 : 0;
		for (size_t p = 0; p < t->c.nparents; p++)
			id_n(t->parents + p * IDLEN, 100 + i + (unsigned)p);
		t->c.parents = t->parents;
		t->c.nchanges = i % 4;
		for (size_t k = 0; k < t->c.nchanges; k++) {
			lmd_logcache_change *d = &t->ch[k];
			d->path = paths[k];
			d->has_old = k != 1;
			d->has_new = k != 2 || i == 1;
			if (d->has_old)
				id_n(d->old_id, 200 + i * 3 + (unsigned)k);
			if (d->has_new)
				id_n(d->new_id, 300 + i * 3 + (unsigned)k);
			d->known = (i + k) % 2 == 0;
			d->added = d->deleted = d->modified = -1;
			if (d->known) {
				d->size = 1000 * i + k;
				d->files = k + 1;
				d->old_size = UINT64_MAX - i;
				d->old_files = 7;
				d->added = (int64_t)i;
				d->deleted = 0;
				d->modified = INT64_MAX;
			}
		}
		t->c.changes = t->ch;
	}
}

static lmd_logcache *open_cache(size_t max)
{
	lmd_logcache *lc = NULL;
	cr_assert_eq(lmd_logcache_open(cache_path(), IDLEN, max, &lc), 0, "%s", lmd_error_last());
	cr_assert_not_null(lc);
	return lc;
}

static void expect_same(const lmd_logcache_commit *got, const lmd_logcache_commit *want)
{
	cr_assert_eq(memcmp(got->id, want->id, IDLEN), 0);
	cr_assert_eq(got->time, want->time);
	cr_assert_eq(got->author_time, want->author_time);
	cr_assert_eq(got->tz, want->tz);
	cr_assert_str_eq(got->author, want->author);
	cr_assert_str_eq(got->email, want->email);
	cr_assert_str_eq(got->subject, want->subject);
	cr_assert_eq(got->nparents, want->nparents);
	if (want->nparents)
		cr_assert_eq(memcmp(got->parents, want->parents, want->nparents * IDLEN), 0);
	cr_assert_eq(got->nchanges, want->nchanges);
	for (size_t k = 0; k < want->nchanges; k++) {
		const lmd_logcache_change *g = &got->changes[k], *w = &want->changes[k];
		cr_assert_str_eq(g->path, w->path);
		cr_assert_eq(g->has_old, w->has_old);
		cr_assert_eq(g->has_new, w->has_new);
		if (w->has_old)
			cr_assert_eq(memcmp(g->old_id, w->old_id, IDLEN), 0);
		if (w->has_new)
			cr_assert_eq(memcmp(g->new_id, w->new_id, IDLEN), 0);
		cr_assert_eq(g->known, w->known);
		if (w->known) {
			cr_assert_eq(g->size, w->size);
			cr_assert_eq(g->files, w->files);
			cr_assert_eq(g->old_size, w->old_size);
			cr_assert_eq(g->old_files, w->old_files);
			cr_assert_eq(g->added, w->added);
			cr_assert_eq(g->deleted, w->deleted);
			cr_assert_eq(g->modified, w->modified);
		} else {
			cr_assert_eq(g->added, -1);
		}
	}
}

/* Write all test commits to a fresh cache. */
static void write_all(void)
{
	lmd_logcache *lc = open_cache(0);
	make_commits();
	for (unsigned i = 0; i < NCOMMITS; i++)
		cr_assert_eq(lmd_logcache_put(lc, &T[i].c), 0);
	cr_assert(lmd_logcache_dirty(lc));
	cr_assert_eq(lmd_logcache_save(lc), 0, "%s", lmd_error_last());
	lmd_logcache_free(lc);
}

/* Every record found equals the original; returns how many were found. */
static unsigned found_and_sound(lmd_logcache *lc)
{
	unsigned n = 0;
	for (unsigned i = 0; i < NCOMMITS; i++) {
		lmd_logcache_commit got;
		long r = lmd_logcache_find(lc, T[i].c.id);
		if (r < 0)
			continue;
		cr_assert_eq(lmd_logcache_time(lc, r), T[i].c.time);
		cr_assert_eq(lmd_logcache_read(lc, r, &got), 0);
		expect_same(&got, &T[i].c);
		n++;
	}
	return n;
}

static uint8_t *slurp(size_t *ret_len)
{
	lmd_buf b = LMD_BUF_INIT;
	cr_assert_eq(lmd_read_file(cache_path(), 1u << 26, &b), 0);
	*ret_len = b.len;
	return b.ptr;
}

Test(logcache, round_trip)
{
	lmd_logcache *lc = open_cache(0);
	uint8_t other[IDLEN];

	make_commits();
	cr_assert_eq(lmd_logcache_find(lc, T[0].c.id), -1, "a missing file reads as empty");
	cr_assert_not(lmd_logcache_dirty(lc));
	cr_assert_eq(lmd_logcache_save(lc), 0, "nothing put: nothing written");
	cr_assert_neq(access(cache_path(), F_OK), 0);
	lmd_logcache_free(lc);

	write_all();
	lc = open_cache(0);
	cr_assert_eq(found_and_sound(lc), NCOMMITS);
	id_n(other, 999);
	cr_assert_eq(lmd_logcache_find(lc, other), -1);
	cr_assert_not(lmd_logcache_dirty(lc));
	lmd_logcache_free(lc);
	cr_assert_eq(t_count_entries(t_path("state")), 1, "no temp file left");
}

Test(logcache, put_replaces_and_merges)
{
	lmd_logcache *lc;
	lmd_logcache_commit got, c;
	lmd_logcache_change ch[3];
	long r;

	write_all();
	/* Figures become known for a change of commit 1: the put wins. */
	lc = open_cache(0);
	c = T[1].c;
	memcpy(ch, T[1].ch, sizeof(ch));
	c.changes = ch;
	ch[0].known = true;
	ch[0].size = 42;
	ch[0].added = ch[0].deleted = ch[0].modified = 3;
	cr_assert_eq(lmd_logcache_put(lc, &c), 0);
	cr_assert_eq(lmd_logcache_save(lc), 0);
	lmd_logcache_free(lc);
	lc = open_cache(0);
	r = lmd_logcache_find(lc, c.id);
	cr_assert_geq(r, 0);
	cr_assert_eq(lmd_logcache_read(lc, r, &got), 0);
	expect_same(&got, &c);
	/* A new commit is added to what is there. */
	id_n(c.id, 77);
	cr_assert_eq(lmd_logcache_put(lc, &c), 0);
	cr_assert_eq(lmd_logcache_save(lc), 0);
	lmd_logcache_free(lc);
	lc = open_cache(0);
	cr_assert_geq(lmd_logcache_find(lc, c.id), 0);
	for (unsigned i = 0; i < NCOMMITS; i++)
		cr_assert_geq(lmd_logcache_find(lc, T[i].c.id), 0, "commit %u kept", i);
	lmd_logcache_free(lc);
}

Test(logcache, what_is_not_cached)
{
	lmd_logcache *lc;
	lmd_logcache_commit c;
	lmd_logcache_change ch[3];
	char *big = malloc(LMD_LOGCACHE_MAX_RECORD + 10);

	cr_assert_not_null(big);
	make_commits();
	lc = open_cache(0);
	/* Over the record cap. */
	c = T[0].c;
	memset(big, 'x', LMD_LOGCACHE_MAX_RECORD + 9);
	big[LMD_LOGCACHE_MAX_RECORD + 9] = 0;
	c.subject = big;
	cr_assert_eq(lmd_logcache_put(lc, &c), 0);
	/* Known figures that are not (a count of -1), an absurd zone. */
	c = T[2].c;
	memcpy(ch, T[2].ch, sizeof(ch));
	c.changes = ch;
	ch[0].known = true;
	ch[0].added = -1;
	cr_assert_eq(lmd_logcache_put(lc, &c), 0);
	c = T[3].c;
	c.tz = 100000;
	cr_assert_eq(lmd_logcache_put(lc, &c), 0);
	cr_assert_not(lmd_logcache_dirty(lc));
	lmd_logcache_free(lc);
	free(big);

	/* A small cap: puts stop once the file would be full. */
	lc = open_cache(400);
	for (unsigned i = 0; i < NCOMMITS; i++)
		cr_assert_eq(lmd_logcache_put(lc, &T[i].c), 0);
	cr_assert(lmd_logcache_dirty(lc));
	cr_assert_eq(lmd_logcache_save(lc), 0);
	lmd_logcache_free(lc);
	{
		struct stat st;
		cr_assert_eq(stat(cache_path(), &st), 0);
		cr_assert_leq(st.st_size, 400);
	}
	lc = open_cache(400);
	unsigned n = found_and_sound(lc);
	cr_assert(n > 0 && n < NCOMMITS, "%u of %u records within the cap", n, NCOMMITS);
	lmd_logcache_free(lc);
}

Test(logcache, cap_keeps_what_was_used)
{
	lmd_logcache *lc;
	lmd_logcache_commit c;
	size_t len;

	write_all();
	free(slurp(&len));
	/* A cap the loaded file fits in, but not with one more record: the
	 * records this run looked up stay, the others give way. */
	lc = open_cache(len + 40);
	cr_assert_eq(found_and_sound(lc), NCOMMITS);
	lmd_logcache_free(lc);
	lc = open_cache(len + 40);
	cr_assert_geq(lmd_logcache_find(lc, T[4].c.id), 0);
	c = T[5].c;
	id_n(c.id, 55);
	cr_assert_eq(lmd_logcache_put(lc, &c), 0);
	cr_assert_eq(lmd_logcache_save(lc), 0);
	lmd_logcache_free(lc);
	lc = open_cache(0);
	cr_assert_geq(lmd_logcache_find(lc, T[4].c.id), 0, "the record used is kept");
	cr_assert_geq(lmd_logcache_find(lc, c.id), 0, "the record put is kept");
	cr_assert_eq(lmd_logcache_find(lc, T[0].c.id), -1, "an unused record gave way");
	lmd_logcache_free(lc);
}

Test(logcache, truncated_files)
{
	size_t len;
	uint8_t *good;

	write_all();
	good = slurp(&len);
	for (size_t cut = 0; cut < len; cut++) {
		lmd_logcache *lc;
		t_write(cache_path(), good, cut);
		lc = open_cache(0);
		unsigned n = found_and_sound(lc);
		/* The header checks the table: a cut table reads as empty. */
		if (cut < 32 + NCOMMITS * (IDLEN + 4))
			cr_assert_eq(n, 0, "cut at %zu", cut);
		lmd_logcache_free(lc);
	}
	free(good);
}

Test(logcache, every_bit_flip)
{
	size_t len;
	uint8_t *good;

	write_all();
	good = slurp(&len);
	for (size_t pos = 0; pos < len; pos++)
		for (int bit = 0; bit < 8; bit++) {
			lmd_logcache *lc;
			good[pos] ^= (uint8_t)(1u << bit);
			t_write(cache_path(), good, len);
			good[pos] ^= (uint8_t)(1u << bit);
			lc = open_cache(0);
			unsigned n = found_and_sound(lc); /* whatever is found is right */
			cr_assert_lt(n, NCOMMITS, "byte %zu bit %d flipped unnoticed", pos, bit);
			/* ... and a save afterwards writes a sound file. */
			cr_assert_eq(lmd_logcache_put(lc, &T[0].c), 0);
			cr_assert_eq(lmd_logcache_save(lc), 0);
			lmd_logcache_free(lc);
			lc = open_cache(0);
			cr_assert_geq(lmd_logcache_find(lc, T[0].c.id), 0);
			found_and_sound(lc);
			lmd_logcache_free(lc);
		}
	free(good);
}

Test(logcache, odd_files)
{
	lmd_logcache *lc;
	size_t len;
	uint8_t *good;
	int fd;

	write_all();
	good = slurp(&len);
	/* Another repository's id length. */
	{
		lmd_logcache *other = NULL;
		cr_assert_eq(lmd_logcache_open(cache_path(), 32, 0, &other), 0);
		cr_assert_eq(lmd_logcache_find(other, T[0].c.id), -1);
		lmd_logcache_free(other);
	}
	/* Over the cap: not even read. */
	lc = open_cache(len - 1);
	cr_assert_eq(found_and_sound(lc), 0);
	lmd_logcache_free(lc);
	fd = open(cache_path(), O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)LMD_LOGCACHE_MAX_FILE + 1), 0);
	close(fd);
	lc = open_cache(0);
	cr_assert_eq(found_and_sound(lc), 0);
	lmd_logcache_free(lc);
	/* Not a file; a link is not followed. */
	unlink(cache_path());
	cr_assert_eq(mkdir(cache_path(), 0755), 0);
	lc = open_cache(0);
	cr_assert_eq(found_and_sound(lc), 0);
	cr_assert_eq(lmd_logcache_put(lc, &T[0].c), 0);
	cr_assert_lt(lmd_logcache_save(lc), 0, "a folder in the way: the save fails");
	lmd_logcache_free(lc);
	cr_assert_eq(t_count_entries(t_path("state")), 1, "no temp file left");
	rmdir(cache_path());
	t_write(t_path("elsewhere"), good, len);
	cr_assert_eq(symlink(t_path("elsewhere"), cache_path()), 0);
	lc = open_cache(0);
	cr_assert_eq(found_and_sound(lc), 0);
	lmd_logcache_free(lc);
	free(good);
}

Test(logcache, save_into_a_missing_or_impossible_folder)
{
	lmd_logcache *lc;
	char path[400];

	make_commits();
	/* The state folder is created when missing. */
	lc = open_cache(0);
	cr_assert_eq(lmd_logcache_put(lc, &T[0].c), 0);
	cr_assert_eq(lmd_logcache_save(lc), 0, "%s", lmd_error_last());
	lmd_logcache_free(lc);
	cr_assert_eq(access(cache_path(), F_OK), 0);
	/* Under a file: the save fails with a message, nothing is left. */
	t_write(t_path("plain"), "x", 1);
	snprintf(path, sizeof(path), "%s/plain/state/log-cache", t_dir);
	lc = NULL;
	cr_assert_eq(lmd_logcache_open(path, IDLEN, 0, &lc), 0);
	cr_assert_eq(lmd_logcache_put(lc, &T[0].c), 0);
	cr_assert_lt(lmd_logcache_save(lc), 0);
	cr_assert(strstr(lmd_error_last(), "log cache") != NULL, "%s", lmd_error_last());
	lmd_logcache_free(lc);
}

/* ---- forged files: checks that pass, structure that does not ---- */

static void reseal(uint8_t *p, size_t len)
{
	uint32_t count = lmd_get_le32(p + 16);
	if (count > (len - 32) / (IDLEN + 4))
		return; /* read as damaged before any check */
	for (uint32_t i = 0; i < count; i++) {
		size_t off = lmd_get_le32(p + 32 + (size_t)i * (IDLEN + 4) + IDLEN), rl;
		if (off + 8 > len)
			continue;
		rl = lmd_get_le32(p + off);
		if (rl >= 8 && rl <= len - off)
			lmd_put_le32(p + off + 4, (uint32_t)lmd_logcache_hash(p + off + 8, rl - 8));
	}
	lmd_put_le64(p + 24, lmd_logcache_hash(p, 24) ^
				     (lmd_logcache_hash(p + 32, (size_t)count * (IDLEN + 4)) * 0x9e3779b97f4a7c15ull + 1));
}

/* The offset of commit i's record in the file. */
static size_t rec_off(const uint8_t *p, unsigned i)
{
	uint32_t count = lmd_get_le32(p + 16);
	for (uint32_t k = 0; k < count; k++)
		if (!memcmp(p + 32 + (size_t)k * (IDLEN + 4), T[i].c.id, IDLEN))
			return lmd_get_le32(p + 32 + (size_t)k * (IDLEN + 4) + IDLEN);
	cr_assert_fail("commit %u not in the file", i);
	return 0;
}

/* Forge: apply f to a copy of the good file, reseal, and count what is found. */
static unsigned forged(const uint8_t *good, size_t len, void (*f)(uint8_t *p, size_t len))
{
	uint8_t *p = malloc(len);
	lmd_logcache *lc;
	unsigned n;
	cr_assert_not_null(p);
	memcpy(p, good, len);
	f(p, len);
	reseal(p, len);
	t_write(cache_path(), p, len);
	free(p);
	lc = open_cache(0);
	n = found_and_sound(lc);
	lmd_logcache_free(lc);
	return n;
}

static void f_nothing(uint8_t *p, size_t len) { (void)p; (void)len; }
static void f_version(uint8_t *p, size_t len) { (void)len; lmd_put_le32(p + 8, LMD_LOGCACHE_VERSION + 1); }
static void f_reserved(uint8_t *p, size_t len) { (void)len; p[20] = 1; }
static void f_count(uint8_t *p, size_t len) { (void)len; lmd_put_le32(p + 16, 0x7fffffff); }
static void f_unsorted(uint8_t *p, size_t len)
{
	uint8_t tmp[IDLEN + 4];
	(void)len;
	memcpy(tmp, p + 32, IDLEN + 4);
	memcpy(p + 32, p + 32 + IDLEN + 4, IDLEN + 4);
	memcpy(p + 32 + IDLEN + 4, tmp, IDLEN + 4);
}
static void f_offset_into_table(uint8_t *p, size_t len) { (void)len; lmd_put_le32(p + 32 + IDLEN, 32); }
static void f_offset_past_end(uint8_t *p, size_t len) { lmd_put_le32(p + 32 + IDLEN, (uint32_t)len - 4); }
static void f_len_huge(uint8_t *p, size_t len) { (void)len; lmd_put_le32(p + rec_off(p, 3), 0xfffffff0u); }
static void f_len_short(uint8_t *p, size_t len) { (void)len; lmd_put_le32(p + rec_off(p, 3), 20); }
/* Record fields of commit 3 (3 parents, 3 changes): at 8 + IDLEN + ... */
#define F(p, o) ((p) + rec_off(p, 3) + 8 + IDLEN + (o))
static void f_parents(uint8_t *p, size_t len) { (void)len; lmd_put_le32(F(p, 20), 0x10000000u); }
static void f_nchanges(uint8_t *p, size_t len) { (void)len; lmd_put_le32(F(p, 24), 0xffffffffu); }
static void f_author_len(uint8_t *p, size_t len) { (void)len; lmd_put_le32(F(p, 28), 0xfffffffeu); }
static void f_email_len(uint8_t *p, size_t len) { (void)len; lmd_put_le32(F(p, 32), 3); }
static void f_tz(uint8_t *p, size_t len) { (void)len; lmd_put_le32(F(p, 16), 0x80000000u); }
static void f_time(uint8_t *p, size_t len) { (void)len; lmd_put_le64(F(p, 0), UINT64_C(1) << 62); }
static void f_id(uint8_t *p, size_t len) { (void)len; F(p, -(int)IDLEN)[0] ^= 1; }
/* The first change of commit 3: after the fixed part, 3 parents and the strings. */
static uint8_t *first_change(uint8_t *p)
{
	uint8_t *c = F(p, 40) + 3 * IDLEN;
	for (int s = 0; s < 3; s++)
		c += strlen((char *)c) + 1;
	return c;
}
static void f_flags(uint8_t *p, size_t len) { (void)len; first_change(p)[0] |= 0x80; }
static void f_no_side(uint8_t *p, size_t len) { (void)len; first_change(p)[0] &= (uint8_t)~3u; }
static void f_path_len(uint8_t *p, size_t len) { (void)len; lmd_put_le32(first_change(p) + 1, 0xffffffffu); }
static void f_path_zero(uint8_t *p, size_t len) { (void)len; lmd_put_le32(first_change(p) + 1, 0); }
static void f_string_nul(uint8_t *p, size_t len) { (void)len; F(p, 40)[3 * IDLEN + 1] = 0; }

Test(logcache, forged_records)
{
	static const struct {
		const char *what;
		void (*f)(uint8_t *, size_t);
		unsigned want; /* records found */
	} cases[] = {
		{ "nothing (the forger is right)", f_nothing, NCOMMITS },
		{ "another version", f_version, 0 },
		{ "reserved field", f_reserved, 0 },
		{ "count past the file", f_count, 0 },
		{ "table not sorted", f_unsorted, 0 },
		{ "offset into the table", f_offset_into_table, NCOMMITS - 1 },
		{ "offset past the end", f_offset_past_end, NCOMMITS - 1 },
		{ "record length past the end", f_len_huge, NCOMMITS - 1 },
		{ "record length too short", f_len_short, NCOMMITS - 1 },
		{ "parent count", f_parents, NCOMMITS - 1 },
		{ "change count", f_nchanges, NCOMMITS - 1 },
		{ "author length", f_author_len, NCOMMITS - 1 },
		{ "email length", f_email_len, NCOMMITS - 1 },
		{ "zone", f_tz, NCOMMITS - 1 },
		{ "time", f_time, NCOMMITS - 1 },
		{ "record's id", f_id, NCOMMITS - 1 },
		{ "change flags", f_flags, NCOMMITS - 1 },
		{ "change on no side", f_no_side, NCOMMITS - 1 },
		{ "path length", f_path_len, NCOMMITS - 1 },
		{ "empty path", f_path_zero, NCOMMITS - 1 },
		{ "NUL inside a string", f_string_nul, NCOMMITS - 1 },
	};
	size_t len;
	uint8_t *good;

	write_all();
	good = slurp(&len);
	cr_assert_eq(T[3].c.nparents, 3);
	cr_assert_eq(T[3].c.nchanges, 3);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(forged(good, len, cases[i].f), cases[i].want, "%s", cases[i].what);
	free(good);
}

Test(logcache, concurrent_saves)
{
	make_commits();
	for (int k = 0; k < 8; k++) {
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			lmd_logcache *lc = NULL;
			for (int round = 0; round < 20; round++) {
				if (lmd_logcache_open(cache_path(), IDLEN, 0, &lc) < 0)
					_exit(1);
				for (unsigned i = 0; i < NCOMMITS; i++)
					if ((i + (unsigned)k) % 2 && lmd_logcache_put(lc, &T[i].c) < 0)
						_exit(1);
				lmd_logcache_save(lc);
				lmd_logcache_free(lc);
			}
			_exit(0);
		}
	}
	for (int k = 0; k < 8; k++) {
		int st;
		cr_assert_gt(wait(&st), 0);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	/* The last save wins: at least its own half of the records, all sound. */
	lmd_logcache *lc = open_cache(0);
	cr_assert_geq(found_and_sound(lc), NCOMMITS / 2);
	lmd_logcache_free(lc);
	cr_assert_eq(t_count_entries(t_path("state")), 1, "no temp file left");
}

Test(logcache, ids)
{
	uint8_t id[LMD_LOGCACHE_MAX_ID];
	char hex[2 * LMD_LOGCACHE_MAX_ID + 1];

	cr_assert_eq(lmd_logcache_id_parse("00ff10Ab", id), 4);
	lmd_logcache_id_fmt(id, 4, hex);
	cr_assert_str_eq(hex, "00ff10ab");
	cr_assert_eq(lmd_logcache_id_parse("", id), -1);
	cr_assert_eq(lmd_logcache_id_parse("abc", id), -1);
	cr_assert_eq(lmd_logcache_id_parse("zz", id), -1);
	cr_assert_eq(lmd_logcache_id_parse("0123456789012345678901234567890123456789012345678901234567890123", id), 32);
	cr_assert_eq(lmd_logcache_id_parse("012345678901234567890123456789012345678901234567890123456789012345", id), -1);
}
