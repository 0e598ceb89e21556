/*
 * The ingest pipeline (see ingest.h).
 *
 *   main thread:  read -> chunk -> whole-file sha256 -> batch
 *   workers:      chunk sha256 -> dedup -> zstd one block per batch
 *   main thread:  (in order) block -> packer; chunk ids -> file lists
 *
 * The main thread runs batches itself while it waits for the oldest one,
 * so `jobs` threads in all do the work (pool.h).
 *
 * A file of one chunk is the common case for many small files; its chunk
 * id equals its file id, so it is hashed once, on the main thread.
 *
 * A pending file keeps only the chunks not yet written in a part: once
 * more than part_chunks of its chunks are known it is a big file (a
 * two-level list, objects.h), and every part is written as soon as the
 * chunk ids decide where it ends.  Memory per file is then about one part
 * plus the chunks of the batches in flight, whatever the file's size.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "ingest.h"
#include "objects.h"
#include "pool.h"
#include "util.h"

#define READ_BUF (4u << 20)

struct pend_file {
	lmd_oid id;
	uint64_t size;
	uint64_t nchunks;       /* cut so far; the final count once reading is done */
	uint64_t resolved;      /* chunks whose id is known: always a prefix */
	uint64_t base;          /* chunks before this one are in written parts */
	bool read_done;
	bool failed;            /* reading failed: write no list */
	bool parted;            /* more than part_chunks chunks: a list of parts */
	lmd_chunk_ref *chunks;  /* chunks[i] is chunk base + i, up to nchunks */
	size_t achunks;
	lmd_part_ref *parts;    /* parts written so far */
	uint32_t nparts, aparts;
	struct pend_file *next;
};

struct chunk_rec {
	uint32_t off, len;
	struct pend_file *file;
	uint64_t index;         /* the chunk's number in its file */
	bool known;             /* id already computed (single-chunk file) */
	lmd_oid id;
};

struct batch {
	lmd_job job;
	lmd_store *store;
	uint8_t *raw;           /* chunk bytes, compacted in place by the worker */
	uint32_t raw_len, raw_cap;
	struct chunk_rec *recs;
	uint32_t nrecs, arecs;
	lmd_blk_entry *ents;    /* new chunks only */
	lmd_buf out;            /* the encoded block */
};

struct lmd_ingest {
	lmd_store *store;
	lmd_packer *pk;
	const lmd_chunker *ch;
	lmd_cutter cutter;
	lmd_pool *pool;
	unsigned max_inflight;
	struct batch **ring;    /* in-flight batches in submission order */
	unsigned head, count;
	struct batch *cur;
	struct batch **free_list;
	unsigned nfree;
	uint32_t block_target;
	uint32_t part_chunks;
	uint8_t *rbuf;
	lmd_sha256 *fh;
	struct pend_file *files_head, *files_tail;
	lmd_buf flbuf;
	uint64_t bytes_read;
	lmd_ingest_progress progress;
	void *progress_payload;
};

static void batch_work(lmd_job *job, lmd_worker_ctx *w)
{
	struct batch *b = (struct batch *)job;
	uint32_t nnew = 0, w_off = 0;
	int r;

	for (uint32_t i = 0; i < b->nrecs; i++) {
		struct chunk_rec *c = &b->recs[i];
		if (!c->known) {
			if ((r = lmd_sha256_init(w->h)) < 0 ||
			    (r = lmd_sha256_update(w->h, b->raw + c->off, c->len)) < 0 ||
			    (r = lmd_sha256_final(w->h, &c->id)) < 0) {
				lmd_job_fail(job, r);
				return;
			}
		}
		if (lmd_store_has(b->store, &c->id, LMD_OBJ_DATA))
			continue;
		/* Compact new chunks to the front: the raw payload of the block. */
		for (uint32_t k = 0; k < nnew; k++)
			if (!lmd_oid_cmp(&b->ents[k].id, &c->id))
				goto dup;
		if (w_off != c->off)
			memmove(b->raw + w_off, b->raw + c->off, c->len);
		b->ents[nnew].id = c->id;
		b->ents[nnew].len = c->len;
		b->ents[nnew].type = LMD_OBJ_DATA;
		nnew++;
		w_off += c->len;
dup:;
	}
	if (nnew && (r = lmd_block_encode(b->ents, nnew, b->raw, w_off, w->z, &b->out)) < 0) {
		lmd_job_fail(job, r);
		return;
	}
	if (!nnew)
		lmd_buf_clear(&b->out);
	job->result = 0;
}

static struct batch *batch_get(lmd_ingest *in)
{
	struct batch *b;
	if (in->nfree)
		b = in->free_list[--in->nfree];
	else {
		b = lmd_calloc(1, sizeof(*b));
		if (!b)
			return NULL;
		b->raw_cap = in->block_target + in->ch->max;
		b->raw = lmd_malloc(b->raw_cap);
		if (!b->raw) {
			free(b);
			return NULL;
		}
	}
	b->job.fn = batch_work;
	b->store = in->store;
	b->raw_len = 0;
	b->nrecs = 0;
	return b;
}

static void batch_free(struct batch *b)
{
	if (!b)
		return;
	free(b->raw);
	free(b->recs);
	free(b->ents);
	lmd_buf_release(&b->out);
	free(b);
}

int lmd_ingest_new(lmd_store *s, lmd_packer *pk, const lmd_chunker *ch, unsigned jobs, int level,
		   lmd_ingest **ret)
{
	lmd_ingest *in = lmd_calloc(1, sizeof(*in));
	int r;

	if (!in)
		return -ENOMEM;
	in->store = s;
	in->pk = pk;
	in->ch = ch;
	in->block_target = lmd_store_options(s)->block_target;
	in->part_chunks = lmd_store_options(s)->part_chunks;
	in->max_inflight = 2 * jobs + 2;
	in->ring = lmd_calloc(in->max_inflight, sizeof(*in->ring));
	in->free_list = lmd_calloc(in->max_inflight + 1, sizeof(*in->free_list));
	in->rbuf = lmd_malloc(LMD_MAX(READ_BUF, 2 * ch->max));
	if (!in->ring || !in->free_list || !in->rbuf || lmd_cutter_init(&in->cutter, ch) < 0) {
		lmd_ingest_free(in);
		return -ENOMEM;
	}
	/* The caller's thread reads, hashes and cuts, and compresses too
	 * whenever it would wait (pool.h): one worker fewer than jobs. */
	if ((r = lmd_sha256_new(&in->fh)) < 0 || (r = lmd_pool_new(jobs > 1 ? jobs - 1 : 0, 1, level, &in->pool)) < 0) {
		lmd_ingest_free(in);
		return r;
	}
	*ret = in;
	return 0;
}

void lmd_ingest_set_progress(lmd_ingest *in, lmd_ingest_progress cb, void *payload)
{
	in->progress = cb;
	in->progress_payload = payload;
}

static void pend_free(struct pend_file *f)
{
	free(f->chunks);
	free(f->parts);
	free(f);
}

/* Write the first k known chunks of f as a part and forget them. */
static int write_part(lmd_ingest *in, struct pend_file *f, uint32_t k)
{
	lmd_part_ref pr;
	int r;

	if (!f->failed) {
		if (f->nparts >= LMD_FILEP_MAX_PARTS)
			return lmd_error_set(LMD_ETOOBIG, "a file of more than %u parts is over the limit",
					     (unsigned)LMD_FILEP_MAX_PARTS);
		if (f->nparts == f->aparts) {
			uint32_t n = f->aparts ? f->aparts * 2 : 8;
			lmd_part_ref *np;
			if (!(np = lmd_reallocarray(f->parts, n, sizeof(*np))))
				return -ENOMEM;
			f->parts = np;
			f->aparts = n;
		}
		pr.nchunks = k;
		if ((r = lmd_part_encode(f->chunks, k, &in->flbuf, &pr.id, &pr.size)) < 0 ||
		    (r = lmd_packer_put(in->pk, LMD_OBJ_PART, &pr.id, in->flbuf.ptr, in->flbuf.len)) < 0)
			return r;
		f->parts[f->nparts++] = pr;
	}
	memmove(f->chunks, f->chunks + k, (size_t)(f->nchunks - f->base - k) * sizeof(*f->chunks));
	f->base += k;
	return 0;
}

/*
 * Write the parts of f that its known chunks decide.  A file becomes a
 * list of parts once more than part_chunks of its chunks are known (until
 * then it may still get a flat list); with `last` (all chunks known) the
 * rest is its last part.
 */
static int flush_parts(lmd_ingest *in, struct pend_file *f, bool last)
{
	uint32_t max = in->part_chunks;
	int r;

	for (;;) {
		uint64_t avail = f->resolved - f->base;
		uint32_t k;
		if (!f->parted) {
			if (avail <= max)
				return 0;
			f->parted = true;
		}
		k = lmd_part_cut(f->chunks, (uint32_t)LMD_MIN(avail, (uint64_t)max), max);
		if (!k) {
			if (!last || !avail)
				return 0;
			k = (uint32_t)avail;
		}
		if ((r = write_part(in, f, k)) < 0)
			return r;
	}
}

/* Files whose chunks are all known get their file list, in order. */
static int settle_files(lmd_ingest *in)
{
	int r;
	while (in->files_head && in->files_head->read_done && in->files_head->resolved == in->files_head->nchunks) {
		struct pend_file *f = in->files_head;
		if ((r = flush_parts(in, f, true)) < 0)
			return r;
		if (f->failed) {
			/* nothing refers to what was stored of it */
		} else if (f->parted) {
			if ((r = lmd_fileparts_encode(f->size, f->parts, f->nparts, &in->flbuf)) < 0 ||
			    (r = lmd_packer_put(in->pk, LMD_OBJ_FILE, &f->id, in->flbuf.ptr, in->flbuf.len)) < 0)
				return r;
		} else if (f->nchunks > 1) {
			if ((r = lmd_filelist_encode(f->size, f->chunks, (uint32_t)f->nchunks, &in->flbuf)) < 0 ||
			    (r = lmd_packer_put(in->pk, LMD_OBJ_FILE, &f->id, in->flbuf.ptr, in->flbuf.len)) < 0)
				return r;
		}
		in->files_head = f->next;
		if (!in->files_head)
			in->files_tail = NULL;
		pend_free(f);
	}
	return 0;
}

/* Wait for the oldest batch and consume it. */
static int retire_one(lmd_ingest *in)
{
	struct batch *b = in->ring[in->head];
	int r = 0;

	lmd_pool_wait(in->pool, &b->job);
	in->head = (in->head + 1) % in->max_inflight;
	in->count--;
	if (b->job.result < 0) {
		r = lmd_error_set(b->job.result, "%s", b->job.err);
		goto done;
	}
	if (b->out.len && (r = lmd_packer_add_encoded(in->pk, b->out.ptr, b->out.len)) < 0)
		goto done;
	for (uint32_t i = 0; i < b->nrecs; i++) {
		struct chunk_rec *c = &b->recs[i];
		struct pend_file *f = c->file;
		f->chunks[c->index - f->base].id = c->id;
		f->resolved++;
		/* A big file's parts are written as soon as they are known. */
		if (f->resolved - f->base >= in->part_chunks + (f->parted ? 0u : 1u) &&
		    (r = flush_parts(in, f, false)) < 0)
			goto done;
	}
	r = settle_files(in);
done:
	in->free_list[in->nfree++] = b;
	return r;
}

static int submit_cur(lmd_ingest *in)
{
	int r;
	if (!in->cur || !in->cur->nrecs)
		return 0;
	if (in->count == in->max_inflight && (r = retire_one(in)) < 0)
		return r;
	{
		struct batch *b = in->cur;
		in->ring[(in->head + in->count) % in->max_inflight] = b;
		in->count++;
		in->cur = NULL;
		lmd_pool_submit(in->pool, &b->job);
	}
	return 0;
}

static int add_chunk(lmd_ingest *in, struct pend_file *f, const uint8_t *p, uint32_t len, const lmd_oid *known)
{
	struct batch *b;
	int r;

	if (in->cur && in->cur->raw_len + len > in->cur->raw_cap)
		if ((r = submit_cur(in)) < 0)
			return r;
	if (!in->cur && !(in->cur = batch_get(in)))
		return -ENOMEM;
	b = in->cur;
	if (b->nrecs == b->arecs) {
		uint32_t n = b->arecs ? b->arecs * 2 : 64;
		struct chunk_rec *nr = lmd_reallocarray(b->recs, n, sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		b->recs = nr;
		lmd_blk_entry *ne = lmd_reallocarray(b->ents, n, sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		b->ents = ne;
		b->arecs = n;
	}
	if (f->nchunks - f->base == f->achunks) {
		size_t n = f->achunks ? f->achunks * 2 : 4;
		lmd_chunk_ref *nc = lmd_reallocarray(f->chunks, n, sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		f->chunks = nc;
		f->achunks = n;
	}
	f->chunks[f->nchunks - f->base].len = len;
	memcpy(b->raw + b->raw_len, p, len);
	b->recs[b->nrecs] = (struct chunk_rec){ .off = b->raw_len, .len = len, .file = f,
						.index = f->nchunks, .known = known != NULL };
	if (known)
		b->recs[b->nrecs].id = *known;
	b->nrecs++;
	b->raw_len += len;
	f->nchunks++;
	if (b->raw_len >= in->block_target)
		return submit_cur(in);
	return 0;
}

static bool same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec && a->st_ino == b->st_ino;
}

int lmd_ingest_file(lmd_ingest *in, int fd, const struct stat *st, const char *display, lmd_oid *ret_id)
{
	const lmd_chunker *ch = in->ch;
	size_t cap = LMD_MAX(READ_BUF, 2 * ch->max);
	size_t start = 0, end = 0;
	uint64_t total = 0;
	bool eof = false;
	struct pend_file *f;
	struct stat after;
	int r;

	f = lmd_calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	if ((r = lmd_sha256_init(in->fh)) < 0) {
		free(f);
		return r;
	}
	lmd_cutter_reset(&in->cutter);
	/* Queue the file now: batches resolve its chunks in order. */
	if (in->files_tail)
		in->files_tail->next = f;
	else
		in->files_head = f;
	in->files_tail = f;

	for (;;) {
		if (!eof && end - start < ch->max) {
			if (start) {
				memmove(in->rbuf, in->rbuf + start, end - start);
				end -= start;
				start = 0;
			}
			while (!eof && end < cap) {
				ssize_t n = read(fd, in->rbuf + end, cap - end);
				if (n < 0) {
					if (errno == EINTR)
						continue;
					r = lmd_errno_path("cannot read", display);
					goto fail;
				}
				if (n == 0) {
					eof = true;
					break;
				}
				lmd_sha256_update(in->fh, in->rbuf + end, (size_t)n);
				end += (size_t)n;
				total += (uint64_t)n;
				in->bytes_read += (uint64_t)n;
				if (in->progress)
					in->progress((uint64_t)n, in->progress_payload);
			}
		}
		if (start == end)
			break;
		size_t cut = lmd_cutter_next(&in->cutter, in->rbuf + start, total - (end - start), end - start);
		if (eof && f->nchunks == 0 && cut == end - start) {
			/* The whole file is one chunk: its id is the chunk's id. */
			lmd_sha256_final(in->fh, &f->id);
			if ((r = add_chunk(in, f, in->rbuf + start, (uint32_t)cut, &f->id)) < 0)
				goto fail;
			start = end;
			goto finished;
		}
		if ((r = add_chunk(in, f, in->rbuf + start, (uint32_t)cut, NULL)) < 0)
			goto fail;
		start += cut;
	}
	lmd_sha256_final(in->fh, &f->id);
finished:
	if (fstat(fd, &after) < 0) {
		r = lmd_errno_path("cannot stat", display);
		goto fail;
	}
	if (total != (uint64_t)st->st_size || !same_stat(st, &after)) {
		r = lmd_error_set(LMD_ECHANGED,
			"'%s' changed while it was being added; nothing was recorded for it: run 'lmdata add' again "
			"once it is no longer being written", display);
		goto fail;
	}
	f->size = total;
	f->read_done = true;
	*ret_id = f->id;
	return settle_files(in);
fail:
	/* Chunks already batched stay (unreferenced, collected by gc); the
	 * record still resolves them so the queue drains, but gets no list. */
	f->failed = true;
	f->read_done = true;
	return r;
}

int lmd_ingest_blob(lmd_ingest *in, const void *data, size_t len, lmd_oid *ret_id)
{
	int r;
	if ((r = lmd_sha256_buf(data, len, ret_id)) < 0)
		return r;
	return lmd_packer_put(in->pk, LMD_OBJ_DATA, ret_id, data, len);
}

int lmd_ingest_finish(lmd_ingest *in)
{
	int r;
	if ((r = submit_cur(in)) < 0)
		return r;
	while (in->count)
		if ((r = retire_one(in)) < 0)
			return r;
	return settle_files(in);
}

void lmd_ingest_free(lmd_ingest *in)
{
	if (!in)
		return;
	/* Wait for workers still holding batches before freeing them. */
	while (in->count) {
		struct batch *b = in->ring[in->head];
		lmd_pool_wait(in->pool, &b->job);
		in->head = (in->head + 1) % in->max_inflight;
		in->count--;
		batch_free(b);
	}
	lmd_pool_free(in->pool);
	batch_free(in->cur);
	for (unsigned i = 0; i < in->nfree; i++)
		batch_free(in->free_list[i]);
	while (in->files_head) {
		struct pend_file *f = in->files_head;
		in->files_head = f->next;
		pend_free(f);
	}
	free(in->ring);
	free(in->free_list);
	free(in->rbuf);
	lmd_cutter_free(&in->cutter);
	lmd_sha256_free(in->fh);
	lmd_buf_release(&in->flbuf);
	free(in);
}

uint64_t lmd_ingest_bytes_read(lmd_ingest *in)
{
	return in->bytes_read;
}

int lmd_hash_fd(int fd, const struct stat *st, const char *display, lmd_oid *ret_id)
{
	enum { BUF = 1 << 20 };
	lmd_sha256 *h = NULL;
	uint8_t *buf = lmd_malloc(BUF);
	uint64_t total = 0;
	struct stat after;
	int r;

	if (!buf)
		return -ENOMEM;
	if ((r = lmd_sha256_new(&h)) < 0 || (r = lmd_sha256_init(h)) < 0)
		goto done;
	for (;;) {
		ssize_t n = read(fd, buf, BUF);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = lmd_errno_path("cannot read", display);
			goto done;
		}
		if (n == 0)
			break;
		lmd_sha256_update(h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	if (fstat(fd, &after) < 0) {
		r = lmd_errno_path("cannot stat", display);
		goto done;
	}
	if (total != (uint64_t)st->st_size || !same_stat(st, &after)) {
		r = lmd_error_set(LMD_ECHANGED, "'%s' changed while it was being read; try again", display);
		goto done;
	}
	r = lmd_sha256_final(h, ret_id);
done:
	lmd_sha256_free(h);
	free(buf);
	return r;
}
