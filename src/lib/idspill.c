/* An external sorted set of object ids (see idspill.h). */
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
	const lmd_oid *map;
	uint64_t pos;
};

struct lmd_idspill {
	char *dir;
	lmd_oid *buf;
	size_t nbuf, cap;
	struct run *runs;
	unsigned nruns, aruns, written;
	/* after finish */
	bool finished;
	const lmd_oid *ids;      /* buf, or the mapped merged file */
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

/* Sort and drop duplicates in place; the new count. */
static size_t sort_unique(lmd_oid *v, size_t n)
{
	size_t w = 0;
	qsort(v, n, sizeof(*v), cmp_id);
	for (size_t i = 0; i < n; i++)
		if (w == 0 || memcmp(&v[w - 1], &v[i], sizeof(*v)) != 0)
			v[w++] = v[i];
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

int lmd_idspill_new(const char *tmpdir, size_t buf_ids, lmd_idspill **ret)
{
	lmd_idspill *s = lmd_calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->cap = buf_ids ? buf_ids : DEFAULT_BUF_IDS;
	s->dir = lmd_strdup(tmpdir);
	s->buf = lmd_reallocarray(NULL, s->cap, sizeof(*s->buf));
	if (!s->dir || !s->buf) {
		lmd_idspill_free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

static int spill(lmd_idspill *s)
{
	size_t n = sort_unique(s->buf, s->nbuf);
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
	if ((r = lmd_write_all(fd, s->buf, n * sizeof(*s->buf))) < 0) {
		close(fd);
		return lmd_error_set(r, "cannot write a temporary file in '%s': %s", s->dir, lmd_strerror(r));
	}
	s->runs[s->nruns++] = (struct run){ .fd = fd, .n = n };
	s->written++;
	s->nbuf = 0;
	return 0;
}

int lmd_idspill_add(lmd_idspill *s, const lmd_oid *id)
{
	int r;
	if (s->nbuf == s->cap) {
		/* Duplicates are common (history shares most chunks): drop them
		 * first, and write a run only when that frees too little. */
		s->nbuf = sort_unique(s->buf, s->nbuf);
		if (s->nbuf > s->cap / 2 && (r = spill(s)) < 0)
			return r;
	}
	s->buf[s->nbuf++] = *id;
	return 0;
}

/* Buffered writes of the merged file. */
struct wbuf {
	int fd;
	lmd_oid b[2048];
	size_t n;
	int err;
};

static void wput(struct wbuf *w, const lmd_oid *id)
{
	if (w->err)
		return;
	w->b[w->n++] = *id;
	if (w->n == sizeof(w->b) / sizeof(w->b[0])) {
		w->err = lmd_write_all(w->fd, w->b, sizeof(w->b));
		w->n = 0;
	}
}

static bool run_less(const lmd_idspill *s, unsigned a, unsigned b)
{
	return memcmp(&s->runs[a].map[s->runs[a].pos], &s->runs[b].map[s->runs[b].pos], sizeof(lmd_oid)) < 0;
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
	const lmd_oid *prev = NULL;
	int r = 0;

	for (unsigned i = 0; i < s->nruns; i++) {
		struct run *rn = &s->runs[i];
		void *m;
		if (!rn->n)
			continue;
		if (rn->n > SIZE_MAX / sizeof(lmd_oid))
			return -EOVERFLOW;
		m = mmap(NULL, (size_t)rn->n * sizeof(lmd_oid), PROT_READ, MAP_PRIVATE, rn->fd, 0);
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
		const lmd_oid *id = &rn->map[rn->pos];
		if (!prev || memcmp(prev, id, sizeof(*id)) != 0) {
			wput(w, id);
			s->n++;
		}
		prev = id;
		if (++rn->pos == rn->n)
			h[0] = h[--nh];
		sift(s, h, nh, 0);
	}
	if (!w->err && w->n)
		w->err = lmd_write_all(w->fd, w->b, w->n * sizeof(w->b[0]));
	if (w->err) {
		r = lmd_error_set(w->err, "cannot write a temporary file in '%s': %s", s->dir, lmd_strerror(w->err));
		goto done;
	}
	s->fd = w->fd;
	w->fd = -1;
	if (s->n) {
		void *m;
		if (s->n > SIZE_MAX / sizeof(lmd_oid)) {
			r = -EOVERFLOW;
			goto done;
		}
		s->map_len = (size_t)s->n * sizeof(lmd_oid);
		m = mmap(NULL, s->map_len, PROT_READ, MAP_PRIVATE, s->fd, 0);
		if (m == MAP_FAILED) {
			s->map_len = 0;
			r = lmd_errno_path("cannot map a temporary file in", s->dir);
			goto done;
		}
		s->ids = m;
	}
done:
	/* The runs are merged (or the merge failed): drop them either way. */
	for (unsigned i = 0; i < s->nruns; i++) {
		if (s->runs[i].map)
			munmap((void *)s->runs[i].map, (size_t)s->runs[i].n * sizeof(lmd_oid));
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
		s->n = sort_unique(s->buf, s->nbuf);
		s->ids = s->buf;
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
			while (i < s->n && ((uint32_t)s->ids[i].id[0] << 8 | s->ids[i].id[1]) < k)
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

bool lmd_idspill_has(const lmd_idspill *s, const lmd_oid *id)
{
	uint32_t k;
	uint64_t lo, hi;
	if (!s->finished || !s->n)
		return false;
	k = (uint32_t)id->id[0] << 8 | id->id[1];
	lo = s->fan ? s->fan[k] : s->fan64[k];
	hi = s->fan ? s->fan[k + 1] : s->fan64[k + 1];
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		int c = memcmp(&s->ids[mid], id, sizeof(*id));
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
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
			munmap((void *)s->runs[i].map, (size_t)s->runs[i].n * sizeof(lmd_oid));
		close(s->runs[i].fd);
	}
	if (s->ids && s->ids != s->buf)
		munmap((void *)s->ids, s->map_len);
	if (s->fd >= 0)
		close(s->fd);
	free(s->runs);
	free(s->buf);
	free(s->fan);
	free(s->fan64);
	free(s->dir);
	free(s);
}
