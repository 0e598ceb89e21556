/*
 * What a remote holds, without asking about single objects: one listing
 * of packs/ names its complete packs (those with an index), and their
 * index files, downloaded once and cached under
 * .lmdata/state/remote-NAME/idx/, locate every object.  Packs never change
 * once written (their name is their hash), so a cached index stays valid
 * for as long as the listing shows its pack.  Index files are checked
 * (sizes, fanout, trailer hash, pack id) before they are cached; the
 * cached files are mapped, not read into memory (file pages the kernel can
 * drop: a remote of a few TiB has GiBs of indexes), and checked again for
 * their structure only, like the store's own indexes.  Downloads stream
 * into temp files in the cache folder, checked there before they are
 * renamed into place: what is in memory does not depend on their size.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "idspill.h"
#include "pack.h"
#include "sync_int.h"

#define MAX_IDX_BYTES ((uint64_t)LMD_IDX_HDR + LMD_IDX_FANOUT + (uint64_t)(64u << 20) * LMD_IDX_ENTRY + 32)

static int parse_pack_key(const char *key, const char *ext, lmd_oid *ret)
{
	size_t pl = strlen(LMD_REMOTE_PACK_PREFIX), el = strlen(ext);
	if (strncmp(key, LMD_REMOTE_PACK_PREFIX, pl) != 0 || strlen(key) != pl + LMD_OID_HEXSZ + el ||
	    strcmp(key + pl + LMD_OID_HEXSZ, ext) != 0)
		return -1;
	return lmd_oid_parse(ret, key + pl, LMD_OID_HEXSZ) < 0 ? -1 : 0;
}

struct list_ctx {
	lmd_ridx *ri;
	lmd_oid *idx;
	size_t nidx, aidx;
	lmd_oid *packs;
	uint64_t *sizes;
	size_t npacks, apacks, asizes;
};

static int grow(void **v, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 64;
	void *nv = lmd_reallocarray(*v, c, sz);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = c;
	return 0;
}

static int list_cb(const char *key, uint64_t size, void *payload)
{
	struct list_ctx *c = payload;
	lmd_oid id;
	if (parse_pack_key(key, ".idx", &id) == 0) {
		if (grow((void **)&c->idx, &c->aidx, c->nidx, sizeof(*c->idx)) < 0)
			return -ENOMEM;
		c->idx[c->nidx++] = id;
	} else if (parse_pack_key(key, ".pack", &id) == 0) {
		if (grow((void **)&c->packs, &c->apacks, c->npacks, sizeof(*c->packs)) < 0 ||
		    grow((void **)&c->sizes, &c->asizes, c->npacks, sizeof(*c->sizes)) < 0)
			return -ENOMEM;
		c->packs[c->npacks] = id;
		c->sizes[c->npacks++] = size;
	}
	return 0;
}

static int cmp_oid(const void *a, const void *b)
{
	return lmd_oid_cmp(a, b);
}

int lmd__ridx_list(lmd_backend *b, lmd_ridx *ri)
{
	struct list_ctx c = { .ri = ri };
	int rc;

	ri->requests++;
	rc = lmd_backend_list(b, LMD_REMOTE_PACK_PREFIX, list_cb, &c);
	if (rc < 0)
		goto done;
	if (c.nidx)
		qsort(c.idx, c.nidx, sizeof(*c.idx), cmp_oid);
	ri->packs = lmd_calloc(c.nidx ? c.nidx : 1, sizeof(*ri->packs));
	ri->partial = lmd_calloc(c.npacks ? c.npacks : 1, sizeof(*ri->partial));
	ri->partial_size = lmd_calloc(c.npacks ? c.npacks : 1, sizeof(*ri->partial_size));
	if (!ri->packs || !ri->partial || !ri->partial_size) {
		rc = -ENOMEM;
		goto done;
	}
	/* A complete pack has both keys; a .pack alone is an interrupted push. */
	for (size_t i = 0; i < c.npacks; i++) {
		if (c.nidx && bsearch(&c.packs[i], c.idx, c.nidx, sizeof(*c.idx), cmp_oid)) {
			ri->packs[ri->n].id = c.packs[i];
			ri->packs[ri->n++].pack_size = c.sizes[i];
		} else {
			ri->partial[ri->npartial] = c.packs[i];
			ri->partial_size[ri->npartial++] = c.sizes[i];
		}
	}
	if (ri->n)
		qsort(ri->packs, ri->n, sizeof(*ri->packs), cmp_oid); /* id is the first member */
	rc = 0;
done:
	free(c.idx);
	free(c.packs);
	free(c.sizes);
	return rc;
}

bool lmd__ridx_has_pack(const lmd_ridx *ri, const lmd_oid *pack_id)
{
	return ri->n && bsearch(pack_id, ri->packs, ri->n, sizeof(*ri->packs), cmp_oid) != NULL;
}

int lmd__idx_check(const uint8_t *p, size_t n, const lmd_oid *pack_id)
{
	return lmd_idx_validate(p, n, pack_id, true);
}

/* ---- loading ---- */

static void idx_release(lmd_ridx_pack *p)
{
	if (p->idx && p->mapped)
		munmap(p->idx, p->idx_len);
	else
		free(p->idx);
	p->idx = NULL;
	p->mapped = false;
}

/* Map a cached index; 0 when it is there and well formed. */
static int map_cached(const char *path, lmd_ridx_pack *p)
{
	struct stat st;
	void *map;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || (uint64_t)st.st_size > MAX_IDX_BYTES) {
		close(fd);
		return LMD_ECORRUPT;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -errno;
	if (lmd_idx_validate(map, (size_t)st.st_size, &p->id, false) < 0) {
		munmap(map, (size_t)st.st_size);
		return LMD_ECORRUPT;
	}
	p->idx = map;
	p->idx_len = (size_t)st.st_size;
	p->count = lmd_get_le32(p->idx + 8);
	p->mapped = true;
	return 0;
}

/* Move the packs whose index is damaged to the partial ones (lmd__ridx_list
 * sized that array for every listed pack), keeping ri->packs sorted. */
static int set_aside_damaged(lmd_ridx *ri)
{
	size_t w = 0, nd = 0;

	for (size_t i = 0; i < ri->n; i++)
		nd += ri->packs[i].damaged;
	if (!nd)
		return 0;
	free(ri->damaged);
	ri->damaged = lmd_calloc(nd, sizeof(*ri->damaged));
	if (!ri->damaged)
		return -ENOMEM;
	ri->ndamaged = 0;
	for (size_t i = 0; i < ri->n; i++) {
		lmd_ridx_pack *p = &ri->packs[i];
		if (!p->damaged) {
			ri->packs[w++] = *p;
			continue;
		}
		ri->damaged[ri->ndamaged++] = p->id;
		ri->partial[ri->npartial] = p->id;
		ri->partial_size[ri->npartial++] = p->pack_size;
		idx_release(p);
	}
	ri->n = w;
	return 0;
}

/*
 * One index being downloaded: streamed into a temp file in the cache
 * folder, so what is in memory does not depend on how big indexes are;
 * into memory only when the cache folder cannot take a file.  The file is
 * opened for each piece, not held open: a batch must not take a
 * descriptor per index from the transfers (ulimit -n).
 */
struct dl {
	bool file;              /* in the temp file; else in buf */
	char *tmp;
	uint64_t len;
	lmd_buf buf;
	size_t pack;
};

/* The cache folder took no more (a full disk): go on in memory. */
static int dl_to_memory(struct dl *d)
{
	int r = lmd_buf_grow(&d->buf, (size_t)d->len), rfd;
	if (r < 0)
		return r;
	rfd = open(d->tmp, O_RDONLY | O_CLOEXEC);
	if (rfd < 0 || (d->len && lmd_pread_full(rfd, d->buf.ptr, (size_t)d->len, 0) != (ssize_t)d->len)) {
		r = lmd_errno_path("cannot read back a remote index from", d->tmp);
		if (rfd >= 0)
			close(rfd);
		return r;
	}
	close(rfd);
	d->buf.len = (size_t)d->len;
	d->file = false;
	unlink(d->tmp);
	free(d->tmp);
	d->tmp = NULL;
	return 0;
}

static int dl_sink(const void *data, size_t len, void *payload)
{
	struct dl *d = payload;
	int r, fd;
	if (d->len + len > MAX_IDX_BYTES)
		return lmd_error_set(LMD_ETOOBIG, "a remote pack index is larger than any lmdata writes");
	if (d->file) {
		fd = open(d->tmp, O_WRONLY | O_APPEND | O_CLOEXEC);
		r = fd < 0 ? -errno : lmd_write_all(fd, data, len);
		if (fd >= 0)
			close(fd);
		if (r < 0 && (r = dl_to_memory(d)) < 0)
			return r;
	}
	d->len += len;
	return d->file ? 0 : lmd_buf_put(&d->buf, data, len);
}

static void dl_release(struct dl *d)
{
	if (d->tmp) {
		unlink(d->tmp);
		free(d->tmp);
	}
	lmd_buf_release(&d->buf);
	memset(d, 0, sizeof(*d));
}

/* A downloaded index, checked, becomes the pack's: cached and mapped, or
 * (no cache) in memory.  A damaged one marks the pack. */
static void dl_take(struct dl *d, lmd_ridx_pack *p, const char *path)
{
	void *map = MAP_FAILED;
	int rfd = -1;

	if (!d->file) {
		if (lmd__idx_check(d->buf.ptr, d->buf.len, &p->id) < 0) {
			lmd_error_clear();
			p->damaged = true;
			return;
		}
		p->idx = d->buf.ptr;
		p->idx_len = d->buf.len;
		p->count = lmd_get_le32(d->buf.ptr + 8);
		d->buf.ptr = NULL;
		d->buf.len = d->buf.alloc = 0;
		return;
	}
	if (d->len && d->len <= SIZE_MAX && (rfd = open(d->tmp, O_RDONLY | O_CLOEXEC)) >= 0)
		map = mmap(NULL, (size_t)d->len, PROT_READ, MAP_SHARED, rfd, 0);
	if (map == MAP_FAILED || lmd__idx_check(map, (size_t)d->len, &p->id) < 0) {
		lmd_error_clear();
		if (map != MAP_FAILED)
			munmap(map, (size_t)d->len);
		if (rfd >= 0)
			close(rfd);
		p->damaged = true;
		return;
	}
	p->idx = map;
	p->idx_len = (size_t)d->len;
	p->count = lmd_get_le32(p->idx + 8);
	p->mapped = true;
	/* Kept in the cache (temp + fsync + rename); the mapping stays valid
	 * either way. */
	if (fsync(rfd) == 0 && rename(d->tmp, path) == 0) {
		free(d->tmp);
		d->tmp = NULL;
	}
	close(rfd);
}

/* Indexes asked for per request batch. */
#define DL_BATCH 64u

/* Download the indexes of packs `want[0..n)`, check them, cache and map them. */
static int download(lmd_backend *b, lmd_ridx *ri, const char *cache_dir, unsigned jobs, const size_t *want,
		    size_t n)
{
	struct dl dls[DL_BATCH];
	lmd_remote_get reqs[DL_BATCH];
	char *keys[DL_BATCH], *paths[DL_BATCH];
	int rc = 0;

	memset(dls, 0, sizeof(dls));
	memset(keys, 0, sizeof(keys));
	memset(paths, 0, sizeof(paths));
	for (size_t k = 0; k < n; k++) {
		lmd_ridx_pack *p = &ri->packs[want[k]];
		char hex[LMD_OID_HEXSZ + 1];
		lmd_oid_fmt(hex, &p->id);
		keys[k] = lmd_asprintf(LMD_REMOTE_PACK_PREFIX "%s.idx", hex);
		paths[k] = lmd_asprintf("%s/%s.idx", cache_dir, hex);
		if (!keys[k] || !paths[k]) {
			rc = -ENOMEM;
			goto done;
		}
		{
			int fd = lmd_tmpfile_near(paths[k], 0644, &dls[k].tmp);
			if (fd >= 0) {
				close(fd);
				dls[k].file = true;
			} else {
				lmd_error_clear();   /* no cache: this command keeps it in memory */
			}
		}
		dls[k].pack = want[k];
		reqs[k] = (lmd_remote_get){ .key = keys[k], .offset = 0, .length = UINT64_MAX, .sink = dl_sink,
					    .payload = &dls[k] };
	}
	ri->requests += n;
	if ((rc = lmd_backend_get_many(b, reqs, n, jobs, NULL, NULL)) < 0)
		goto done;
	for (size_t k = 0; k < n; k++)
		dl_take(&dls[k], &ri->packs[dls[k].pack], paths[k]);
	lmd_fsync_dir(cache_dir);
done:
	for (size_t k = 0; k < n; k++) {
		free(keys[k]);
		free(paths[k]);
		dl_release(&dls[k]);
	}
	return rc;
}

int lmd__ridx_load(lmd_backend *b, lmd_ridx *ri, const char *cache_dir, unsigned jobs)
{
	size_t want[DL_BATCH], nwant = 0;
	int rc;

	if ((rc = lmd_mkdir_p(cache_dir, 0755)) < 0)
		return rc;
	if (!ri->tmpdir && !(ri->tmpdir = lmd_strdup(cache_dir)))
		return -ENOMEM;
	/* Lookups start over (packs may have been added). */
	lmd_idspill_free(ri->merged);
	ri->merged = NULL;
	ri->lookups = ri->entries = 0;
	ri->merge_failed = false;
	for (size_t i = 0; i < ri->n; i++) {
		lmd_ridx_pack *p = &ri->packs[i];
		char hex[LMD_OID_HEXSZ + 1];
		char *path;

		if (p->idx)
			continue;
		lmd_oid_fmt(hex, &p->id);
		path = lmd_asprintf("%s/%s.idx", cache_dir, hex);
		if (!path)
			return -ENOMEM;
		rc = map_cached(path, p);
		free(path);
		if (rc == 0)
			continue;
		if (rc == -ENOMEM)
			return rc;
		want[nwant++] = i;
		if (nwant == DL_BATCH) {
			if ((rc = download(b, ri, cache_dir, jobs, want, nwant)) < 0)
				return rc;
			nwant = 0;
		}
	}
	if (nwant && (rc = download(b, ri, cache_dir, jobs, want, nwant)) < 0)
		return rc;
	return set_aside_damaged(ri);
}

static const uint8_t *idx_find(const lmd_ridx_pack *p, const lmd_oid *id, int type)
{
	return lmd_idx_find(p->idx, p->count, id, type);
}

static void to_loc(const uint8_t *e, size_t pack, lmd_loc *ret_loc)
{
	ret_loc->pack = (uint32_t)pack;
	ret_loc->block_off = lmd_get_le64(e + 32);
	ret_loc->block_len = lmd_get_le32(e + 40);
	ret_loc->raw_off = lmd_get_le32(e + 44);
	ret_loc->len = lmd_get_le32(e + 48);
	ret_loc->type = e[52];
}

int lmd__ridx_find_in(const lmd_ridx *ri, size_t pack, const lmd_oid *id, int type, lmd_loc *ret_loc)
{
	const uint8_t *e;
	if (pack >= ri->n || !ri->packs[pack].idx || !(e = idx_find(&ri->packs[pack], id, type)))
		return LMD_EMISSING;
	to_loc(e, pack, ret_loc);
	return 0;
}

/* Below this many packs a lookup in each is cheap enough. */
#define MERGE_MIN_PACKS 16u
/* A merged record: id, le32 pack. */
#define MERGE_REC 36u

/*
 * One sorted table of every loaded pack's entries.  Memory: the idspill's
 * buffer (8 MiB); beyond it sorted runs in the cache folder, unlinked.
 * When it cannot be made (a full disk), lookups stay pack by pack.
 */
static void merge(lmd_ridx *ri)
{
	lmd_idspill *m = NULL;
	uint8_t rec[MERGE_REC];
	int r = ri->tmpdir ? lmd_idspill_new_rec(ri->tmpdir, 0, MERGE_REC, &m) : -EINVAL;

	for (size_t p = 0; r == 0 && p < ri->n; p++) {
		const lmd_ridx_pack *pk = &ri->packs[p];
		const uint8_t *ents = pk->idx ? pk->idx + LMD_IDX_HDR + LMD_IDX_FANOUT : NULL;
		for (uint32_t i = 0; ents && r == 0 && i < pk->count; i++) {
			const uint8_t *e = ents + (size_t)i * LMD_IDX_ENTRY;
			memcpy(rec, e, 32);
			lmd_put_le32(rec + 32, (uint32_t)p);
			r = lmd_idspill_add_rec(m, rec);
		}
	}
	if (r == 0)
		r = lmd_idspill_finish(m);
	if (r < 0) {
		lmd_idspill_free(m);
		lmd_error_clear();
		ri->merge_failed = true;
		return;
	}
	ri->merged = m;
}

static int found(size_t pack, const uint8_t *e, size_t *ret_pack, lmd_loc *ret_loc)
{
	if (ret_pack)
		*ret_pack = pack;
	if (ret_loc)
		to_loc(e, pack, ret_loc);
	return 0;
}

int lmd__ridx_find(lmd_ridx *ri, const lmd_oid *id, int type, size_t *ret_pack, lmd_loc *ret_loc)
{
	const uint8_t *e;

	if (!ri->merged && !ri->merge_failed && ri->n >= MERGE_MIN_PACKS) {
		/* Pack by pack, a lookup costs about one step per pack; merging,
		 * a few per entry: merge once lookups have cost that much. */
		if (!ri->entries)
			for (size_t i = 0; i < ri->n; i++)
				ri->entries += ri->packs[i].idx ? ri->packs[i].count : 0;
		if (++ri->lookups * ri->n >= 4 * ri->entries + 1)
			merge(ri);
	}
	if (ri->merged) {
		const uint8_t *rec = lmd_idspill_find(ri->merged, id);
		size_t p;
		if (!rec)
			return LMD_EMISSING;   /* every loaded entry is in the table */
		p = lmd_get_le32(rec + 32);
		if (p < ri->n && ri->packs[p].idx && (e = idx_find(&ri->packs[p], id, type)))
			return found(p, e, ret_pack, ret_loc);
		/* The table kept one pack's record of this id; another pack may hold
		 * it with the type asked for: look in each. */
	}
	for (size_t i = 0; i < ri->n; i++)
		if (ri->packs[i].idx && (e = idx_find(&ri->packs[i], id, type)))
			return found(i, e, ret_pack, ret_loc);
	return LMD_EMISSING;
}

void lmd__ridx_release(lmd_ridx *ri)
{
	for (size_t i = 0; i < ri->n; i++)
		idx_release(&ri->packs[i]);
	free(ri->packs);
	free(ri->partial);
	free(ri->partial_size);
	free(ri->damaged);
	lmd_idspill_free(ri->merged);
	free(ri->tmpdir);
	memset(ri, 0, sizeof(*ri));
}
