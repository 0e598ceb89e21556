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
#define MAX_RUNS 64u     /* then they are merged into one */
#define READ_IDS 2048u   /* ids a merge reads at a time from each run (64 KiB) */

struct run {
	int fd;
	uint64_t n;
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

static int compact(lmd_idspill *s);

static int spill(lmd_idspill *s)
{
	size_t n = sort_unique(s->buf, s->nbuf);
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

/*
 * Merging: every run (and, for foreach, the sorted buffer) is read back a
 * piece of READ_IDS ids at a time through a cursor; a heap of cursors
 * yields the ids in order, each distinct id once.  Nothing is mapped, so
 * memory is READ_IDS ids per run, whatever the runs hold.
 */
struct cursor {
	int fd;                 /* -1: the ids are in mem */
	const lmd_oid *mem;
	uint64_t n, next;       /* ids in the source; the next one to load */
	lmd_oid *own;           /* a run's piece buffer (READ_IDS) */
	const lmd_oid *b;       /* the piece loaded */
	size_t bn, bi;
};

/* Load the next piece of a run; 0 when it is used up. */
static int cursor_fill(lmd_idspill *s, struct cursor *cu)
{
	size_t want;
	ssize_t got;

	cu->bi = cu->bn = 0;
	if (cu->next == cu->n)
		return 0;
	if (cu->fd < 0) {
		/* in memory: no copy, the piece is the rest */
		cu->b = cu->mem + cu->next;
		cu->bn = (size_t)(cu->n - cu->next);
		cu->next = cu->n;
		return 0;
	}
	want = (size_t)LMD_MIN((uint64_t)READ_IDS, cu->n - cu->next);
	cu->b = cu->own;
	got = lmd_pread_full(cu->fd, cu->own, want * sizeof(lmd_oid), (off_t)(cu->next * sizeof(lmd_oid)));
	if (got < 0)
		return lmd_error_set((int)got, "cannot read a temporary file in '%s': %s", s->dir, lmd_strerror((int)got));
	if ((size_t)got != want * sizeof(lmd_oid))
		return lmd_error_set(-EIO, "a temporary file in '%s' is shorter than written", s->dir);
	cu->bn = want;
	cu->next += want;
	return 0;
}

static const lmd_oid *cursor_id(const struct cursor *cu)
{
	return &cu->b[cu->bi];
}

static bool cur_less(const struct cursor *cs, unsigned a, unsigned b)
{
	return memcmp(cursor_id(&cs[a]), cursor_id(&cs[b]), sizeof(lmd_oid)) < 0;
}

static void sift(const struct cursor *cs, unsigned *h, unsigned n, unsigned i)
{
	for (;;) {
		unsigned l = 2 * i + 1, m = i;
		if (l < n && cur_less(cs, h[l], h[m]))
			m = l;
		if (l + 1 < n && cur_less(cs, h[l + 1], h[m]))
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
 * per distinct id in order.  The runs stay as they are.
 */
static int merge(lmd_idspill *s, const lmd_oid *mem, size_t nmem, lmd_idspill_cb emit, void *payload)
{
	unsigned nc = s->nruns + (nmem ? 1 : 0), nh = 0, *h = NULL;
	struct cursor *cs = NULL;
	lmd_oid prev;
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
			if (!(cu->own = lmd_reallocarray(NULL, READ_IDS, sizeof(*cu->own)))) {
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
		sift(cs, h, nh, i);
	while (nh) {
		struct cursor *cu = &cs[h[0]];
		const lmd_oid *id = cursor_id(cu);
		if (!have_prev || memcmp(&prev, id, sizeof(*id)) != 0) {
			if ((r = emit(id, payload)) < 0)
				goto done;
			prev = *id;   /* a copy: the piece is reloaded below */
			have_prev = true;
		}
		if (++cu->bi == cu->bn && (r = cursor_fill(s, cu)) < 0)
			goto done;
		if (!cu->bn)
			h[0] = h[--nh];
		sift(cs, h, nh, 0);
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
	lmd_oid b[2048];
	size_t nb;
};

static int wflush(struct wbuf *w)
{
	int r = w->nb ? lmd_write_all(w->fd, w->b, w->nb * sizeof(w->b[0])) : 0;
	w->nb = 0;
	if (r < 0)
		return lmd_error_set(r, "cannot write a temporary file in '%s': %s", w->s->dir, lmd_strerror(r));
	return 0;
}

static int wput(const lmd_oid *id, void *payload)
{
	struct wbuf *w = payload;
	w->b[w->nb++] = *id;
	w->n++;
	return w->nb == sizeof(w->b) / sizeof(w->b[0]) ? wflush(w) : 0;
}

/* Replace every run by one merged run: *ret_fd, *ret_n ids. */
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
 * pieces stay bounded however many ids are added.
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
	if (r < 0 || !s->n)
		return r;
	if (s->n > SIZE_MAX / sizeof(lmd_oid))
		return -EOVERFLOW;
	s->map_len = (size_t)s->n * sizeof(lmd_oid);
	void *m = mmap(NULL, s->map_len, PROT_READ, MAP_PRIVATE, s->fd, 0);
	if (m == MAP_FAILED) {
		s->map_len = 0;
		return lmd_errno_path("cannot map a temporary file in", s->dir);
	}
	s->ids = m;
	return 0;
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

int lmd_idspill_foreach(lmd_idspill *s, lmd_idspill_cb cb, void *payload)
{
	int r;

	if (s->finished) {
		for (uint64_t i = 0; i < s->n; i++)
			if ((r = cb(&s->ids[i], payload)) < 0)
				return r;
		return 0;
	}
	s->nbuf = sort_unique(s->buf, s->nbuf);
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
