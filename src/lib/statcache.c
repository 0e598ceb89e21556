/*
 * The stat cache (see statcache.h).  File format:
 *
 *   "LMDSTAT1" i64 scan_start u32 count u32 0
 *   count x { u64 size i64 mtime i64 ctime u64 ino u32 mode u32 pathlen id[32] path }
 *   sha256[32] of everything before it
 *
 * A cache that fails any check is ignored (everything is re-hashed), never
 * trusted: it only ever saves work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "pack.h"
#include "statcache.h"
#include "util.h"

#define HDR 24u
#define ENT 72u

struct lmd_statcache {
	char *path;
	/* loaded */
	lmd_buf old;
	int64_t old_start;
	uint32_t old_count;
	uint32_t *slots;   /* open addressing: offset+1 into old, 0 empty */
	size_t cap;
	/* being built */
	lmd_buf neu;
	uint32_t new_count;
	bool changed;
};

static uint64_t hash_str(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	return h;
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

int64_t lmd_statcache_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return ts_ns(&ts);
}

static char *cache_path(const char *statedir, const char *dataset)
{
	lmd_oid h;
	char hex[LMD_OID_HEXSZ + 1];
	if (lmd_sha256_buf(dataset, strlen(dataset), &h) < 0)
		return NULL;
	lmd_oid_fmt(hex, &h);
	return lmd_asprintf("%s/stat-%.32s", statedir, hex);
}

static bool parse_old(lmd_statcache *c)
{
	const uint8_t *p = c->old.ptr;
	size_t n = c->old.len, off = HDR;
	lmd_oid sum;

	if (n < HDR + 32 || memcmp(p, "LMDSTAT1", 8) != 0)
		return false;
	if (lmd_sha256_buf(p, n - 32, &sum) < 0 || memcmp(sum.id, p + n - 32, 32) != 0)
		return false;
	c->old_start = (int64_t)lmd_get_le64(p + 8);
	c->old_count = lmd_get_le32(p + 16);
	if (c->old_count > (n / ENT))
		return false;
	c->cap = 16;
	while (c->cap < (size_t)c->old_count * 2 + 2)
		c->cap *= 2;
	c->slots = calloc(c->cap, sizeof(*c->slots));
	if (!c->slots)
		return false;
	for (uint32_t i = 0; i < c->old_count; i++) {
		uint32_t plen;
		if (off + ENT > n - 32)
			return false;
		plen = lmd_get_le32(p + off + 36);
		if (plen > 65536 || off + ENT + plen > n - 32)
			return false;
		size_t j = hash_str((const char *)p + off + ENT, plen) & (c->cap - 1);
		while (c->slots[j])
			j = (j + 1) & (c->cap - 1);
		c->slots[j] = (uint32_t)off + 1;
		off += ENT + plen;
	}
	return off == n - 32;
}

int lmd_statcache_load(const char *statedir, const char *dataset, lmd_statcache **ret)
{
	lmd_statcache *c = lmd_calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->path = cache_path(statedir, dataset);
	if (!c->path) {
		free(c);
		return -ENOMEM;
	}
	r = lmd_read_file(c->path, 1u << 30 < LMD_MAX_BLOB ? 1u << 30 : LMD_MAX_BLOB, &c->old);
	if (r < 0 || !parse_old(c)) {
		lmd_error_clear();
		lmd_buf_release(&c->old);
		free(c->slots);
		c->slots = NULL;
		c->cap = 0;
		c->old_count = 0;
	}
	c->changed = false;
	*ret = c;
	return 0;
}

void lmd_statcache_free(lmd_statcache *c)
{
	if (!c)
		return;
	lmd_buf_release(&c->old);
	lmd_buf_release(&c->neu);
	free(c->slots);
	free(c->path);
	free(c);
}

static const uint8_t *find_old(const lmd_statcache *c, const char *rel)
{
	size_t n = strlen(rel);
	if (!c->cap)
		return NULL;
	for (size_t j = hash_str(rel, n) & (c->cap - 1); c->slots[j]; j = (j + 1) & (c->cap - 1)) {
		const uint8_t *e = c->old.ptr + c->slots[j] - 1;
		if (lmd_get_le32(e + 36) == n && !memcmp(e + ENT, rel, n))
			return e;
	}
	return NULL;
}

static bool matches(const uint8_t *e, const struct stat *st)
{
	return lmd_get_le64(e) == (uint64_t)st->st_size &&
	       (int64_t)lmd_get_le64(e + 8) == ts_ns(&st->st_mtim) &&
	       (int64_t)lmd_get_le64(e + 16) == ts_ns(&st->st_ctim) &&
	       lmd_get_le64(e + 24) == (uint64_t)st->st_ino &&
	       lmd_get_le32(e + 32) == (uint32_t)st->st_mode;
}

const lmd_oid *lmd_statcache_lookup(const lmd_statcache *c, const char *rel, const struct stat *st)
{
	const uint8_t *e = find_old(c, rel);
	if (!e || !matches(e, st))
		return NULL;
	if (ts_ns(&st->st_mtim) >= c->old_start || ts_ns(&st->st_ctim) >= c->old_start)
		return NULL; /* racily clean: could have changed in the same tick */
	return (const lmd_oid *)(e + 40);
}

int lmd_statcache_put(lmd_statcache *c, const char *rel, const struct stat *st, const lmd_oid *id)
{
	size_t n = strlen(rel);
	uint8_t e[ENT];
	const uint8_t *o;
	int r;

	if (n > 65536)
		return 0; /* not cached; always re-read */
	lmd_put_le64(e, (uint64_t)st->st_size);
	lmd_put_le64(e + 8, (uint64_t)ts_ns(&st->st_mtim));
	lmd_put_le64(e + 16, (uint64_t)ts_ns(&st->st_ctim));
	lmd_put_le64(e + 24, (uint64_t)st->st_ino);
	lmd_put_le32(e + 32, (uint32_t)st->st_mode);
	lmd_put_le32(e + 36, (uint32_t)n);
	memcpy(e + 40, id->id, 32);
	if (!c->neu.len && (r = lmd_buf_put(&c->neu, "LMDSTAT1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", HDR)) < 0)
		return r;
	if ((r = lmd_buf_put(&c->neu, e, ENT)) < 0 || (r = lmd_buf_put(&c->neu, rel, n)) < 0)
		return r;
	c->new_count++;
	o = find_old(c, rel);
	if (!o || memcmp(o, e, ENT) != 0)
		c->changed = true;
	return 0;
}

bool lmd_statcache_changed(const lmd_statcache *c)
{
	return c->changed || c->new_count != c->old_count;
}

int lmd_statcache_save(lmd_statcache *c, int64_t scan_start)
{
	lmd_oid sum;
	int r;

	if (!c->neu.len && (r = lmd_buf_put(&c->neu, "LMDSTAT1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", HDR)) < 0)
		return r;
	lmd_put_le64(c->neu.ptr + 8, (uint64_t)scan_start);
	lmd_put_le32(c->neu.ptr + 16, c->new_count);
	if ((r = lmd_sha256_buf(c->neu.ptr, c->neu.len, &sum)) < 0 ||
	    (r = lmd_buf_put(&c->neu, sum.id, 32)) < 0)
		return r;
	/* The cache only saves work: it needs no fsync to be safe, because a
	 * torn or stale file fails its checksum or its stat match. */
	{
		char *tmp = NULL;
		int fd = lmd_tmpfile_near(c->path, 0644, &tmp);
		if (fd < 0)
			return fd;
		r = lmd_write_all(fd, c->neu.ptr, c->neu.len);
		close(fd);
		if (r < 0 || rename(tmp, c->path) < 0) {
			r = r < 0 ? r : -errno;
			unlink(tmp);
			free(tmp);
			return lmd_error_set(r, "cannot write the stat cache '%s': %s", c->path, lmd_strerror(r));
		}
		free(tmp);
	}
	return 0;
}

int lmd_statcache_remove(const char *statedir, const char *dataset)
{
	char *p = cache_path(statedir, dataset);
	if (!p)
		return -ENOMEM;
	unlink(p);
	free(p);
	return 0;
}
