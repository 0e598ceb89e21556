/*
 * What a remote holds, without asking about single objects: one listing
 * of packs/ names its complete packs (those with an index), and their
 * index files, downloaded once and cached under
 * .lmdata/state/remote-NAME/idx/, locate every object.  Packs never change
 * once written (their name is their hash), so a cached index stays valid
 * for as long as the listing shows its pack.  Index files are checked
 * (sizes, fanout, trailer hash, pack id) before they are used or cached.
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
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
		free(p->idx);
	}
	ri->n = w;
	return 0;
}

struct dl {
	lmd_buf buf;
	size_t pack;
};

static int dl_sink(const void *data, size_t len, void *payload)
{
	struct dl *d = payload;
	if (d->buf.len + len > MAX_IDX_BYTES)
		return lmd_error_set(LMD_ETOOBIG, "a remote pack index is larger than any lmdata writes");
	return lmd_buf_put(&d->buf, data, len);
}

static int adopt(lmd_ridx_pack *p, lmd_buf *b)
{
	p->idx = b->ptr;
	p->idx_len = b->len;
	p->count = lmd_get_le32(b->ptr + 8);
	b->ptr = NULL;
	b->len = b->alloc = 0;
	return 0;
}

int lmd__ridx_load(lmd_backend *b, lmd_ridx *ri, const char *cache_dir, unsigned jobs)
{
	struct dl *dls = NULL;
	lmd_remote_get *reqs = NULL;
	char **keys = NULL;
	size_t nreq = 0;
	int rc;

	if ((rc = lmd_mkdir_p(cache_dir, 0755)) < 0)
		return rc;
	dls = lmd_calloc(ri->n + 1, sizeof(*dls));
	reqs = lmd_calloc(ri->n + 1, sizeof(*reqs));
	keys = lmd_calloc(ri->n + 1, sizeof(*keys));
	if (!dls || !reqs || !keys) {
		rc = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < ri->n; i++) {
		lmd_ridx_pack *p = &ri->packs[i];
		char hex[LMD_OID_HEXSZ + 1];
		lmd_buf buf = LMD_BUF_INIT;
		char *path;

		if (p->idx)
			continue;
		lmd_oid_fmt(hex, &p->id);
		path = lmd_asprintf("%s/%s.idx", cache_dir, hex);
		if (!path) {
			rc = -ENOMEM;
			goto done;
		}
		rc = lmd_read_file(path, MAX_IDX_BYTES, &buf);
		free(path);
		if (rc == 0 && lmd__idx_check(buf.ptr, buf.len, &p->id) == 0) {
			adopt(p, &buf);
			continue;
		}
		lmd_buf_release(&buf);
		lmd_error_clear();
		keys[nreq] = lmd_asprintf(LMD_REMOTE_PACK_PREFIX "%s.idx", hex);
		if (!keys[nreq]) {
			rc = -ENOMEM;
			goto done;
		}
		dls[nreq].pack = i;
		reqs[nreq].key = keys[nreq];
		reqs[nreq].offset = 0;
		reqs[nreq].length = UINT64_MAX;
		reqs[nreq].sink = dl_sink;
		reqs[nreq].payload = &dls[nreq];
		nreq++;
	}
	rc = 0;
	if (nreq) {
		ri->requests += nreq;
		if ((rc = lmd_backend_get_many(b, reqs, nreq, jobs, NULL, NULL)) < 0)
			goto done;
		for (size_t k = 0; k < nreq; k++) {
			lmd_ridx_pack *p = &ri->packs[dls[k].pack];
			char hex[LMD_OID_HEXSZ + 1];
			char *path;
			lmd_oid_fmt(hex, &p->id);
			if (lmd__idx_check(dls[k].buf.ptr, dls[k].buf.len, &p->id) < 0) {
				lmd_error_clear();
				p->damaged = true;
				continue;
			}
			path = lmd_asprintf("%s/%s.idx", cache_dir, hex);
			if (!path) {
				rc = -ENOMEM;
				goto done;
			}
			/* A cache: failing to keep it only costs a download next time. */
			if (lmd_write_file_atomic(path, dls[k].buf.ptr, dls[k].buf.len, 0644) < 0)
				lmd_error_clear();
			free(path);
			adopt(p, &dls[k].buf);
		}
		rc = set_aside_damaged(ri);
	}
done:
	for (size_t k = 0; k < nreq; k++) {
		free(keys[k]);
		lmd_buf_release(&dls[k].buf);
	}
	free(keys);
	free(dls);
	free(reqs);
	return rc;
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

int lmd__ridx_find(const lmd_ridx *ri, const lmd_oid *id, int type, size_t *ret_pack, lmd_loc *ret_loc)
{
	for (size_t i = 0; i < ri->n; i++) {
		const uint8_t *e;
		if (!ri->packs[i].idx || !(e = idx_find(&ri->packs[i], id, type)))
			continue;
		if (ret_pack)
			*ret_pack = i;
		if (ret_loc)
			to_loc(e, i, ret_loc);
		return 0;
	}
	return LMD_EMISSING;
}

void lmd__ridx_release(lmd_ridx *ri)
{
	for (size_t i = 0; i < ri->n; i++)
		free(ri->packs[i].idx);
	free(ri->packs);
	free(ri->partial);
	free(ri->partial_size);
	free(ri->damaged);
	memset(ri, 0, sizeof(*ri));
}
