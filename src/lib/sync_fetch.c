/*
 * lmd_fetch: bring into the local store what the selected datasets need
 * and the store lacks.
 *
 * The remote's pack indexes (one listing, then the cached index files)
 * say which block of which pack holds each object.  The metadata walk goes
 * level by level: the manifests' ids, then the trees and chunk lists those
 * fetched objects reveal, and for a big file the parts of its chunk list.
 * Chunks are not a level: as each flat chunk list or part is read, the
 * chunks the store lacks join a batch, fetched whenever it holds
 * BATCH_MAX of them and once more at the end.  Each level or batch
 * fetches only the blocks it lacks, with neighbouring blocks of a pack
 * coalesced into one byte-range GET, ranges run in parallel.  The sink
 * cuts the byte stream back into blocks, decodes each and checks every
 * object in it (DATA, TREE and PART: sha256 equals the id; FILE lists:
 * their own trailer) before the block's bytes go to the packer; a block
 * that fails is never written, and its range is tried again (a bit
 * flipped on the wire) before fetch gives up.  The packer seals a pack
 * every few tens of MiB and at the end of each metadata level, so an
 * interrupted fetch keeps what it sealed and a rerun fetches the rest.
 *
 * A chunk is deduplicated by the store itself: once its block has gone to
 * the packer, lmd_store_has sees it (the packer's session set until the
 * pack is sealed, its index after), so a later batch skips it; within a
 * batch, a set of the batch's ids.  Looking every chunk up stays cheap
 * however many packs the fetch seals: the store indexes them as they are
 * sealed (lmd__store_layer_now).
 *
 * Memory, however many chunks the datasets have: the metadata walk's few
 * ids per file (the current and next level, a set of every tree, file id
 * and part met) and one chunk list or part being read; for chunks, one
 * batch (BATCH_MAX ids, their set, block list and ranges: about 8 MiB, at
 * worst 25 MiB if every chunk is a block of its own), the count's id
 * buffer (8 MiB), the packer's entries for one pack, and one block
 * buffer per transfer in flight or block being checked.  The remote's and
 * the store's index files are mapped, not read (page cache, not the
 * heap); only while the remote's indexes are first downloaded are up to
 * 64 of them held at once (sync_ridx.c).
 *
 * The stats count each distinct object once: trees, file ids and parts
 * through the metadata set; chunks through an external id set (idspill.h:
 * a bounded buffer, sorted runs in unlinked temp files under .lmdata/state)
 * that gets every chunk id met and is walked once at the end, counting
 * those that are not also a metadata id (a one-chunk file's id is its
 * chunk's).  Every object a fetched block holds counts as transferred,
 * and a block is fetched once: after that its objects are in the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "idspill.h"
#include "pool.h"
#include "objects.h"
#include "sync_int.h"

#define RANGE_MAX (64u << 20)   /* bytes per ranged GET (streamed, not buffered) */
#define RANGE_GAP (64u << 10)   /* join blocks at most this far apart */
#define TRIES 3                 /* rounds for blocks that arrived damaged */
#define BATCH_MAX ((size_t)64 << 10)  /* chunks fetched at a time */
/* The largest block a store writes (as store.c reads them). */
#define MAX_BLOCK ((uint64_t)LMD_BLOCK_HDR + (uint64_t)LMD_BLOCK_MAX_COUNT * LMD_BLOCK_ENTRY + LMD_MAX_BLOB_RAW + 65536u)

enum { K_TREE = 1, K_FILEID, K_DATA, K_PART };

struct item {
	lmd_oid id;
	uint8_t kind;
};

struct items {
	struct item *v;
	size_t n, cap;
};

struct blk {
	size_t rpack;
	uint64_t off;
	uint32_t len;
};

struct range {
	size_t rpack;
	uint64_t off, len, pos;
	struct blk *blks;
	size_t nblk, cur;
	lmd_buf buf;
	char *key;
	struct fetch_ctx *c;
};

struct fetch_ctx {
	lmd_repo *r;
	lmd_store *s;
	lmd_backend *b;
	lmd_packer *pk;
	lmd_ridx ri;
	lmd_oidset seen;        /* trees, file ids and parts met: a few per file */
	/* chunks the store lacks, fetched once there are batch_max */
	struct items batch;
	lmd_oidset in_batch;
	size_t batch_max;
	lmd_idspill *chunks;    /* every chunk id met, for the count */
	char *name, *state;
	unsigned jobs;
	lmd_sync_stats *st;
	uint64_t corrupt;
	bool relisted, loaded;
	bool prog_open;         /* one progress run from here to the end */
	/* blocks being checked by the pool, oldest first */
	lmd_pool *pool;
	struct vjob **q;
	size_t qhead, qn, qmax;
	char bad[512];          /* the last damaged block's message */
};

/* One received block, checked on a worker thread, stored on the caller's. */
struct vjob {
	lmd_job job;            /* first: the pool hands this back */
	struct fetch_ctx *c;
	size_t rpack;
	uint64_t off;
	const char *key;        /* the range's key: ranges outlive their jobs */
	lmd_buf buf;
	uint32_t count;
};

/*
 * What the remote holds: one listing plus the (cached) indexes.  A listing
 * can itself arrive damaged or stale (a push finishing meanwhile); when
 * something does not add up, list once more before failing.
 */
static int load_remote(struct fetch_ctx *c, bool again)
{
	int rc;
	if (again) {
		if (c->relisted)
			return LMD_EMISSING;
		c->relisted = true;
		lmd__ridx_release(&c->ri);
		lmd_error_clear();
	}
	rc = lmd__ridx_list(c->b, &c->ri);
	if (rc == 0)
		rc = lmd__ridx_load(c->b, &c->ri, c->state, c->jobs);
	if (rc < 0 && !again && rc != -ENOMEM) {
		uint64_t req = c->ri.requests;
		rc = load_remote(c, true);
		c->ri.requests += req;
	}
	return rc;
}

static int items_add(struct items *it, lmd_oidset *seen, const lmd_oid *id, uint8_t kind)
{
	int r = lmd_oidset_add(seen, id);
	if (r <= 0)
		return r < 0 ? -ENOMEM : 0;
	if (it->n == it->cap) {
		size_t c = it->cap ? it->cap * 2 : 256;
		struct item *nv = lmd_reallocarray(it->v, c, sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		it->v = nv;
		it->cap = c;
	}
	it->v[it->n].id = *id;
	it->v[it->n++].kind = kind;
	return 0;
}

static bool have_local(lmd_store *s, const struct item *it)
{
	switch (it->kind) {
	case K_TREE: return lmd_store_has(s, &it->id, LMD_OBJ_TREE);
	case K_DATA: return lmd_store_has(s, &it->id, LMD_OBJ_DATA);
	case K_PART: return lmd_store_has(s, &it->id, LMD_OBJ_PART);
	default: return lmd_store_has(s, &it->id, LMD_OBJ_DATA) || lmd_store_has(s, &it->id, LMD_OBJ_FILE);
	}
}

/* ---- receiving blocks ---- */

/* sha256 with the worker's own context (no per-thread state to leak). */
static int hash_with(lmd_sha256 *h, const uint8_t *p, size_t n, lmd_oid *ret)
{
	int r;
	if ((r = lmd_sha256_init(h)) < 0 || (r = lmd_sha256_update(h, p, n)) < 0)
		return r;
	return lmd_sha256_final(h, ret);
}

/* Check every object of a decoded block against its hash. */
static int verify_block(const lmd_block *b, lmd_sha256 *h)
{
	uint32_t off = 0;
	for (uint32_t i = 0; i < b->count; i++) {
		const lmd_blk_entry *e = &b->entries[i];
		lmd_oid got;
		if (e->len > b->raw_len - off)
			return LMD_ECORRUPT;
		if (e->type == LMD_OBJ_FILE) {
			if (e->len < 32 || hash_with(h, b->raw + off, e->len - 32, &got) < 0 ||
			    memcmp(got.id, b->raw + off + e->len - 32, 32) != 0)
				return LMD_ECORRUPT;
		} else if (e->type == LMD_OBJ_DATA || e->type == LMD_OBJ_TREE || e->type == LMD_OBJ_PART) {
			if (hash_with(h, b->raw + off, e->len, &got) < 0 || lmd_oid_cmp(&got, &e->id) != 0)
				return LMD_ECORRUPT;
		} else {
			return LMD_ECORRUPT;
		}
		off += e->len;
	}
	return 0;
}

/*
 * A FILE list's trailer covers its bytes but not its id (the hash of the
 * whole file): its entry must be listed by the remote's index (checked by
 * its own hash) in this pack with this length, so a flipped id byte does
 * not pass.  DATA, TREE and PART entries are checked by their hashes.
 */
static int check_entries(struct fetch_ctx *c, size_t rpack, const lmd_block *b)
{
	for (uint32_t i = 0; i < b->count; i++) {
		const lmd_blk_entry *e = &b->entries[i];
		lmd_loc loc;
		if (e->type == LMD_OBJ_FILE &&
		    (lmd__ridx_find_in(&c->ri, rpack, &e->id, e->type, &loc) < 0 || loc.len != e->len))
			return LMD_ECORRUPT;
	}
	return 0;
}

static void vjob_run(lmd_job *job, lmd_worker_ctx *w)
{
	struct vjob *v = (struct vjob *)job;
	lmd_block b = { 0 };
	int r;

	r = lmd_block_decode(v->buf.ptr, v->buf.len, w->z, &b);
	if (r == 0)
		r = check_entries(v->c, v->rpack, &b);
	if (r == 0)
		r = verify_block(&b, w->h);
	v->count = b.count;
	lmd_block_release(&b);
	if (r < 0) {
		lmd_error_set(LMD_ECORRUPT,
			      "remote '%s': block at offset %llu of '%s' does not match its hashes "
			      "(damaged in transit or on the remote); it was not stored",
			      v->c->name, (unsigned long long)v->off, v->key);
		lmd_job_fail(job, LMD_ECORRUPT);
	} else {
		job->result = 0;
	}
}

/* Wait for the oldest block in flight; store it if it checked out. */
static int finish_oldest(struct fetch_ctx *c)
{
	struct vjob *v = c->q[c->qhead];
	int r = 0;

	c->qhead = (c->qhead + 1) % c->qmax;
	c->qn--;
	lmd_pool_wait(c->pool, &v->job);
	if (v->job.result < 0) {
		c->corrupt++;
		snprintf(c->bad, sizeof(c->bad), "%s", v->job.err);
	} else if ((r = lmd_packer_add_encoded(c->pk, v->buf.ptr, v->buf.len)) == 0) {
		c->st->objects_transferred += v->count;
		lmd__progress_add(c->r, v->buf.len, v->count);
	}
	lmd_buf_release(&v->buf);
	free(v);
	return r;
}

static int drain(struct fetch_ctx *c)
{
	int rc = 0, r;
	while (c->qn)
		if ((r = finish_oldest(c)) < 0 && rc == 0)
			rc = r;
	return rc;
}

/* A whole block arrived: hand it (its buffer moves) to the pool. */
static int take_block(struct range *rg, const struct blk *bk)
{
	struct fetch_ctx *c = rg->c;
	struct vjob *v;
	int r;

	if (c->qn == c->qmax && (r = finish_oldest(c)) < 0)
		return r;
	v = lmd_calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->job.fn = vjob_run;
	v->c = c;
	v->rpack = rg->rpack;
	v->off = bk->off;
	v->key = rg->key;
	v->buf = rg->buf;
	memset(&rg->buf, 0, sizeof(rg->buf));
	c->q[(c->qhead + c->qn) % c->qmax] = v;
	c->qn++;
	lmd_pool_submit(c->pool, &v->job);
	return 0;
}

static int range_sink(const void *data, size_t len, void *payload)
{
	struct range *rg = payload;
	const uint8_t *p = data;
	int r;

	rg->c->st->bytes += len;
	while (len && rg->cur < rg->nblk) {
		const struct blk *bk = &rg->blks[rg->cur];
		uint64_t at = rg->off + rg->pos;
		size_t n;
		if (at < bk->off) { /* a gap between two wanted blocks */
			n = (size_t)LMD_MIN((uint64_t)len, bk->off - at);
		} else {
			n = (size_t)LMD_MIN((uint64_t)len, bk->off + bk->len - at);
			if (!rg->buf.alloc && (r = lmd_buf_grow(&rg->buf, bk->len)) < 0)
				return r;
			if ((r = lmd_buf_put(&rg->buf, p, n)) < 0)
				return r;
			if (rg->buf.len == bk->len) {
				r = take_block(rg, bk);
				if (r < 0)
					return r;
				rg->cur++;
			}
		}
		p += n;
		len -= n;
		rg->pos += n;
	}
	return 0;
}

/* ---- one level ---- */

static int cmp_blk(const void *a, const void *b)
{
	const struct blk *x = a, *y = b;
	if (x->rpack != y->rpack)
		return x->rpack < y->rpack ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int fetch_blocks(struct fetch_ctx *c, struct blk *blks, size_t nb)
{
	struct range *rg = NULL;
	lmd_remote_get *reqs = NULL;
	size_t nr = 0, w = 0;
	uint64_t total = 0;
	int rc = 0;

	if (!nb)
		return 0;
	qsort(blks, nb, sizeof(*blks), cmp_blk);
	for (size_t i = 0; i < nb; i++) /* several wanted objects share a block */
		if (w == 0 || cmp_blk(&blks[w - 1], &blks[i]) != 0)
			blks[w++] = blks[i];
	nb = w;
	rg = lmd_calloc(nb, sizeof(*rg));
	reqs = lmd_calloc(nb, sizeof(*reqs));
	if (!rg || !reqs) {
		rc = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < nb; i++) {
		struct range *cur = nr ? &rg[nr - 1] : NULL;
		uint64_t end = cur ? cur->off + cur->len : 0;
		if (cur && cur->rpack == blks[i].rpack && blks[i].off >= end && blks[i].off - end <= RANGE_GAP &&
		    blks[i].off + blks[i].len - cur->off <= RANGE_MAX) {
			cur->len = blks[i].off + blks[i].len - cur->off;
			cur->nblk++;
			continue;
		}
		cur = &rg[nr++];
		cur->rpack = blks[i].rpack;
		cur->off = blks[i].off;
		cur->len = blks[i].len;
		cur->blks = &blks[i];
		cur->nblk = 1;
		cur->c = c;
	}
	for (size_t i = 0; i < nr; i++) {
		char hex[LMD_OID_HEXSZ + 1];
		lmd_oid_fmt(hex, &c->ri.packs[rg[i].rpack].id);
		rg[i].key = lmd_asprintf(LMD_REMOTE_PACK_PREFIX "%s.pack", hex);
		if (!rg[i].key) {
			rc = -ENOMEM;
			goto done;
		}
		reqs[i].key = rg[i].key;
		reqs[i].offset = rg[i].off;
		reqs[i].length = rg[i].len;
		reqs[i].sink = range_sink;
		reqs[i].payload = &rg[i];
		total += rg[i].len;
	}
	c->st->packs += nr;
	c->st->requests += nr;
	if (!c->prog_open)
		lmd__progress_start(c->r, "fetching", total, 0);
	c->corrupt = 0;
	rc = lmd_backend_get_many(c->b, reqs, nr, c->jobs, NULL, NULL);
	{
		int dr = drain(c);
		if (rc == 0 && dr < 0)
			rc = dr;
	}
	if (rc == 0 && c->corrupt)
		rc = lmd_error_set(LMD_ECORRUPT, "%s", c->bad);
done:
	for (size_t i = 0; rg && i < nr; i++) {
		free(rg[i].key);
		lmd_buf_release(&rg[i].buf);
	}
	free(rg);
	free(reqs);
	return rc;
}

/*
 * Fetch what the items lack locally; retries blocks damaged in transit.
 * A metadata level (batch false) ends with the packer sealing what it
 * holds: the next level reads these objects from the store.  A batch's
 * items are all missing when it starts (add_chunk checked them, and
 * nothing was stored since), so the first pass does not look again.
 */
static int fetch_level(struct fetch_ctx *c, const struct items *it, bool batch)
{
	struct blk *blks = NULL;
	int rc = 0, attempt = 0;

	blks = lmd_calloc(it->n + 1, sizeof(*blks));
	if (!blks)
		return -ENOMEM;
	for (;;) {
		const struct item *missing = NULL;
		size_t nb = 0;
		bool relist = false;
		for (size_t i = 0; i < it->n && !relist; i++) {
			const struct item *x = &it->v[i];
			int type = x->kind == K_TREE ? LMD_OBJ_TREE : x->kind == K_DATA ? LMD_OBJ_DATA
				 : x->kind == K_PART ? LMD_OBJ_PART : 0;
			char hex[LMD_OID_HEXSZ + 1];
			lmd_loc loc;
			size_t rp;
			if ((attempt || !batch) && have_local(c->s, x))
				continue;
			missing = x;
			if (!c->loaded) { /* the remote is asked only once something is missing */
				if ((rc = load_remote(c, false)) < 0)
					goto done;
				c->loaded = true;
			}
			if (lmd__ridx_find(&c->ri, &x->id, type, &rp, &loc) == 0) {
				if (loc.block_len < LMD_BLOCK_HDR || loc.block_len > MAX_BLOCK ||
				    loc.block_off > c->ri.packs[rp].pack_size ||
				    loc.block_len > c->ri.packs[rp].pack_size - loc.block_off) {
					lmd_oid_fmt(hex, &c->ri.packs[rp].id);
					rc = lmd_error_set(LMD_ECORRUPT,
							   "remote '%s': the index of pack %s points outside the pack; "
							   "run 'lmdata fsck --remote --read-data'", c->name, hex);
					goto done;
				}
				blks[nb].rpack = rp;
				blks[nb].off = loc.block_off;
				blks[nb++].len = loc.block_len;
			} else if (!c->relisted) {
				relist = true;
			} else {
				lmd_oid_fmt(hex, &x->id);
				if (c->ri.ndamaged)
					rc = lmd_error_set(LMD_EMISSING,
							   "object %s is not in the local store, and remote '%s' has it "
							   "only if it is in one of its %zu pack%s with a damaged index; "
							   "'lmdata fsck --remote' names them", hex, c->name,
							   c->ri.ndamaged, c->ri.ndamaged == 1 ? "" : "s");
				else
					rc = lmd_error_set(LMD_EMISSING,
							   "object %s is neither in the local store nor on remote '%s'; "
							   "push it from a clone that has it", hex, c->name);
				goto done;
			}
		}
		if (relist) {
			uint64_t req = c->ri.requests;
			if ((rc = load_remote(c, true)) < 0)
				goto done;
			c->ri.requests += req;
			continue;
		}
		if (!nb)
			break;
		if (attempt++ == TRIES) {
			/* Blocks arrived, checked out, yet still not what we asked for,
			 * or kept arriving damaged. */
			char hex[LMD_OID_HEXSZ + 1];
			lmd_oid_fmt(hex, &missing->id);
			if (rc == 0)
				rc = lmd_error_set(LMD_ECORRUPT, "remote '%s': object %s did not arrive intact after %d tries",
						   c->name, hex, TRIES);
			goto done;
		}
		/* Damaged blocks are not stored; the next pass asks again for them. */
		rc = fetch_blocks(c, blks, nb);
		if (rc < 0 && rc != LMD_ECORRUPT)
			goto done;
	}
	rc = batch ? 0 : lmd_packer_finish(c->pk);
done:
	free(blks);
	return rc;
}

/* ---- chunks, in batches ---- */

static int flush_batch(struct fetch_ctx *c)
{
	int rc = fetch_level(c, &c->batch, true);
	c->batch.n = 0;
	lmd_oidset_clear(&c->in_batch);
	return rc;
}

/* A chunk some file needs: counted, and fetched with its batch if missing. */
static int add_chunk(struct fetch_ctx *c, const lmd_oid *id)
{
	int rc;

	if ((rc = lmd_idspill_add(c->chunks, id)) < 0)
		return rc;
	if (lmd_store_has(c->s, id, LMD_OBJ_DATA))
		return 0;   /* stored before, or by an earlier batch */
	if ((rc = items_add(&c->batch, &c->in_batch, id, K_DATA)) < 0 || c->batch.n < c->batch_max)
		return rc;
	if (!c->prog_open) {
		/* More than one batch: one running total from here on, as the
		 * whole amount is not known without holding every chunk id. */
		lmd__progress_start(c->r, "fetching", 0, 0);
		c->prog_open = true;
	}
	return flush_batch(c);
}

struct chunk_count {
	const lmd_oidset *meta;
	uint64_t n;
};

static int count_chunk(const lmd_oid *id, void *payload)
{
	struct chunk_count *cc = payload;
	cc->n += !lmd_oidset_has(cc->meta, id);
	return 0;
}

/* ---- the walk ---- */

/*
 * The next level: the trees, file ids and parts that the trees, chunk
 * lists and parts of this one name; their chunks go to add_chunk.
 */
static int expand(struct fetch_ctx *c, const struct items *it, struct items *next)
{
	lmd_buf buf = LMD_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < it->n && rc == 0; i++) {
		const struct item *x = &it->v[i];
		if (x->kind == K_TREE) {
			lmd_tree t = { 0 };
			if ((rc = lmd_store_get(c->s, &x->id, LMD_OBJ_TREE, &buf)) < 0 || (rc = lmd_tree_parse(&buf, &t)) < 0)
				break;
			for (size_t k = 0; k < t.n && rc == 0; k++) {
				const lmd_tree_entry *e = &t.entries[k];
				if (e->mode == LMD_MODE_DIR)
					rc = items_add(next, &c->seen, &e->id, K_TREE);
				else if (e->mode == LMD_MODE_LINK || e->size)
					rc = items_add(next, &c->seen, &e->id, K_FILEID);
			}
			lmd_tree_release(&t);
			lmd_buf_clear(&buf);
		} else if (x->kind == K_FILEID && !lmd_store_has(c->s, &x->id, LMD_OBJ_DATA)) {
			lmd_chunk_ref *ch = NULL;
			lmd_part_ref *pa = NULL;
			uint32_t n = 0;
			uint64_t size;
			if ((rc = lmd_store_get(c->s, &x->id, LMD_OBJ_FILE, &buf)) < 0)
				break;
			if (lmd_filelist_has_parts(buf.ptr, buf.len)) {
				/* A big file: its parts first, their chunks at the next level. */
				if ((rc = lmd_fileparts_parse(buf.ptr, buf.len, &size, &pa, &n)) < 0)
					break;
				for (uint32_t k = 0; k < n && rc == 0; k++)
					rc = items_add(next, &c->seen, &pa[k].id, K_PART);
				free(pa);
			} else {
				if ((rc = lmd_filelist_parse(buf.ptr, buf.len, &size, &ch, &n)) < 0)
					break;
				for (uint32_t k = 0; k < n && rc == 0; k++)
					rc = add_chunk(c, &ch[k].id);
				free(ch);
			}
		} else if (x->kind == K_PART) {
			/* Read here only for its chunks: it arrived checked against
			 * its id, and whether it agrees with its file list is checked
			 * whenever the file is read (restore, fsck). */
			lmd_chunk_ref *ch = NULL;
			uint32_t n = 0;
			if ((rc = lmd_store_get(c->s, &x->id, LMD_OBJ_PART, &buf)) < 0 ||
			    (rc = lmd_part_parse(buf.ptr, buf.len, NULL, &ch, &n)) < 0)
				break;
			for (uint32_t k = 0; k < n && rc == 0; k++)
				rc = add_chunk(c, &ch[k].id);
			free(ch);
		}
	}
	lmd_buf_release(&buf);
	return rc;
}

int lmd_fetch(lmd_repo *r, const lmd_sync_opts *o, lmd_sync_stats *ret_stats)
{
	struct fetch_ctx c = { .r = r };
	struct items cur = { 0 }, next = { 0 };
	lmd_sync_stats st = { 0 };
	lmd_sync_root *ds = NULL;
	size_t nds = 0;
	int rc;

	c.st = &st;
	c.jobs = o ? o->jobs : 0;
	if ((rc = lmd__repo_lock(r)) < 0 || (rc = lmd__repo_store(r, &c.s)) < 0 ||
	    (rc = lmd_store_refresh(c.s)) < 0)
		goto done;
	if ((rc = lmd__sync_roots(r, o, &ds, &nds)) < 0)
		goto done;
	for (size_t i = 0; i < nds; i++) {
		const lmd_manifest *m = &ds[i].m;
		if (m->kind == LMD_KIND_DIR)
			rc = items_add(&cur, &c.seen, &m->id, K_TREE);
		else if (m->kind == LMD_KIND_LINK || m->size)
			rc = items_add(&cur, &c.seen, &m->id, K_FILEID);
		if (rc < 0)
			goto done;
	}
	if ((rc = lmd__remote_open(r, o ? o->remote : NULL, c.jobs, &c.b, &c.name)) < 0)
		goto done;
	snprintf(st.remote, sizeof(st.remote), "%s", c.name);
	c.state = lmd__remote_idx_dir(r, c.name);
	if (!c.state) {
		rc = -ENOMEM;
		goto done;
	}
	{
		unsigned threads = lmd__repo_jobs(r);
		threads = threads > 8 ? 8 : threads;
		c.qmax = 2 * (size_t)threads + 2;
		c.q = lmd_calloc(c.qmax, sizeof(*c.q));
		if (!c.q) {
			rc = -ENOMEM;
			goto done;
		}
		/* This thread runs the transfers: it never decompresses
		 * (pool.h), so blocks keep arriving while workers verify. */
		if ((rc = lmd_pool_new(threads, 0, 1, &c.pool)) < 0)
			goto done;
	}
	{
		char *tmp = lmd_path_join(r->lmdir, "state");
		rc = tmp ? lmd_mkdir_p(tmp, 0755) : -ENOMEM;
		c.batch_max = lmd__test_fetch_batch ? lmd__test_fetch_batch : BATCH_MAX;
		/* Tests with tiny batches spill the count's ids as soon. */
		if (rc == 0)
			rc = lmd_idspill_new(tmp, lmd__test_fetch_batch, &c.chunks);
		free(tmp);
		if (rc < 0)
			goto done;
	}
	if ((rc = lmd_packer_new(c.s, &c.pk)) < 0)
		goto done;
	while (cur.n) {
		st.objects += cur.n;
		if ((rc = fetch_level(&c, &cur, false)) < 0)
			goto done;
		next.n = 0;
		if ((rc = expand(&c, &cur, &next)) < 0)
			goto done;
		struct items t = cur;
		cur = next;
		next = t;
	}
	if ((c.batch.n && (rc = flush_batch(&c)) < 0) || (rc = lmd_packer_finish(c.pk)) < 0)
		goto done;
	{
		struct chunk_count cc = { .meta = &c.seen };
		if ((rc = lmd_idspill_foreach(c.chunks, count_chunk, &cc)) < 0)
			goto done;
		st.objects += cc.n;
	}
	st.already = st.objects > st.objects_transferred ? st.objects - st.objects_transferred : 0;
	rc = 0;
done:
	lmd__progress_end(r);
	st.requests += c.ri.requests;
	if (ret_stats)
		*ret_stats = st;
	if (c.pool) {
		while (c.qn) { /* after a failure: wait, store nothing more */
			struct vjob *v = c.q[c.qhead];
			c.qhead = (c.qhead + 1) % c.qmax;
			c.qn--;
			lmd_pool_wait(c.pool, &v->job);
			lmd_buf_release(&v->buf);
			free(v);
		}
		lmd_pool_free(c.pool);
	}
	free(c.q);
	if (rc < 0 && c.pk) {
		/* Everything in the packer was verified: seal it, so a rerun has less to do. */
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", lmd_error_last());
		lmd_packer_finish(c.pk);
		lmd_error_set(rc, "%s", msg);
	}
	lmd_packer_free(c.pk);
	lmd__ridx_release(&c.ri);
	lmd_oidset_release(&c.seen);
	lmd_oidset_release(&c.in_batch);
	lmd_idspill_free(c.chunks);
	free(c.batch.v);
	free(cur.v);
	free(next.v);
	free(c.name);
	free(c.state);
	lmd_backend_free(c.b);
	lmd__sync_roots_free(ds, nds);
	lmd__repo_unlock(r);
	return rc;
}
