/*
 * The log cache (see logcache.h).  File format, little-endian:
 *
 *   header  "LMDLOGC\0" u32 version u32 idlen u32 count u32 0 u64 check
 *   table   count x { id[idlen] u32 offset }, ids sorted and distinct
 *   records at those offsets, each:
 *           u32 len u32 check id[idlen] i64 time i64 author_time i32 tz
 *           u32 nparents u32 nchanges u32 author_len u32 email_len u32 subject_len
 *           parents[nparents][idlen] author\0 email\0 subject\0
 *           nchanges x { u8 flags u32 path_len [old id] [new id]
 *                        [u64 size files old_size old_files i64 added deleted modified]
 *                        path\0 }
 *
 * The header's check is hash(header[0, 24)) ^ (hash(table) * 0x9e3779b97f4a7c15
 * + 1) and a record's is the low 32 bits of hash(record[8, len)), with
 * hash = lmd_logcache_hash.  The header's covers the table, so a lookup (a
 * binary search) only meets sane offsets; each record has its own check
 * over what follows its check field, verified the first time the record
 * is used: a log that reads ten records checks ten.  Every length is
 * bounded by the bytes left before it is used.  The hash is the first 8
 * bytes of the SHA-256 (OpenSSL, as everywhere else): it is there for torn
 * writes and bit rot (damage slips past a record's 32-bit check with odds
 * of 2^-32); whoever can write .lmdata/ can rewrite the data anyway.
 *
 * The file is read whole (it is bounded by max_file) rather than mapped,
 * so that someone truncating it under a running log cannot fault it.
 * Saves rename a complete temp file into place without fsync: a file torn
 * by a crash fails its checks and is ignored, like any damaged one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "logcache.h"
#include "pack.h"
#include "util.h"

#define HDR 32u
#define MAGIC "LMDLOGC"          /* with its NUL: 8 bytes */
#define FIXED(idlen) (48u + (idlen))
#define FIGS 56u                 /* the seven figures of a known change */
#define F_OLD 1u
#define F_NEW 2u
#define F_KNOWN 4u
#define MAX_TZ 6039              /* +9999 is the widest zone git writes */
#define MAX_TIME (INT64_C(1) << 53)
#define MAX_PARENTS 65535u

enum { ST_UNCHECKED = 0, ST_VALID = 1, ST_BAD = 2, ST_MASK = 3, ST_USED = 4, ST_REPLACED = 8 };

struct pend {
	size_t off, len;
};

struct lmd_logcache {
	char *path;
	size_t idlen, ent, max_file;
	uint8_t *buf;             /* the file as read; NULL when none was usable */
	size_t len;
	uint32_t count;
	uint8_t *state;           /* per loaded record: ST_* */
	lmd_logcache_change *scratch;
	size_t scratch_cap;
	lmd_buf pending;          /* records put, back to back */
	struct pend *pend;
	size_t npend, cap_pend;
};

uint64_t lmd_logcache_hash(const void *data, size_t n)
{
	lmd_oid d;
	/* Out of memory for the digest context: a check that fails, so the
	 * record is recomputed, never trusted. */
	if (lmd_sha256_buf(data, n, &d) < 0) {
		lmd_error_clear();
		return 0;
	}
	return lmd_get_le64(d.id);
}

/* The header's check: of the header up to the check field, and of the table. */
static uint64_t header_check(const uint8_t *p, size_t table_len)
{
	return lmd_logcache_hash(p, 24) ^ (lmd_logcache_hash(p + HDR, table_len) * 0x9e3779b97f4a7c15ull + 1);
}

/* ---- reading ---- */

struct cur {
	const uint8_t *p, *end;
};

static const uint8_t *take(struct cur *c, size_t n)
{
	const uint8_t *p = c->p;
	if ((size_t)(c->end - c->p) < n)
		return NULL;
	c->p += n;
	return p;
}

/* A string of n bytes plus its NUL, with no NUL inside. */
static const char *take_str(struct cur *c, size_t n)
{
	const uint8_t *p;
	if (n >= (size_t)(c->end - c->p))
		return NULL;
	p = take(c, n + 1);
	if (p[n] != 0 || memchr(p, 0, n))
		return NULL;
	return (const char *)p;
}

static bool time_ok(int64_t t)
{
	return t > -MAX_TIME && t < MAX_TIME;
}

/*
 * Check the structure of a record (whose own check has passed) and, with
 * ret, decode it (changes into lc->scratch).  False: damaged.
 */
static bool parse_record(lmd_logcache *lc, const uint8_t *r, size_t len, lmd_logcache_commit *ret)
{
	size_t idlen = lc->idlen;
	struct cur c = { r + FIXED(idlen), r + len };
	const uint8_t *f = r + 8 + idlen;
	int64_t time = (int64_t)lmd_get_le64(f), atime = (int64_t)lmd_get_le64(f + 8);
	int32_t tz = (int32_t)lmd_get_le32(f + 16);
	uint32_t np = lmd_get_le32(f + 20), nc = lmd_get_le32(f + 24);
	const uint8_t *parents;
	const char *author, *email, *subject;

	if (!time_ok(time) || !time_ok(atime) || tz < -MAX_TZ || tz > MAX_TZ || np > MAX_PARENTS)
		return false;
	if (!(parents = take(&c, (size_t)np * idlen)) || !(author = take_str(&c, lmd_get_le32(f + 28))) ||
	    !(email = take_str(&c, lmd_get_le32(f + 32))) || !(subject = take_str(&c, lmd_get_le32(f + 36))))
		return false;
	/* A change takes at least 7 bytes: flags, path length, one byte and a NUL. */
	if (nc > (size_t)(c.end - c.p) / 7)
		return false;
	if (ret && nc > lc->scratch_cap)
		return false; /* lmd_logcache_read makes room first */
	for (uint32_t i = 0; i < nc; i++) {
		const uint8_t *h = take(&c, 5), *o = NULL, *n = NULL, *fig = NULL;
		const char *path;
		size_t plen;
		unsigned fl;
		if (!h)
			return false;
		fl = h[0];
		plen = lmd_get_le32(h + 1);
		if ((fl & ~(F_OLD | F_NEW | F_KNOWN)) || !(fl & (F_OLD | F_NEW)) || plen == 0)
			return false;
		if (((fl & F_OLD) && !(o = take(&c, idlen))) || ((fl & F_NEW) && !(n = take(&c, idlen))) ||
		    ((fl & F_KNOWN) && !(fig = take(&c, FIGS))) || !(path = take_str(&c, plen)))
			return false;
		if (path[0] == '/' || path[plen - 1] == '/')
			return false;
		if (fig && ((int64_t)lmd_get_le64(fig + 32) < 0 || (int64_t)lmd_get_le64(fig + 40) < 0 ||
			    (int64_t)lmd_get_le64(fig + 48) < 0))
			return false;
		if (ret) {
			lmd_logcache_change *d = &lc->scratch[i];
			memset(d, 0, sizeof(*d));
			d->path = path;
			d->has_old = o != NULL;
			d->has_new = n != NULL;
			if (o)
				memcpy(d->old_id, o, idlen);
			if (n)
				memcpy(d->new_id, n, idlen);
			d->known = fig != NULL;
			if (fig) {
				d->size = lmd_get_le64(fig);
				d->files = lmd_get_le64(fig + 8);
				d->old_size = lmd_get_le64(fig + 16);
				d->old_files = lmd_get_le64(fig + 24);
				d->added = (int64_t)lmd_get_le64(fig + 32);
				d->deleted = (int64_t)lmd_get_le64(fig + 40);
				d->modified = (int64_t)lmd_get_le64(fig + 48);
			} else {
				d->added = d->deleted = d->modified = -1;
			}
		}
	}
	if (c.p != c.end)
		return false;
	if (ret) {
		memset(ret->id, 0, sizeof(ret->id));
		memcpy(ret->id, r + 8, idlen);
		ret->time = time;
		ret->author_time = atime;
		ret->tz = tz;
		ret->author = author;
		ret->email = email;
		ret->subject = subject;
		ret->nparents = np;
		ret->parents = parents;
		ret->nchanges = nc;
		ret->changes = lc->scratch;
	}
	return true;
}

static const uint8_t *entry(const lmd_logcache *lc, size_t i)
{
	return lc->buf + HDR + i * lc->ent;
}

static const uint8_t *record(const lmd_logcache *lc, size_t i, size_t *ret_len)
{
	const uint8_t *e = entry(lc, i);
	size_t off = lmd_get_le32(e + lc->idlen);
	*ret_len = lmd_get_le32(lc->buf + off);
	return lc->buf + off;
}

/* Check record i once: offset, length, check, id and structure. */
static bool record_ok(lmd_logcache *lc, size_t i)
{
	const uint8_t *e = entry(lc, i), *r;
	size_t off = lmd_get_le32(e + lc->idlen), data = HDR + (size_t)lc->count * lc->ent, len;
	bool ok;

	if ((lc->state[i] & ST_MASK) != ST_UNCHECKED)
		return (lc->state[i] & ST_MASK) == ST_VALID;
	ok = off >= data && off <= lc->len - 8;
	if (ok) {
		r = lc->buf + off;
		len = lmd_get_le32(r);
		ok = len >= FIXED(lc->idlen) && len <= lc->len - off && len <= LMD_LOGCACHE_MAX_RECORD &&
		     lmd_get_le32(r + 4) == (uint32_t)lmd_logcache_hash(r + 8, len - 8) && !memcmp(r + 8, e, lc->idlen) &&
		     parse_record(lc, r, len, NULL);
	}
	lc->state[i] = (uint8_t)((lc->state[i] & ~ST_MASK) | (ok ? ST_VALID : ST_BAD));
	return ok;
}

/* Is the file's header and table sound?  Then lc->count is set. */
static bool load_ok(lmd_logcache *lc)
{
	const uint8_t *p = lc->buf;
	uint32_t count;

	if (lc->len < HDR || memcmp(p, MAGIC, 8) || lmd_get_le32(p + 8) != LMD_LOGCACHE_VERSION ||
	    lmd_get_le32(p + 12) != lc->idlen || lmd_get_le32(p + 20) != 0)
		return false;
	count = lmd_get_le32(p + 16);
	/* Each record has a table entry and at least its fixed part. */
	if (count > (lc->len - HDR) / (lc->ent + FIXED(lc->idlen)))
		return false;
	if (lmd_get_le64(p + 24) != header_check(p, (size_t)count * lc->ent))
		return false;
	for (uint32_t i = 1; i < count; i++)
		if (memcmp(p + HDR + (size_t)(i - 1) * lc->ent, p + HDR + (size_t)i * lc->ent, lc->idlen) >= 0)
			return false;
	lc->count = count;
	return true;
}

static void load(lmd_logcache *lc)
{
	struct stat st;
	int fd = open(lc->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)HDR ||
	    (uint64_t)st.st_size > lc->max_file)
		goto out;
	lc->buf = malloc((size_t)st.st_size);
	if (!lc->buf)
		goto out; /* not an error: log runs without the cache */
	n = lmd_read_full(fd, lc->buf, (size_t)st.st_size);
	if (n != (ssize_t)st.st_size)
		goto drop;
	lc->len = (size_t)n;
	if (!load_ok(lc))
		goto drop;
	lc->state = calloc(lc->count ? lc->count : 1, 1);
	if (lc->state)
		goto out;
drop:
	free(lc->buf);
	lc->buf = NULL;
	lc->len = 0;
	lc->count = 0;
out:
	close(fd);
}

int lmd_logcache_open(const char *path, size_t idlen, size_t max_file, lmd_logcache **ret)
{
	lmd_logcache *lc;

	if (idlen == 0 || idlen > LMD_LOGCACHE_MAX_ID)
		return lmd_error_set(LMD_EBADINPUT, "log cache: ids of %zu bytes", idlen);
	lc = lmd_calloc(1, sizeof(*lc));
	if (!lc)
		return -ENOMEM;
	lc->path = lmd_strdup(path);
	if (!lc->path) {
		free(lc);
		return -ENOMEM;
	}
	lc->idlen = idlen;
	lc->ent = idlen + 4;
	lc->max_file = max_file && max_file < LMD_LOGCACHE_MAX_FILE ? max_file : LMD_LOGCACHE_MAX_FILE;
	load(lc);
	*ret = lc;
	return 0;
}

void lmd_logcache_free(lmd_logcache *lc)
{
	if (!lc)
		return;
	free(lc->path);
	free(lc->buf);
	free(lc->state);
	free(lc->scratch);
	free(lc->pend);
	lmd_buf_release(&lc->pending);
	free(lc);
}

/* The table index of id, or -1. */
static long lookup(const lmd_logcache *lc, const uint8_t *id)
{
	size_t lo = 0, hi = lc->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(id, entry(lc, mid), lc->idlen);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

long lmd_logcache_find(lmd_logcache *lc, const uint8_t *id)
{
	long i = lookup(lc, id);
	if (i < 0 || !record_ok(lc, (size_t)i))
		return -1;
	lc->state[i] |= ST_USED;
	return i;
}

int64_t lmd_logcache_time(const lmd_logcache *lc, long i)
{
	size_t len;
	return (int64_t)lmd_get_le64(record(lc, (size_t)i, &len) + 8 + lc->idlen);
}

int lmd_logcache_read(lmd_logcache *lc, long i, lmd_logcache_commit *ret)
{
	size_t len;
	const uint8_t *r = record(lc, (size_t)i, &len);
	size_t nc = lmd_get_le32(r + 8 + lc->idlen + 24);

	if (nc > lc->scratch_cap) {
		lmd_logcache_change *v = lmd_reallocarray(lc->scratch, nc, sizeof(*v));
		if (!v)
			return -ENOMEM;
		lc->scratch = v;
		lc->scratch_cap = nc;
	}
	if (!parse_record(lc, r, len, ret)) /* it parsed when it was found */
		return lmd_error_set(LMD_ECORRUPT, "log cache: damaged record");
	return 0;
}

/* ---- writing ---- */

/* Bytes of a record for c: 0 when it is not to be cached. */
static size_t record_size(const lmd_logcache *lc, const lmd_logcache_commit *c)
{
	size_t n = FIXED(lc->idlen), max = LMD_LOGCACHE_MAX_RECORD;
	const char *s[3] = { c->author, c->email, c->subject };

	if (c->nparents > MAX_PARENTS || c->nchanges > max || !time_ok(c->time) || !time_ok(c->author_time) ||
	    c->tz < -MAX_TZ || c->tz > MAX_TZ)
		return 0;
	n += c->nparents * lc->idlen;
	for (int i = 0; i < 3; i++) {
		size_t l = strnlen(s[i], max);
		if (l >= max - n)
			return 0;
		n += l + 1;
	}
	for (size_t i = 0; i < c->nchanges; i++) {
		const lmd_logcache_change *d = &c->changes[i];
		size_t l = strnlen(d->path, max);
		if (l == 0 || l >= max || (!d->has_old && !d->has_new) ||
		    (d->known && (d->added < 0 || d->deleted < 0 || d->modified < 0)))
			return 0;
		l += 6 + (d->has_old ? lc->idlen : 0) + (d->has_new ? lc->idlen : 0) + (d->known ? FIGS : 0);
		if (l >= max - n)
			return 0;
		n += l;
	}
	return n;
}

static void put_str(uint8_t **p, const char *s)
{
	size_t l = strlen(s) + 1;
	memcpy(*p, s, l);
	*p += l;
}

int lmd_logcache_put(lmd_logcache *lc, const lmd_logcache_commit *c)
{
	size_t n = record_size(lc, c), idlen = lc->idlen;
	uint8_t *r, *p;
	long old;
	int rc;

	size_t room = lc->max_file > HDR ? lc->max_file - HDR : 0;

	/* The puts alone must fit in a file (loaded records give way at save). */
	if (!n || lc->pending.len + n + lc->ent * (lc->npend + 1) > room)
		return 0;
	if (lc->npend == lc->cap_pend) {
		size_t cap = lc->cap_pend ? lc->cap_pend * 2 : 64;
		struct pend *v = lmd_reallocarray(lc->pend, cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		lc->pend = v;
		lc->cap_pend = cap;
	}
	if ((rc = lmd_buf_grow(&lc->pending, n)) < 0)
		return rc;
	r = p = lc->pending.ptr + lc->pending.len;
	lmd_put_le32(p, (uint32_t)n);
	memcpy(p + 8, c->id, idlen);
	p += 8 + idlen;
	lmd_put_le64(p, (uint64_t)c->time);
	lmd_put_le64(p + 8, (uint64_t)c->author_time);
	lmd_put_le32(p + 16, (uint32_t)(int32_t)c->tz);
	lmd_put_le32(p + 20, (uint32_t)c->nparents);
	lmd_put_le32(p + 24, (uint32_t)c->nchanges);
	lmd_put_le32(p + 28, (uint32_t)strlen(c->author));
	lmd_put_le32(p + 32, (uint32_t)strlen(c->email));
	lmd_put_le32(p + 36, (uint32_t)strlen(c->subject));
	p += 40;
	if (c->nparents) {
		memcpy(p, c->parents, c->nparents * idlen);
		p += c->nparents * idlen;
	}
	put_str(&p, c->author);
	put_str(&p, c->email);
	put_str(&p, c->subject);
	for (size_t i = 0; i < c->nchanges; i++) {
		const lmd_logcache_change *d = &c->changes[i];
		p[0] = (uint8_t)((d->has_old ? F_OLD : 0) | (d->has_new ? F_NEW : 0) | (d->known ? F_KNOWN : 0));
		lmd_put_le32(p + 1, (uint32_t)strlen(d->path));
		p += 5;
		if (d->has_old) {
			memcpy(p, d->old_id, idlen);
			p += idlen;
		}
		if (d->has_new) {
			memcpy(p, d->new_id, idlen);
			p += idlen;
		}
		if (d->known) {
			lmd_put_le64(p, d->size);
			lmd_put_le64(p + 8, d->files);
			lmd_put_le64(p + 16, d->old_size);
			lmd_put_le64(p + 24, d->old_files);
			lmd_put_le64(p + 32, (uint64_t)d->added);
			lmd_put_le64(p + 40, (uint64_t)d->deleted);
			lmd_put_le64(p + 48, (uint64_t)d->modified);
			p += FIGS;
		}
		put_str(&p, d->path);
	}
	lmd_put_le32(r + 4, (uint32_t)lmd_logcache_hash(r + 8, n - 8));
	lc->pend[lc->npend].off = lc->pending.len;
	lc->pend[lc->npend].len = n;
	lc->npend++;
	lc->pending.len += n;
	if (lc->buf && (old = lookup(lc, c->id)) >= 0)
		lc->state[old] |= ST_REPLACED;
	return 0;
}

bool lmd_logcache_dirty(const lmd_logcache *lc)
{
	return lc->npend > 0;
}

struct out_rec {
	const uint8_t *rec;
	size_t len, seq;           /* seq: loaded records first, then puts in order */
};

static int cmp_out(const void *a, const void *b, void *arg)
{
	const struct out_rec *x = a, *y = b;
	int c = memcmp(x->rec + 8, y->rec + 8, *(const size_t *)arg);
	return c ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Append to out, writing it to fd once it holds a MiB. */
static int emit(int fd, lmd_buf *out, const void *p, size_t n, bool flush)
{
	int rc;
	if (n && (rc = lmd_buf_put(out, p, n)) < 0)
		return rc;
	if (out->len >= (1u << 20) || (flush && out->len)) {
		if ((rc = lmd_write_all(fd, out->ptr, out->len)) < 0)
			return rc;
		out->len = 0;
	}
	return 0;
}

/* The records of the new file, sorted by id, each id once, within the cap. */
static int gather(lmd_logcache *lc, struct out_rec **ret, size_t *ret_n)
{
	struct out_rec *v = lmd_reallocarray(NULL, (size_t)lc->count + lc->npend + 1, sizeof(*v));
	size_t n = 0, m = 0, total = 0;

	if (!v)
		return -ENOMEM;
	for (bool used_only = false;; used_only = true) {
		n = total = 0;
		for (uint32_t i = 0; i < lc->count; i++) {
			size_t len;
			if ((lc->state[i] & ST_REPLACED) || (used_only && !(lc->state[i] & ST_USED)) ||
			    !record_ok(lc, i))
				continue;
			v[n].rec = record(lc, i, &len);
			v[n].len = len;
			v[n].seq = n;
			total += len + lc->ent;
			n++;
		}
		/* Over the cap with the puts: keep what this run used, then only the puts. */
		if (HDR + total + lc->pending.len + lc->npend * lc->ent <= lc->max_file)
			break;
		if (used_only) {
			n = 0;
			break;
		}
	}
	for (size_t i = 0; i < lc->npend; i++, n++) {
		v[n].rec = lc->pending.ptr + lc->pend[i].off;
		v[n].len = lc->pend[i].len;
		v[n].seq = n;
	}
	qsort_r(v, n, sizeof(*v), cmp_out, &lc->idlen);
	/* Of equal ids the last sorts last: the latest put. */
	for (size_t i = 0; i < n; i++)
		if (i + 1 == n || memcmp(v[i].rec + 8, v[i + 1].rec + 8, lc->idlen))
			v[m++] = v[i];
	*ret = v;
	*ret_n = m;
	return 0;
}

int lmd_logcache_save(lmd_logcache *lc)
{
	struct out_rec *v = NULL;
	lmd_buf out = LMD_BUF_INIT;
	char *tmp = NULL, *dir;
	size_t n = 0, off;
	int fd = -1, rc;

	if (!lc->npend)
		return 0;
	if ((rc = gather(lc, &v, &n)) < 0)
		return rc;
	if (HDR + n * lc->ent > UINT32_MAX) {
		free(v);
		return 0;
	}
	off = HDR + n * lc->ent;
	if ((rc = lmd_buf_grow(&out, off)) < 0)
		goto fail;
	memset(out.ptr, 0, off);
	memcpy(out.ptr, MAGIC, 8);
	lmd_put_le32(out.ptr + 8, LMD_LOGCACHE_VERSION);
	lmd_put_le32(out.ptr + 12, (uint32_t)lc->idlen);
	lmd_put_le32(out.ptr + 16, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		uint8_t *e = out.ptr + HDR + i * lc->ent;
		memcpy(e, v[i].rec + 8, lc->idlen);
		lmd_put_le32(e + lc->idlen, (uint32_t)off);
		off += v[i].len;
	}
	lmd_put_le64(out.ptr + 24, header_check(out.ptr, n * lc->ent));
	out.len = HDR + n * lc->ent;
	dir = lmd_path_dirname(lc->path);
	if (dir && dir[0])
		lmd_mkdir_p(dir, 0755);
	free(dir);
	lmd_error_clear();
	if ((fd = lmd_tmpfile_near(lc->path, 0644, &tmp)) < 0) {
		rc = fd;
		goto fail;
	}
	for (size_t i = 0; i < n && rc >= 0; i++)
		rc = emit(fd, &out, v[i].rec, v[i].len, false);
	if (rc >= 0)
		rc = emit(fd, &out, NULL, 0, true);
	if (rc >= 0 && close(fd) < 0)
		rc = -errno;
	fd = -1;
	if (rc >= 0 && rename(tmp, lc->path) < 0)
		rc = -errno;
fail:
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		if (tmp)
			unlink(tmp);
		if (rc != -ENOMEM)
			lmd_error_set(rc, "cannot write the log cache '%s': %s", lc->path, lmd_strerror(rc));
	}
	free(tmp);
	free(v);
	lmd_buf_release(&out);
	return rc;
}

/* ---- ids ---- */

/* Hex digit values + 1 (0: not a digit). */
static const uint8_t hexval[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

int lmd_logcache_id_parse(const char *hex, uint8_t out[LMD_LOGCACHE_MAX_ID])
{
	size_t n = strnlen(hex, 2 * LMD_LOGCACHE_MAX_ID + 1);
	if (n == 0 || n % 2 || n > 2 * LMD_LOGCACHE_MAX_ID)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned h = hexval[(uint8_t)hex[2 * i]], l = hexval[(uint8_t)hex[2 * i + 1]];
		if (!h || !l)
			return -1;
		out[i] = (uint8_t)((h - 1) << 4 | (l - 1));
	}
	return (int)(n / 2);
}

void lmd_logcache_id_fmt(const uint8_t *id, size_t idlen, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < idlen; i++) {
		hex[2 * i] = digits[id[i] >> 4];
		hex[2 * i + 1] = digits[id[i] & 15];
	}
	hex[2 * idlen] = 0;
}
