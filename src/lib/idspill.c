/* An external sorted set of object ids, or of records keyed by one (see idspill.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "idspill.h"
#include "util.h"

#define DEFAULT_BUF_BYTES ((size_t)8 << 20)
#define FAN 65536u
#define MAX_RUNS 64u                 /* then they are merged into one */
#define READ_BYTES ((size_t)64 << 10) /* what a merge reads at a time from each run */
#define ID_SZ sizeof(lmd_oid)

struct run {
	int fd;
	uint64_t n;
};

struct lmd_idspill {
	char *dir;
	size_t rsz;              /* bytes per record; the first 32 are the id */
	uint8_t *buf;
	size_t nbuf, cap;
	struct run *runs;
	unsigned nruns, aruns, written;
	/* after finish */
	bool finished;
	const uint8_t *recs;     /* buf, or the mapped merged file */
	uint64_t n;
	int fd;
	size_t map_len;
	uint32_t *fan;           /* fan[k]: first index whose two-byte prefix is >= k (FAN + 1) */
	uint64_t *fan64;         /* the same, when n does not fit 32 bits */
};

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, ID_SZ);
}

/* Sort by id and keep the first record of each id, in place; the new count. */
static size_t sort_unique(uint8_t *v, size_t n, size_t rsz)
{
	size_t w = 0;
	qsort(v, n, rsz, cmp_id);
	for (size_t i = 0; i < n; i++)
		if (w == 0 || memcmp(v + (w - 1) * rsz, v + i * rsz, ID_SZ) != 0) {
			if (w != i)
				memcpy(v + w * rsz, v + i * rsz, rsz);
			w++;
		}
	return w;
}

/* An anonymous temp file in the set's folder: unlinked at once. */
static int anon_file(lmd_idspill *s)
{
	char *path = lmd_asprintf("%s/.lmd-ids-XXXXXX", s->dir);
	int fd;
	if (!path)
		return -ENOMEM;
	fd = mkstemp(path);
	if (fd < 0) {
		int r = lmd_errno_path("cannot create a temporary file in", s->dir);
		free(path);
		return r;
	}
	unlink(path);
	free(path);
	return fd;
}

int lmd_idspill_new_rec(const char *tmpdir, size_t buf_recs, size_t rec_size, lmd_idspill **ret)
{
	lmd_idspill *s;
	if (rec_size < ID_SZ || rec_size > 4096)
		return -EINVAL;
	if (!(s = lmd_calloc(1, sizeof(*s))))
		return -ENOMEM;
	s->fd = -1;
	s->rsz = rec_size;
	s->cap = buf_recs ? buf_recs : DEFAULT_BUF_BYTES / rec_size;
	if (s->cap < 2)
		s->cap = 2;
	s->dir = lmd_strdup(tmpdir);
	s->buf = lmd_reallocarray(NULL, s->cap, rec_size);
	if (!s->dir || !s->buf) {
		lmd_idspill_free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

int lmd_idspill_new(const char *tmpdir, size_t buf_ids, lmd_idspill **ret)
{
	return lmd_idspill_new_rec(tmpdir, buf_ids, ID_SZ, ret);
}

static int compact(lmd_idspill *s);

static int spill(lmd_idspill *s)
{
	size_t n = sort_unique(s->buf, s->nbuf, s->rsz);
	int fd, r;

	if (s->nruns == MAX_RUNS && (r = compact(s)) < 0)
		return r;
	if (s->nruns == s->aruns) {
		unsigned na = s->aruns ? s->aruns * 2 : 16;
		struct run *nr = lmd_reallocarray(s->runs, na, sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		s->runs = nr;
		s->aruns = na;
	}
	if ((fd = anon_file(s)) < 0)
		return fd;
	if ((r = lmd_write_all(fd, s->buf, n * s->rsz)) < 0) {
		close(fd);
		return lmd_error_set(r, "cannot write a temporary file in '%s': %s", s->dir, lmd_strerror(r));
	}
	s->runs[s->nruns++] = (struct run){ .fd = fd, .n = n };
	s->written++;
	s->nbuf = 0;
	return 0;
}

int lmd_idspill_add_rec(lmd_idspill *s, const void *rec)
{
	int r;
	if (s->finished)
		return -EINVAL;
	if (s->nbuf == s->cap) {
		/* Duplicates are common (history shares most chunks): drop them
		 * first, and write a run only when that frees too little. */
		s->nbuf = sort_unique(s->buf, s->nbuf, s->rsz);
		if (s->nbuf > s->cap / 2 && (r = spill(s)) < 0)
			return r;
	}
	memcpy(s->buf + s->nbuf * s->rsz, rec, s->rsz);
	s->nbuf++;
	return 0;
}

int lmd_idspill_add(lmd_idspill *s, const lmd_oid *id)
{
	if (s->rsz != ID_SZ)
		return -EINVAL;
	return lmd_idspill_add_rec(s, id);
}

/*
 * Merging: every run (and, for foreach, the sorted buffer) is read back a
 * piece of READ_BYTES at a time through a cursor; a heap of cursors
 * yields the records in order of id, each distinct id once.  Nothing is
 * mapped, so memory is READ_BYTES per run, whatever the runs hold.
 */
struct cursor {
	int fd;                 /* -1: the records are in mem */
	const uint8_t *mem;
	uint64_t n, next;       /* records in the source; the next one to load */
	uint8_t *own;           /* a run's piece buffer (READ_BYTES) */
	const uint8_t *b;       /* the piece loaded */
	size_t bn, bi;
};

/* Load the next piece of a run; bn 0 when it is used up. */
static int cursor_fill(lmd_idspill *s, struct cursor *cu)
{
	size_t want;
	ssize_t got;

	cu->bi = cu->bn = 0;
	if (cu->next == cu->n)
		return 0;
	if (cu->fd < 0) {
		/* in memory: no copy, the piece is the rest */
		cu->b = cu->mem + cu->next * s->rsz;
		cu->bn = (size_t)(cu->n - cu->next);
		cu->next = cu->n;
		return 0;
	}
	want = (size_t)LMD_MIN((uint64_t)(READ_BYTES / s->rsz), cu->n - cu->next);
	cu->b = cu->own;
	got = lmd_pread_full(cu->fd, cu->own, want * s->rsz, (off_t)(cu->next * s->rsz));
	if (got < 0)
		return lmd_error_set((int)got, "cannot read a temporary file in '%s': %s", s->dir, lmd_strerror((int)got));
	if ((size_t)got != want * s->rsz)
		return lmd_error_set(-EIO, "a temporary file in '%s' is shorter than written", s->dir);
	cu->bn = want;
	cu->next += want;
	return 0;
}

static const uint8_t *cursor_rec(const struct cursor *cu, size_t rsz)
{
	return cu->b + cu->bi * rsz;
}

static bool cur_less(const struct cursor *cs, size_t rsz, unsigned a, unsigned b)
{
	return memcmp(cursor_rec(&cs[a], rsz), cursor_rec(&cs[b], rsz), ID_SZ) < 0;
}

static void sift(const struct cursor *cs, size_t rsz, unsigned *h, unsigned n, unsigned i)
{
	for (;;) {
		unsigned l = 2 * i + 1, m = i;
		if (l < n && cur_less(cs, rsz, h[l], h[m]))
			m = l;
		if (l + 1 < n && cur_less(cs, rsz, h[l + 1], h[m]))
			m = l + 1;
		if (m == i)
			return;
		unsigned t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/*
 * Merge the runs, and mem (sorted, distinct) when nmem, calling emit once
 * per distinct id in order, with its record.  The runs stay as they are.
 */
static int merge(lmd_idspill *s, const uint8_t *mem, size_t nmem, lmd_idspill_cb emit, void *payload)
{
	unsigned nc = s->nruns + (nmem ? 1 : 0), nh = 0, *h = NULL;
	struct cursor *cs = NULL;
	uint8_t prev[ID_SZ];
	bool have_prev = false;
	int r = 0;

	cs = lmd_calloc(nc ? nc : 1, sizeof(*cs));
	h = lmd_calloc(nc ? nc : 1, sizeof(*h));
	if (!cs || !h) {
		r = -ENOMEM;
		goto done;
	}
	for (unsigned i = 0; i < nc; i++) {
		struct cursor *cu = &cs[i];
		if (i < s->nruns) {
			cu->fd = s->runs[i].fd;
			cu->n = s->runs[i].n;
			if (!(cu->own = lmd_malloc(READ_BYTES))) {
				r = -ENOMEM;
				goto done;
			}
		} else {
			cu->fd = -1;
			cu->mem = mem;
			cu->n = nmem;
		}
		if ((r = cursor_fill(s, cu)) < 0)
			goto done;
		if (cu->bn)
			h[nh++] = i;
	}
	for (unsigned i = nh / 2; i-- > 0;)
		sift(cs, s->rsz, h, nh, i);
	while (nh) {
		struct cursor *cu = &cs[h[0]];
		const uint8_t *rec = cursor_rec(cu, s->rsz);
		if (!have_prev || memcmp(prev, rec, ID_SZ) != 0) {
			if ((r = emit((const lmd_oid *)rec, payload)) < 0)
				goto done;
			memcpy(prev, rec, ID_SZ);   /* a copy: the piece is reloaded below */
			have_prev = true;
		}
		if (++cu->bi == cu->bn && (r = cursor_fill(s, cu)) < 0)
			goto done;
		if (!cu->bn)
			h[0] = h[--nh];
		sift(cs, s->rsz, h, nh, 0);
	}
done:
	for (unsigned i = 0; cs && i < nc; i++)
		free(cs[i].own);
	free(cs);
	free(h);
	return r;
}

/* Buffered writes of a merged file. */
struct wbuf {
	lmd_idspill *s;
	int fd;
	uint64_t n;
	uint8_t b[64 << 10];
	size_t nb;              /* bytes */
};

static int wflush(struct wbuf *w)
{
	int r = w->nb ? lmd_write_all(w->fd, w->b, w->nb) : 0;
	w->nb = 0;
	if (r < 0)
		return lmd_error_set(r, "cannot write a temporary file in '%s': %s", w->s->dir, lmd_strerror(r));
	return 0;
}

static int wput(const lmd_oid *rec, void *payload)
{
	struct wbuf *w = payload;
	int r;
	if (w->nb + w->s->rsz > sizeof(w->b) && (r = wflush(w)) < 0)
		return r;
	memcpy(w->b + w->nb, rec, w->s->rsz);
	w->nb += w->s->rsz;
	w->n++;
	return 0;
}

/* Replace every run by one merged run: *ret_fd, *ret_n records. */
static int merge_to_file(lmd_idspill *s, int *ret_fd, uint64_t *ret_n)
{
	struct wbuf *w = lmd_calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->s = s;
	if ((w->fd = anon_file(s)) < 0) {
		r = w->fd;
		free(w);
		return r;
	}
	r = merge(s, NULL, 0, wput, w);
	if (r == 0)
		r = wflush(w);
	if (r < 0) {
		close(w->fd);
		free(w);
		return r;
	}
	for (unsigned i = 0; i < s->nruns; i++)
		close(s->runs[i].fd);
	s->nruns = 0;
	*ret_fd = w->fd;
	*ret_n = w->n;
	free(w);
	return 0;
}

/*
 * Too many runs: merge them into one, so the open files and the merge's
 * pieces stay bounded however many records are added.
 */
static int compact(lmd_idspill *s)
{
	int fd, r;
	uint64_t n;

	if ((r = merge_to_file(s, &fd, &n)) < 0)
		return r;
	s->runs[0] = (struct run){ .fd = fd, .n = n };
	s->nruns = 1;
	return 0;
}

static int merge_runs(lmd_idspill *s)
{
	int r = merge_to_file(s, &s->fd, &s->n);
	void *m;
	if (r < 0 || !s->n)
		return r;
	if (s->n > SIZE_MAX / s->rsz)
		return -EOVERFLOW;
	s->map_len = (size_t)s->n * s->rsz;
	m = mmap(NULL, s->map_len, PROT_READ, MAP_PRIVATE, s->fd, 0);
	if (m == MAP_FAILED) {
		s->map_len = 0;
		return lmd_errno_path("cannot map a temporary file in", s->dir);
	}
	s->recs = m;
	return 0;
}

int lmd_idspill_finish(lmd_idspill *s)
{
	int r;
	if (s->finished)
		return 0;
	if (s->nruns == 0) {
		s->n = sort_unique(s->buf, s->nbuf, s->rsz);
		s->recs = s->buf;
	} else {
		if (s->nbuf && (r = spill(s)) < 0)
			return r;
		free(s->buf);   /* the merged file replaces it */
		s->buf = NULL;
		if ((r = merge_runs(s)) < 0)
			return r;
	}
	/* The table of two-byte prefixes. */
	if (s->n <= UINT32_MAX)
		s->fan = lmd_calloc(FAN + 1, sizeof(*s->fan));
	else
		s->fan64 = lmd_calloc(FAN + 1, sizeof(*s->fan64));
	if (!s->fan && !s->fan64)
		return -ENOMEM;
	{
		uint64_t i = 0;
		for (uint32_t k = 0; k <= FAN; k++) {
			while (i < s->n && ((uint32_t)s->recs[i * s->rsz] << 8 | s->recs[i * s->rsz + 1]) < k)
				i++;
			if (s->fan)
				s->fan[k] = (uint32_t)i;
			else
				s->fan64[k] = i;
		}
	}
	s->finished = true;
	return 0;
}

const void *lmd_idspill_find(const lmd_idspill *s, const lmd_oid *id)
{
	uint32_t k;
	uint64_t lo, hi;
	if (!s->finished || !s->n)
		return NULL;
	k = (uint32_t)id->id[0] << 8 | id->id[1];
	lo = s->fan ? s->fan[k] : s->fan64[k];
	hi = s->fan ? s->fan[k + 1] : s->fan64[k + 1];
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		const uint8_t *rec = s->recs + mid * s->rsz;
		int c = memcmp(rec, id, ID_SZ);
		if (c == 0)
			return rec;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool lmd_idspill_has(const lmd_idspill *s, const lmd_oid *id)
{
	return lmd_idspill_find(s, id) != NULL;
}

const void *lmd_idspill_at(const lmd_idspill *s, uint64_t i)
{
	return s->finished && i < s->n ? s->recs + i * s->rsz : NULL;
}

int lmd_idspill_foreach(lmd_idspill *s, lmd_idspill_cb cb, void *payload)
{
	int r;

	if (s->finished) {
		for (uint64_t i = 0; i < s->n; i++)
			if ((r = cb((const lmd_oid *)(s->recs + i * s->rsz), payload)) < 0)
				return r;
		return 0;
	}
	s->nbuf = sort_unique(s->buf, s->nbuf, s->rsz);
	return merge(s, s->buf, s->nbuf, cb, payload);
}

uint64_t lmd_idspill_count(const lmd_idspill *s)
{
	return s->n;
}

unsigned lmd_idspill_runs(const lmd_idspill *s)
{
	return s->written;
}

void lmd_idspill_free(lmd_idspill *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->nruns; i++)
		close(s->runs[i].fd);
	if (s->recs && s->recs != s->buf)
		munmap((void *)s->recs, s->map_len);
	if (s->fd >= 0)
		close(s->fd);
	free(s->runs);
	free(s->buf);
	free(s->fan);
	free(s->fan64);
	free(s->dir);
	free(s);
}
