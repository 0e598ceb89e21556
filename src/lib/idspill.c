/* An external sorted set of object ids, or of records keyed by one (see idspill.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "idspill.h"
#include "util.h"

#define DEFAULT_BUF_IDS ((size_t)256 << 10)
#define FAN 65536u

struct run {
	int fd;
	uint64_t n;
	const uint8_t *map;
	uint64_t pos;
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
	return memcmp(a, b, sizeof(lmd_oid));
}

/* Sort by id and keep the first record of each id, in place; the new count. */
static size_t sort_unique(uint8_t *v, size_t n, size_t rsz)
{
	size_t w = 0;
	qsort(v, n, rsz, cmp_id);
	for (size_t i = 0; i < n; i++)
		if (w == 0 || memcmp(v + (w - 1) * rsz, v + i * rsz, sizeof(lmd_oid)) != 0) {
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
	if (rec_size < sizeof(lmd_oid) || rec_size > 4096)
		return -EINVAL;
	if (!(s = lmd_calloc(1, sizeof(*s))))
		return -ENOMEM;
	s->fd = -1;
	s->rsz = rec_size;
	s->cap = buf_recs ? buf_recs : DEFAULT_BUF_IDS * sizeof(lmd_oid) / rec_size;
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
	return lmd_idspill_new_rec(tmpdir, buf_ids, sizeof(lmd_oid), ret);
}

static int spill(lmd_idspill *s)
{
	size_t n = sort_unique(s->buf, s->nbuf, s->rsz);
	int fd, r;

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
	if (s->rsz != sizeof(*id))
		return -EINVAL;
	return lmd_idspill_add_rec(s, id);
}

/* Buffered writes of the merged file. */
struct wbuf {
	int fd;
	uint8_t b[64 << 10];
	size_t n;
	int err;
};

static void wput(struct wbuf *w, const uint8_t *rec, size_t rsz)
{
	if (w->err)
		return;
	if (w->n + rsz > sizeof(w->b)) {
		w->err = lmd_write_all(w->fd, w->b, w->n);
		w->n = 0;
	}
	memcpy(w->b + w->n, rec, rsz);
	w->n += rsz;
}

static const uint8_t *run_cur(const lmd_idspill *s, unsigned i)
{
	return s->runs[i].map + s->runs[i].pos * s->rsz;
}

static bool run_less(const lmd_idspill *s, unsigned a, unsigned b)
{
	return memcmp(run_cur(s, a), run_cur(s, b), sizeof(lmd_oid)) < 0;
}

static void sift(const lmd_idspill *s, unsigned *h, unsigned n, unsigned i)
{
	for (;;) {
		unsigned l = 2 * i + 1, m = i;
		if (l < n && run_less(s, h[l], h[m]))
			m = l;
		if (l + 1 < n && run_less(s, h[l + 1], h[m]))
			m = l + 1;
		if (m == i)
			return;
		unsigned t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static int merge_runs(lmd_idspill *s)
{
	struct wbuf *w = NULL;
	unsigned *h = NULL, nh = 0;
	const uint8_t *prev = NULL;
	int r = 0;

	for (unsigned i = 0; i < s->nruns; i++) {
		struct run *rn = &s->runs[i];
		void *m;
		if (!rn->n)
			continue;
		if (rn->n > SIZE_MAX / s->rsz)
			return -EOVERFLOW;
		m = mmap(NULL, (size_t)rn->n * s->rsz, PROT_READ, MAP_PRIVATE, rn->fd, 0);
		if (m == MAP_FAILED)
			return lmd_errno_path("cannot map a temporary file in", s->dir);
		rn->map = m;
	}
	w = lmd_calloc(1, sizeof(*w));
	h = lmd_calloc(s->nruns + 1, sizeof(*h));
	if (!w || !h) {
		r = -ENOMEM;
		goto done;
	}
	if ((w->fd = anon_file(s)) < 0) {
		r = w->fd;
		goto done;
	}
	for (unsigned i = 0; i < s->nruns; i++)
		if (s->runs[i].n)
			h[nh++] = i;
	for (unsigned i = nh / 2; i-- > 0;)
		sift(s, h, nh, i);
	s->n = 0;
	while (nh) {
		struct run *rn = &s->runs[h[0]];
		const uint8_t *rec = run_cur(s, h[0]);
		if (!prev || memcmp(prev, rec, sizeof(lmd_oid)) != 0) {
			wput(w, rec, s->rsz);
			s->n++;
		}
		prev = rec;
		if (++rn->pos == rn->n)
			h[0] = h[--nh];
		sift(s, h, nh, 0);
	}
	if (!w->err && w->n)
		w->err = lmd_write_all(w->fd, w->b, w->n);
	if (w->err) {
		r = lmd_error_set(w->err, "cannot write a temporary file in '%s': %s", s->dir, lmd_strerror(w->err));
		goto done;
	}
	s->fd = w->fd;
	w->fd = -1;
	if (s->n) {
		void *m;
		if (s->n > SIZE_MAX / s->rsz) {
			r = -EOVERFLOW;
			goto done;
		}
		s->map_len = (size_t)s->n * s->rsz;
		m = mmap(NULL, s->map_len, PROT_READ, MAP_PRIVATE, s->fd, 0);
		if (m == MAP_FAILED) {
			s->map_len = 0;
			r = lmd_errno_path("cannot map a temporary file in", s->dir);
			goto done;
		}
		s->recs = m;
	}
done:
	/* The runs are merged (or the merge failed): drop them either way. */
	for (unsigned i = 0; i < s->nruns; i++) {
		if (s->runs[i].map)
			munmap((void *)s->runs[i].map, (size_t)s->runs[i].n * s->rsz);
		close(s->runs[i].fd);
	}
	s->nruns = 0;
	if (w && w->fd >= 0)
		close(w->fd);
	free(w);
	free(h);
	return r;
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
		int c = memcmp(rec, id, sizeof(*id));
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
	for (unsigned i = 0; i < s->nruns; i++) {
		if (s->runs[i].map)
			munmap((void *)s->runs[i].map, (size_t)s->runs[i].n * s->rsz);
		close(s->runs[i].fd);
	}
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
