/*
 * Multi-pack indexes: one sorted table over the entries of many packs, so
 * that a lookup is one binary search rather than one per pack (a store of
 * a few TiB has thousands of packs).
 *
 * A multi-pack index ("layer", packs/<sha256>.midx) has the layout of a
 * pack index (pack.h: header, 256-entry fanout, 56-byte entries, SHA-256
 * trailer), with LMD_MIDX_MAGIC, the count of packs at offset 12, each
 * entry's pack given by its spare bytes 53-55 (an ordinal, little endian),
 * and the table of packs (id, size: LMD_MIDX_PACK bytes each, sorted by
 * id) between the entries and the trailer.  The file is named by its
 * trailer.  It is a cache: every pack keeps its own .idx, which stays the
 * truth (fsck, push); a layer that names a pack no longer there is not
 * used, and a damaged one can be deleted at any time.
 *
 * Packs not in any layer are searched one by one.  When a writer ends
 * with LMD_MIDX_MIN_PACKS or more of them (lmd__store_maintain), or seals
 * that many during a long write (lmd__store_layer_now, whose layer the
 * writer's own store uses at once), they are merged into a new layer
 * together with every layer at most twice the size of what is merged so
 * far (smallest first): layers grow geometrically, so there are
 * O(log packs) of them and each entry is rewritten O(log) times.
 * The new layer is renamed into place before the layers it replaces are
 * deleted; a reader that sees both uses the biggest and skips any layer
 * that overlaps one it already uses.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "oidset.h"
#include "store_int.h"

#define LMD_MIDX_MAGIC "LMDMIDX1"
#define LMD_MIDX_PACK 40u
#define LMD_MIDX_MAX_PACKS (1u << 24)

uint32_t lmd__midx_ordinal(const uint8_t *e)
{
	return (uint32_t)e[53] | (uint32_t)e[54] << 8 | (uint32_t)e[55] << 16;
}

const uint8_t *lmd__midx_pack(const struct lmd_midx *m, uint32_t i)
{
	return m->map + LMD_IDX_HDR + LMD_IDX_FANOUT + (size_t)m->count * LMD_IDX_ENTRY +
	       (size_t)i * LMD_MIDX_PACK;
}

void lmd__midx_unmap(struct lmd_midx *m)
{
	if (m->map)
		munmap((void *)m->map, m->size);
	free(m->gpack);
	memset(m, 0, sizeof(*m));
}

/* Map and check the structure (not the checksum: fsck does that). */
int lmd__midx_map(const char *path, const lmd_oid *name, struct lmd_midx *ret)
{
	struct stat st;
	uint8_t *map;
	uint32_t count, npacks;
	int fd;

	memset(ret, 0, sizeof(*ret));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int r = lmd_errno_path("cannot open multi-pack index", path);
		if (fd >= 0)
			close(fd);
		return r;
	}
	if ((uint64_t)st.st_size < LMD_IDX_HDR + LMD_IDX_FANOUT + 32 || (uint64_t)st.st_size > SIZE_MAX) {
		close(fd);
		return LMD_ECORRUPT;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return lmd_errno_path("cannot map multi-pack index", path);
	count = lmd_get_le32(map + 8);
	npacks = lmd_get_le32(map + 12);
	if (memcmp(map, LMD_MIDX_MAGIC, 8) != 0 || npacks == 0 || npacks > LMD_MIDX_MAX_PACKS ||
	    (uint64_t)st.st_size != LMD_IDX_HDR + LMD_IDX_FANOUT + (uint64_t)count * LMD_IDX_ENTRY +
					(uint64_t)npacks * LMD_MIDX_PACK + 32 ||
	    memcmp(map + (size_t)st.st_size - 32, name->id, 32) != 0 ||
	    !lmd_idx_fanout_ok(map + LMD_IDX_HDR, count))
		goto bad;
	ret->map = map;
	ret->size = (size_t)st.st_size;
	ret->count = count;
	ret->npacks = npacks;
	ret->id = *name;
	return 0;
bad:
	munmap(map, (size_t)st.st_size);
	return LMD_ECORRUPT;
}

int lmd__midx_verify(const struct lmd_midx *m)
{
	lmd_oid sum;
	int r = lmd_sha256_buf(m->map, m->size - 32, &sum);
	if (r < 0)
		return r;
	return memcmp(sum.id, m->map + m->size - 32, 32) ? LMD_ECORRUPT : 0;
}

/* ---- building a layer ---- */

/* One sorted run of entries: a pack's .idx or a layer. */
struct src {
	const uint8_t *ents;
	uint32_t count, pos;
	const uint32_t *ord;     /* a layer's ordinal -> new ordinal */
	uint32_t npacks;
	uint32_t one;            /* an .idx's new ordinal */
	const uint8_t *map;      /* an .idx's mapping, to unmap */
	size_t size;
};

static int ent_cmp(const uint8_t *a, const uint8_t *b)
{
	int c = memcmp(a, b, 32);
	return c ? c : (int)a[52] - (int)b[52];
}

/* A binary min-heap of source numbers by their current entry. */
struct heap {
	struct src *srcs;
	uint32_t *h, n;
};

static bool heap_less(const struct heap *hp, uint32_t a, uint32_t b)
{
	const struct src *x = &hp->srcs[a], *y = &hp->srcs[b];
	return ent_cmp(x->ents + (size_t)x->pos * LMD_IDX_ENTRY, y->ents + (size_t)y->pos * LMD_IDX_ENTRY) < 0;
}

static void heap_down(struct heap *hp, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, m = i;
		if (l < hp->n && heap_less(hp, hp->h[l], hp->h[m]))
			m = l;
		if (l + 1 < hp->n && heap_less(hp, hp->h[l + 1], hp->h[m]))
			m = l + 1;
		if (m == i)
			return;
		uint32_t t = hp->h[i];
		hp->h[i] = hp->h[m];
		hp->h[m] = t;
		i = m;
	}
}

static void heap_init(struct heap *hp, struct src *srcs, uint32_t nsrcs, uint32_t *space)
{
	hp->srcs = srcs;
	hp->h = space;
	hp->n = 0;
	for (uint32_t i = 0; i < nsrcs; i++) {
		srcs[i].pos = 0;
		if (srcs[i].count)
			hp->h[hp->n++] = i;
	}
	for (uint32_t i = hp->n / 2; i-- > 0;)
		heap_down(hp, i);
}

/* The next entry in order, with its new ordinal; NULL at the end.
 * Entries equal in id and type to the previous one are skipped. */
static const uint8_t *heap_next(struct heap *hp, const uint8_t *prev, uint32_t *ret_ord)
{
	while (hp->n) {
		struct src *s = &hp->srcs[hp->h[0]];
		const uint8_t *e = s->ents + (size_t)s->pos * LMD_IDX_ENTRY;
		uint32_t o = s->ord ? lmd__midx_ordinal(e) : 0;
		bool ok = !s->ord || o < s->npacks;
		if (++s->pos == s->count)
			hp->h[0] = hp->h[--hp->n];
		heap_down(hp, 0);
		if (!ok || (prev && ent_cmp(prev, e) == 0))
			continue;
		*ret_ord = s->ord ? s->ord[o] : s->one;
		return e;
	}
	return NULL;
}

struct pk { lmd_oid id; uint64_t size; };

static int pk_cmp(const void *a, const void *b)
{
	return lmd_oid_cmp(&((const struct pk *)a)->id, &((const struct pk *)b)->id);
}

static uint32_t pk_find(const struct pk *t, uint32_t n, const lmd_oid *id)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (lmd_oid_cmp(&t[mid].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Buffered, hashed writes to the new layer. */
struct out {
	int fd;
	lmd_sha256 *h;
	uint8_t buf[1 << 16];
	size_t len;
	int err;
};

static void out_put(struct out *o, const void *p, size_t n)
{
	const uint8_t *b = p;
	if (o->err)
		return;
	lmd_sha256_update(o->h, b, n);
	while (n) {
		size_t k = LMD_MIN(n, sizeof(o->buf) - o->len);
		memcpy(o->buf + o->len, b, k);
		o->len += k;
		b += k;
		n -= k;
		if (o->len == sizeof(o->buf)) {
			if ((o->err = lmd_write_all(o->fd, o->buf, o->len)) < 0)
				return;
			o->len = 0;
		}
	}
}

/*
 * Write a layer over the .idx of `packs` (mapped here) and the layers
 * `layers`, then delete those layers.  A pack whose index cannot be read
 * is left out (searched on its own; fsck reports it).
 */
static int build(lmd_store *s, const lmd_oid *packs, uint32_t npacks, struct lmd_midx *layers, uint32_t nlayers,
		 lmd_oid *ret_id)
{
	uint32_t nsrcs = npacks + nlayers, ntab = 0, count = 0, fan[256] = { 0 };
	struct src *srcs = lmd_calloc(nsrcs + 1, sizeof(*srcs));
	uint32_t *heap_space = lmd_calloc(nsrcs + 1, sizeof(*heap_space));
	struct pk *tab = NULL;
	struct out *o = NULL;
	char *tmp = NULL, *path = NULL, hex[LMD_OID_HEXSZ + 1];
	uint64_t total = 0;
	struct heap hp;
	lmd_oid sum;
	int r = 0;

	if (!srcs || !heap_space) {
		r = -ENOMEM;
		goto done;
	}
	for (uint32_t i = 0; i < nlayers; i++)
		total += layers[i].npacks;
	total += npacks;
	if (total > LMD_MIDX_MAX_PACKS) {
		r = 0;   /* too many packs for one layer: leave things as they are */
		goto done;
	}
	tab = lmd_calloc(total + 1, sizeof(*tab));
	if (!tab) {
		r = -ENOMEM;
		goto done;
	}
	/* The table of packs, sorted; then each source's ordinals into it. */
	for (uint32_t i = 0; i < nlayers; i++)
		for (uint32_t k = 0; k < layers[i].npacks; k++) {
			const uint8_t *p = lmd__midx_pack(&layers[i], k);
			memcpy(tab[ntab].id.id, p, 32);
			tab[ntab++].size = lmd_get_le64(p + 32);
		}
	for (uint32_t i = 0; i < npacks; i++) {
		char *ip = lmd_store_pack_path(s, &packs[i], "idx"), *pp = lmd_store_pack_path(s, &packs[i], "pack");
		struct stat st;
		struct src *sr = &srcs[nlayers + i];
		int fd = ip ? open(ip, O_RDONLY | O_CLOEXEC) : -1;
		void *map = MAP_FAILED;
		size_t isz = 0;
		if (fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_size <= SIZE_MAX && st.st_size > 0) {
			isz = (size_t)st.st_size;
			map = mmap(NULL, isz, PROT_READ, MAP_SHARED, fd, 0);
		}
		if (fd >= 0)
			close(fd);
		if (map == MAP_FAILED || lmd_idx_validate(map, isz, &packs[i], false) < 0 || !pp ||
		    stat(pp, &st) < 0) {
			if (map != MAP_FAILED)
				munmap(map, isz);
			free(ip);
			free(pp);
			sr->count = 0;
			sr->one = UINT32_MAX;
			continue;
		}
		sr->map = map;
		sr->size = isz;
		sr->ents = (const uint8_t *)map + LMD_IDX_HDR + LMD_IDX_FANOUT;
		sr->count = lmd_get_le32((uint8_t *)map + 8);
		tab[ntab].id = packs[i];
		tab[ntab++].size = (uint64_t)st.st_size;
		free(ip);
		free(pp);
	}
	if (ntab == 0)
		goto done;
	qsort(tab, ntab, sizeof(*tab), pk_cmp);
	for (uint32_t i = 0; i < ntab; i++)
		if (i && !lmd_oid_cmp(&tab[i - 1].id, &tab[i].id)) {
			r = 0;   /* a pack in two sources: the layers overlap, keep them */
			goto done;
		}
	for (uint32_t i = 0; i < npacks; i++)
		if (srcs[nlayers + i].map)
			srcs[nlayers + i].one = pk_find(tab, ntab, &packs[i]);
	for (uint32_t i = 0; i < nlayers; i++) {
		uint32_t *ord = lmd_calloc(layers[i].npacks, sizeof(*ord));
		if (!ord) {
			r = -ENOMEM;
			goto done;
		}
		for (uint32_t k = 0; k < layers[i].npacks; k++) {
			lmd_oid id;
			memcpy(id.id, lmd__midx_pack(&layers[i], k), 32);
			ord[k] = pk_find(tab, ntab, &id);
		}
		srcs[i].ord = ord;
		srcs[i].npacks = layers[i].npacks;
		srcs[i].ents = layers[i].map + LMD_IDX_HDR + LMD_IDX_FANOUT;
		srcs[i].count = layers[i].count;
	}
	/* Pass 1: count (after dropping duplicates) for the fanout. */
	{
		const uint8_t *e, *prev = NULL;
		uint32_t ord;
		uint64_t n = 0;
		heap_init(&hp, srcs, nsrcs, heap_space);
		while ((e = heap_next(&hp, prev, &ord))) {
			fan[e[0]]++;
			n++;
			prev = e;
		}
		if (n > UINT32_MAX) {
			r = 0;
			goto done;
		}
		count = (uint32_t)n;
		for (int i = 1; i < 256; i++)
			fan[i] += fan[i - 1];
	}
	/* Pass 2: write. */
	o = lmd_calloc(1, sizeof(*o));
	path = lmd_path_join(s->packdir, "new.midx");
	if (!o || !path) {
		r = -ENOMEM;
		goto done;
	}
	o->fd = -1;
	if ((r = lmd_sha256_new(&o->h)) < 0)
		goto done;
	if ((o->fd = lmd_tmpfile_near(path, 0444, &tmp)) < 0) {
		r = o->fd;
		goto done;
	}
	lmd_sha256_init(o->h);
	{
		uint8_t hdr[LMD_IDX_HDR] = { 0 }, f[LMD_IDX_FANOUT], e2[LMD_IDX_ENTRY], pe[LMD_MIDX_PACK];
		const uint8_t *e, *prev = NULL;
		uint32_t ord;
		memcpy(hdr, LMD_MIDX_MAGIC, 8);
		lmd_put_le32(hdr + 8, count);
		lmd_put_le32(hdr + 12, ntab);
		out_put(o, hdr, sizeof(hdr));
		for (int i = 0; i < 256; i++)
			lmd_put_le32(f + 4 * i, fan[i]);
		out_put(o, f, sizeof(f));
		heap_init(&hp, srcs, nsrcs, heap_space);
		while ((e = heap_next(&hp, prev, &ord))) {
			memcpy(e2, e, LMD_IDX_ENTRY);
			e2[53] = (uint8_t)ord;
			e2[54] = (uint8_t)(ord >> 8);
			e2[55] = (uint8_t)(ord >> 16);
			out_put(o, e2, sizeof(e2));
			prev = e;
		}
		for (uint32_t i = 0; i < ntab; i++) {
			memcpy(pe, tab[i].id.id, 32);
			lmd_put_le64(pe + 32, tab[i].size);
			out_put(o, pe, sizeof(pe));
		}
	}
	if (!o->err)
		lmd_sha256_final(o->h, &sum);
	if (!o->err)
		o->err = lmd_write_all(o->fd, o->buf, o->len);
	if (!o->err)
		o->err = lmd_write_all(o->fd, sum.id, 32);
	if (o->err || fsync(o->fd) < 0) {
		r = o->err ? o->err : -errno;
		goto done;
	}
	close(o->fd);
	o->fd = -1;
	free(path);
	lmd_oid_fmt(hex, &sum);
	path = lmd_asprintf("%s/%s.midx", s->packdir, hex);
	if (!path) {
		r = -ENOMEM;
		goto done;
	}
	if (rename(tmp, path) < 0) {
		r = lmd_errno_path("cannot rename multi-pack index into place", path);
		goto done;
	}
	free(tmp);
	tmp = NULL;
	*ret_id = sum;
	lmd_fsync_dir(s->packdir);
	/* Only now may the layers it replaces go. */
	for (uint32_t i = 0; i < nlayers; i++) {
		char *lp;
		lmd_oid_fmt(hex, &layers[i].id);
		if (lmd_oid_cmp(&layers[i].id, &sum) && (lp = lmd_asprintf("%s/%s.midx", s->packdir, hex))) {
			unlink(lp);
			free(lp);
		}
	}
done:
	if (o) {
		if (o->fd >= 0)
			close(o->fd);
		lmd_sha256_free(o->h);
		free(o);
	}
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(path);
	if (srcs)
		for (uint32_t i = 0; i < nsrcs; i++) {
			free((void *)srcs[i].ord);
			if (srcs[i].map)
				munmap((void *)srcs[i].map, srcs[i].size);
		}
	free(srcs);
	free(heap_space);
	free(tab);
	return r;
}

static int cmp_count(const void *a, const void *b)
{
	const struct lmd_midx *x = a, *y = b;
	return x->count < y->count ? -1 : x->count > y->count;
}

static int cmp_count_desc(const void *a, const void *b)
{
	return -cmp_count(a, b);
}

void lmd__midx_scan_release(struct lmd_midx_scan *sc)
{
	free(sc->packs);
	lmd_oidset_release(&sc->present);
	lmd_oidset_release(&sc->covered);
	for (uint32_t i = 0; i < sc->nlayers; i++)
		lmd__midx_unmap(&sc->layers[i]);
	free(sc->layers);
	free(sc->unused);
	memset(sc, 0, sizeof(*sc));
}

static int grow(void **arr, uint32_t n, size_t each)
{
	if (n >= 16 && (n & (n - 1)) != 0)
		return 0;
	void *p = lmd_reallocarray(*arr, n < 16 ? 16 : (size_t)n * 2, each);
	if (!p)
		return -ENOMEM;
	*arr = p;
	return 0;
}

/*
 * What is on disk now: the packs (by their .idx), the usable layers
 * (biggest first), and the layer files not to use.  A layer that names a
 * missing pack, or a pack a bigger layer has, is not used.
 */
int lmd__midx_scan(const char *packdir, struct lmd_midx_scan *sc)
{
	DIR *d = opendir(packdir);
	struct dirent *de;
	lmd_oid *names = NULL;
	uint32_t nnames = 0, n = 0;
	int r = 0;

	memset(sc, 0, sizeof(*sc));
	if (!d)
		return lmd_errno_path("cannot open folder", packdir);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		lmd_oid id;
		if (len == LMD_OID_HEXSZ + 4 && !strcmp(de->d_name + LMD_OID_HEXSZ, ".idx") &&
		    lmd_oid_parse(&id, de->d_name, LMD_OID_HEXSZ) == 0) {
			if ((r = grow((void **)&sc->packs, sc->npacks, sizeof(lmd_oid))) < 0 ||
			    (r = lmd_oidset_add(&sc->present, &id)) < 0)
				break;
			sc->packs[sc->npacks++] = id;
		} else if (len == LMD_OID_HEXSZ + 5 && !strcmp(de->d_name + LMD_OID_HEXSZ, ".midx") &&
			   lmd_oid_parse(&id, de->d_name, LMD_OID_HEXSZ) == 0) {
			if ((r = grow((void **)&names, nnames, sizeof(lmd_oid))) < 0)
				break;
			names[nnames++] = id;
		}
	}
	closedir(d);
	if (r < 0)
		goto done;
	sc->layers = lmd_calloc(nnames + 1, sizeof(*sc->layers));
	sc->unused = lmd_calloc(nnames + 1, sizeof(*sc->unused));
	if (!sc->layers || !sc->unused) {
		r = -ENOMEM;
		goto done;
	}
	for (uint32_t i = 0; i < nnames; i++) {
		char hex[LMD_OID_HEXSZ + 1], *p;
		lmd_oid_fmt(hex, &names[i]);
		p = lmd_asprintf("%s/%s.midx", packdir, hex);
		if (!p) {
			r = -ENOMEM;
			goto done;
		}
		if (lmd__midx_map(p, &names[i], &sc->layers[sc->nlayers]) == 0)
			sc->nlayers++;
		else
			sc->unused[sc->nunused++] = names[i];
		lmd_error_clear();
		free(p);
	}
	qsort(sc->layers, sc->nlayers, sizeof(*sc->layers), cmp_count_desc);
	for (uint32_t i = 0; i < sc->nlayers; i++) {
		struct lmd_midx m = sc->layers[i];
		bool ok = true;
		for (uint32_t k = 0; k < m.npacks && ok; k++) {
			lmd_oid id;
			memcpy(id.id, lmd__midx_pack(&m, k), 32);
			ok = lmd_oidset_has(&sc->present, &id) && !lmd_oidset_has(&sc->covered, &id);
		}
		if (!ok) {
			sc->unused[sc->nunused++] = m.id;
			lmd__midx_unmap(&m);
			continue;
		}
		for (uint32_t k = 0; k < m.npacks; k++) {
			lmd_oid id;
			memcpy(id.id, lmd__midx_pack(&m, k), 32);
			if ((r = lmd_oidset_add(&sc->covered, &id)) < 0) {
				lmd__midx_unmap(&m);
				goto done;
			}
		}
		sc->layers[n++] = m;
	}
	sc->nlayers = n;
done:
	if (r < 0) {
		sc->nlayers = n;
		lmd__midx_scan_release(sc);
	}
	free(names);
	return r;
}

/* Entries of a pack's index, from its header (0 if unreadable). */
static uint64_t idx_count(lmd_store *s, const lmd_oid *pid)
{
	char *p = lmd_store_pack_path(s, pid, "idx");
	uint8_t hdr[12];
	int fd = p ? open(p, O_RDONLY | O_CLOEXEC) : -1;
	uint64_t n = 0;
	if (fd >= 0 && lmd_pread_full(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr))
		n = lmd_get_le32(hdr + 8);
	if (fd >= 0)
		close(fd);
	free(p);
	return n;
}

static int maintain(lmd_store *s, lmd_oid *ret_built, bool *ret_any)
{
	struct lmd_midx_scan sc;
	lmd_oid *indiv = NULL, built = { { 0 } };
	uint32_t nindiv = 0, nsel = 0;
	int r;

	if (!s->midx_dirty && s->nindiv < LMD_MIDX_MIN_PACKS)
		return 0;
	if ((r = lmd__midx_scan(s->packdir, &sc)) < 0)
		return r;
	indiv = lmd_calloc(sc.npacks + 1, sizeof(*indiv));
	if (!indiv) {
		r = -ENOMEM;
		goto done;
	}
	for (uint32_t i = 0; i < sc.npacks; i++)
		if (!lmd_oidset_has(&sc.covered, &sc.packs[i]))
			indiv[nindiv++] = sc.packs[i];
	if (nindiv >= LMD_MIDX_MIN_PACKS) {
		/* The smallest layers join while each is at most twice what is
		 * merged so far: sizes then double from one layer to the next. */
		uint64_t acc = 0;
		for (uint32_t i = 0; i < nindiv; i++)
			acc += idx_count(s, &indiv[i]);
		while (nsel < sc.nlayers && sc.layers[sc.nlayers - 1 - nsel].count <= 2 * acc) {
			acc += sc.layers[sc.nlayers - 1 - nsel].count;
			nsel++;
		}
		if ((r = build(s, indiv, nindiv, sc.layers + sc.nlayers - nsel, nsel, &built)) < 0)
			goto done;
		*ret_any = lmd_oid_cmp(&built, &(lmd_oid){ { 0 } }) != 0;
		*ret_built = built;
	}
	for (uint32_t i = 0; i < sc.nunused; i++) {
		char hex[LMD_OID_HEXSZ + 1], *p;
		/* The same content as a damaged file it just replaced. */
		if (!lmd_oid_cmp(&sc.unused[i], &built))
			continue;
		lmd_oid_fmt(hex, &sc.unused[i]);
		if ((p = lmd_asprintf("%s/%s.midx", s->packdir, hex))) {
			unlink(p);
			free(p);
		}
	}
	s->midx_dirty = false;
	r = 0;
done:
	free(indiv);
	lmd__midx_scan_release(&sc);
	return r;
}

int lmd__store_maintain(lmd_store *s)
{
	lmd_oid built;
	bool any = false;
	return maintain(s, &built, &any);
}

/* Is pack id in layer m's table of packs (sorted by id)? */
static bool layer_has_pack(const struct lmd_midx *m, const lmd_oid *id)
{
	uint32_t lo = 0, hi = m->npacks;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(lmd__midx_pack(m, mid), id->id, 32);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * Use the layer just written (and stop using the layers it replaced):
 * its packs are then found with one binary search, not one each.
 */
static int adopt_built(lmd_store *s, const lmd_oid *id)
{
	char hex[LMD_OID_HEXSZ + 1], *path;
	struct lmd_midx m;
	struct pk *tab = NULL;
	struct lmd_midx *nm;
	uint32_t n, w;
	int r;

	lmd_oid_fmt(hex, id);
	if (!(path = lmd_asprintf("%s/%s.midx", s->packdir, hex)))
		return -ENOMEM;
	r = lmd__midx_map(path, id, &m);
	free(path);
	if (r < 0)
		return r;
	/* Each of its packs is a pack of this store: its number. */
	pthread_rwlock_rdlock(&s->lock);
	n = s->npacks;
	if ((tab = lmd_calloc(n + 1, sizeof(*tab))))
		for (uint32_t i = 0; i < n; i++) {
			tab[i].id = s->packs[i].id;
			tab[i].size = i;
		}
	pthread_rwlock_unlock(&s->lock);
	if (!tab || !(m.gpack = lmd_calloc(m.npacks, sizeof(*m.gpack)))) {
		r = -ENOMEM;
		goto fail;
	}
	qsort(tab, n, sizeof(*tab), pk_cmp);
	for (uint32_t k = 0; k < m.npacks; k++) {
		lmd_oid pid;
		uint32_t at;
		memcpy(pid.id, lmd__midx_pack(&m, k), 32);
		at = pk_find(tab, n, &pid);
		if (at == n || lmd_oid_cmp(&tab[at].id, &pid)) {
			r = LMD_EMISSING;   /* a pack this store has not loaded: leave things be */
			goto fail;
		}
		m.gpack[k] = (uint32_t)tab[at].size;
	}
	free(tab);
	tab = NULL;

	pthread_rwlock_wrlock(&s->lock);
	if (!(nm = lmd_reallocarray(s->midx, s->nmidx + 1, sizeof(*nm)))) {
		pthread_rwlock_unlock(&s->lock);
		r = -ENOMEM;
		goto fail;
	}
	s->midx = nm;
	/* The layers merged into it go (layers never share a pack)... */
	for (uint32_t i = w = 0; i < s->nmidx; i++) {
		lmd_oid first;
		memcpy(first.id, lmd__midx_pack(&s->midx[i], 0), 32);
		if (layer_has_pack(&m, &first))
			lmd__midx_unmap(&s->midx[i]);
		else
			s->midx[w++] = s->midx[i];
	}
	/* ...it joins, biggest first... */
	for (s->nmidx = w; w > 0 && s->midx[w - 1].count < m.count; w--)
		s->midx[w] = s->midx[w - 1];
	s->midx[w] = m;
	s->nmidx++;
	/* ...and its packs are no longer searched one by one. */
	for (uint32_t k = 0; k < m.npacks; k++)
		s->packs[m.gpack[k]].covered = true;
	for (uint32_t i = w = 0; i < s->nindiv; i++)
		if (!s->packs[s->indiv[i]].covered)
			s->indiv[w++] = s->indiv[i];
	s->nindiv = w;
	pthread_rwlock_unlock(&s->lock);
	return 0;
fail:
	free(tab);
	lmd__midx_unmap(&m);
	return r;
}

void lmd__store_layer_now(lmd_store *s)
{
	lmd_oid built;
	bool any = false;
	if (s->midx_dirty || !lmd__store_wants_layer(s))
		return;
	if (maintain(s, &built, &any) < 0 || (any && adopt_built(s, &built) < 0))
		lmd_error_clear();   /* a cache: only lookups stay slower */
}

bool lmd__store_wants_layer(lmd_store *s)
{
	bool want;
	pthread_rwlock_rdlock(&s->lock);
	want = s->nindiv >= LMD_MIDX_MIN_PACKS;
	pthread_rwlock_unlock(&s->lock);
	return want;
}

void lmd__store_packs_removed(lmd_store *s)
{
	s->midx_dirty = true;
}

int lmd__store_check_midx(lmd_store *s, bool remove_bad, lmd_midx_bad_cb cb, void *payload)
{
	int bad = 0;
	for (uint32_t i = 0; i < s->nmidx; i++) {
		char hex[LMD_OID_HEXSZ + 1], *path;
		int r = lmd__midx_verify(&s->midx[i]);
		if (r == -ENOMEM)
			return r;
		if (r == 0)
			continue;
		bad++;
		lmd_oid_fmt(hex, &s->midx[i].id);
		path = lmd_asprintf("%s/%s.midx", s->packdir, hex);
		if (!path)
			return -ENOMEM;
		/* A cache: deleting it loses nothing (the next writer rebuilds it). */
		if (remove_bad && unlink(path) == 0)
			cb(path, true, payload);
		else
			cb(path, false, payload);
		free(path);
	}
	return bad;
}
