/*
 * The restore pipeline (see restore.h).
 *
 *   workers:  read block -> decompress (-> sha256 of chunks, see below)
 *   caller:   write the chunks in order into temp files
 *   hasher:   sha256 of each whole file, in order, beside the writes
 *
 * The caller and the hasher also decompress queued blocks whenever they
 * would otherwise wait (pool.h), so `jobs` threads in all do the work.
 *
 * A file of one chunk has the chunk's id as its id: the worker checks it.
 * Files of several chunks are hashed whole by the hasher thread, which the
 * caller waits for before renaming a file into place; that covers every
 * chunk, and the list of chunks is never trusted on its own (a hostile
 * list would name the wrong chunks).  Only bytes streamed to a descriptor
 * (cat) are checked chunk by chunk, since they cannot be taken back.
 *
 * Memory: the blocks in flight, and of a big file's chunk list one part
 * at a time (chunklist.h).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "chunklist.h"
#include "pool.h"
#include "restore.h"

struct out_file {
	char *abs, *rel, *tmp;
	int fd;
	bool own_fd;
	lmd_oid id;
	uint64_t size, written;
	bool exec, started;
	bool whole_hash;        /* several chunks: the hasher digests it */
	bool streaming;         /* written to the caller's descriptor (no temp file) */
	bool hash_done;         /* set by the hasher (under its lock) */
	lmd_oid got;            /* the hasher's result */
	struct out_file *next;
};

struct slice {
	struct out_file *f;
	uint32_t raw_off, len;
	bool hash;              /* copy of f->whole_hash: f may be gone otherwise */
	bool verify;            /* check this chunk's own hash (see add_slice) */
	lmd_oid id;
};

struct task {
	lmd_job job;
	lmd_store *store;
	lmd_loc loc;
	struct slice *sl;
	uint32_t n, cap;
	lmd_block blk;
	struct task *hnext;     /* hasher queue link */
	int refs;               /* the caller's and the hasher's */
};

/* The whole-file digest thread. */
struct hasher {
	pthread_t th;
	bool running, stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct task *head, *tail;
	unsigned queued;
	lmd_sha256 *h;
	lmd_pool *pool;         /* whose queued blocks it decompresses when idle */
	struct out_file *cur;
	uint64_t cur_done;
};

struct lmd_restore {
	lmd_store *s;
	lmd_pool *pool;
	unsigned max_inflight;
	struct task **ring;
	unsigned head, count;
	struct task *cur;
	struct out_file *files_head, *files_tail;
	struct hasher hs;
	lmd_restore_done done;
	void *payload;
	void (*progress)(uint64_t, uint64_t, void *);
	void *progress_payload;
};

static void task_work(lmd_job *job, lmd_worker_ctx *w)
{
	struct task *t = (struct task *)job;
	int r = lmd_store_read_block(t->store, &t->loc, w->z, &t->blk);
	if (r < 0) {
		lmd_job_fail(job, r);
		return;
	}
	for (uint32_t i = 0; i < t->n; i++) {
		struct slice *s = &t->sl[i];
		lmd_oid got;
		if (s->raw_off > t->blk.raw_len || s->len > t->blk.raw_len - s->raw_off) {
			lmd_error_set(LMD_ECORRUPT, "a chunk of '%s' lies outside its block", s->f->rel);
			lmd_job_fail(job, LMD_ECORRUPT);
			return;
		}
		if (!s->verify)
			continue;
		lmd_sha256_init(w->h);
		lmd_sha256_update(w->h, t->blk.raw + s->raw_off, s->len);
		lmd_sha256_final(w->h, &got);
		if (lmd_oid_cmp(&got, &s->id) != 0) {
			char hex[LMD_OID_HEXSZ + 1], phex[LMD_OID_HEXSZ + 1];
			lmd_oid_fmt(hex, &s->id);
			lmd_oid_fmt(phex, lmd_store_pack_id(t->store, t->loc.pack));
			lmd_error_set(LMD_ECORRUPT,
				"chunk %.16s of '%s' is corrupt in pack %.16s (its bytes do not match its hash); "
				"nothing was written: run 'lmdata fsck'", hex, s->f->rel, phex);
			lmd_job_fail(job, LMD_ECORRUPT);
			return;
		}
	}
	job->result = 0;
}

#define HASHER_QUEUE 8

static void task_free(struct task *t)
{
	lmd_block_release(&t->blk);
	free(t->sl);
	free(t);
}

/* Drop one reference; the last one frees the task. */
static void task_release(struct task *t)
{
	if (__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0)
		task_free(t);
}

static void *hasher_main(void *arg)
{
	struct hasher *hs = arg;
	for (;;) {
		struct task *t;
		pthread_mutex_lock(&hs->lock);
		while (!hs->head && !hs->stop) {
			/* Nothing to digest yet: decompress what is queued. */
			pthread_mutex_unlock(&hs->lock);
			bool ran = lmd_pool_help(hs->pool, 1);
			pthread_mutex_lock(&hs->lock);
			if (!ran && !hs->head && !hs->stop)
				pthread_cond_wait(&hs->cond, &hs->lock);
		}
		if (!hs->head) {
			pthread_mutex_unlock(&hs->lock);
			return NULL;
		}
		t = hs->head;
		hs->head = t->hnext;
		if (!hs->head)
			hs->tail = NULL;
		pthread_mutex_unlock(&hs->lock);
		for (uint32_t i = 0; i < t->n; i++) {
			struct slice *sl = &t->sl[i];
			if (!sl->hash)
				continue;
			if (hs->cur != sl->f) {
				/* Files arrive in order: a new one starts. */
				hs->cur = sl->f;
				hs->cur_done = 0;
				lmd_sha256_init(hs->h);
			}
			lmd_sha256_update(hs->h, t->blk.raw + sl->raw_off, sl->len);
			hs->cur_done += sl->len;
			if (hs->cur_done == sl->f->size) {
				lmd_oid got;
				lmd_sha256_final(hs->h, &got);
				pthread_mutex_lock(&hs->lock);
				sl->f->got = got;
				sl->f->hash_done = true;
				hs->cur = NULL;
				pthread_cond_broadcast(&hs->cond);
				pthread_mutex_unlock(&hs->lock);
			}
		}
		task_release(t);
		pthread_mutex_lock(&hs->lock);
		hs->queued--;
		pthread_cond_broadcast(&hs->cond);
		pthread_mutex_unlock(&hs->lock);
	}
}

/* Share a decoded task with the hasher (it drops its reference when done);
 * waits while the hasher lags too far behind. */
static void hasher_push(struct hasher *hs, struct task *t)
{
	pthread_mutex_lock(&hs->lock);
	while (hs->queued >= HASHER_QUEUE)
		pthread_cond_wait(&hs->cond, &hs->lock);
	t->hnext = NULL;
	if (hs->tail)
		hs->tail->hnext = t;
	else
		hs->head = t;
	hs->tail = t;
	hs->queued++;
	pthread_cond_broadcast(&hs->cond);
	pthread_mutex_unlock(&hs->lock);
}

static void hasher_wait_file(struct hasher *hs, struct out_file *f)
{
	pthread_mutex_lock(&hs->lock);
	while (!f->hash_done)
		pthread_cond_wait(&hs->cond, &hs->lock);
	pthread_mutex_unlock(&hs->lock);
}

static void hasher_stop(struct hasher *hs)
{
	if (!hs->running)
		return;
	pthread_mutex_lock(&hs->lock);
	hs->stop = true;
	pthread_cond_broadcast(&hs->cond);
	pthread_mutex_unlock(&hs->lock);
	pthread_join(hs->th, NULL);
	hs->running = false;
}

int lmd_restore_new(lmd_store *s, unsigned jobs, lmd_restore_done done, void *payload, lmd_restore **ret)
{
	lmd_restore *rs = lmd_calloc(1, sizeof(*rs));
	int r;

	if (!rs)
		return -ENOMEM;
	rs->s = s;
	rs->done = done;
	rs->payload = payload;
	rs->max_inflight = 2 * jobs + 2;
	rs->ring = lmd_calloc(rs->max_inflight, sizeof(*rs->ring));
	if (!rs->ring) {
		free(rs);
		return -ENOMEM;
	}
	pthread_mutex_init(&rs->hs.lock, NULL);
	pthread_cond_init(&rs->hs.cond, NULL);
	/* The caller writes and the hasher digests on threads of their own,
	 * and both decompress blocks whenever they would wait (pool.h): two
	 * workers fewer than jobs.  Measured on 2 cores, 512 MiB of JSONL:
	 * no worker and two helpers restore in about 0.8x the time of one
	 * worker beside them (which the scheduler ran in turn with the
	 * hasher, the one sequential stage). */
	if ((r = lmd_sha256_new(&rs->hs.h)) < 0 ||
	    (r = lmd_pool_new(jobs > 2 ? jobs - 2 : 0, 2, 1, &rs->pool)) < 0) {
		lmd_restore_free(rs);
		return r;
	}
	rs->hs.pool = rs->pool;
	if (pthread_create(&rs->hs.th, NULL, hasher_main, &rs->hs) != 0) {
		lmd_restore_free(rs);
		return lmd_error_set(-EAGAIN, "cannot start the hashing thread");
	}
	rs->hs.running = true;
	*ret = rs;
	return 0;
}

void lmd_restore_set_progress(lmd_restore *rs, void (*cb)(uint64_t, uint64_t, void *), void *payload)
{
	rs->progress = cb;
	rs->progress_payload = payload;
}

static void file_free(struct out_file *f, bool unlink_tmp)
{
	if (f->own_fd && f->fd >= 0)
		close(f->fd);
	if (unlink_tmp && f->tmp)
		unlink(f->tmp);
	free(f->abs);
	free(f->rel);
	free(f->tmp);
	free(f);
}

static int file_open(struct out_file *f)
{
	int r;
	if (f->started)
		return 0;
	f->started = true;
	if (f->fd >= 0)
		return 0;
	r = lmd_tmpfile_near(f->abs, f->exec ? 0755 : 0644, &f->tmp);
	if (r < 0)
		return r;
	f->fd = r;
	f->own_fd = true;
	return 0;
}

/* All bytes written: verify the whole file, then put it in place. */
static int file_close(lmd_restore *rs, struct out_file *f)
{
	char hex[LMD_OID_HEXSZ + 1];
	lmd_oid got;
	struct stat st;
	int r;

	if (f->whole_hash) {
		hasher_wait_file(&rs->hs, f);
		got = f->got;
	} else if (f->size) {
		got = f->id; /* one chunk, verified against this id by a worker */
	} else if ((r = lmd_sha256_buf("", 0, &got)) < 0) {
		return r;
	}
	if (lmd_oid_cmp(&got, &f->id) != 0) {
		lmd_oid_fmt(hex, &f->id);
		return lmd_error_set(LMD_ECORRUPT,
			"'%s' does not match its sha256 %.16s after restore; nothing was written: run 'lmdata fsck'",
			f->rel, hex);
	}
	if (!f->own_fd)
		return 0;
	/* Work-tree files are not fsync'd: the store holds their bytes, and
	 * rename still makes the switch atomic for readers. */
	if (close(f->fd) < 0) {
		f->fd = -1;
		return lmd_errno_path("cannot write", f->rel);
	}
	f->fd = -1;
	if (rename(f->tmp, f->abs) < 0)
		return lmd_errno_path("cannot rename into place", f->rel);
	free(f->tmp);
	f->tmp = NULL;
	if (rs->done && lstat(f->abs, &st) == 0)
		rs->done(f->rel, &f->id, &st, rs->payload);
	if (rs->progress)
		rs->progress(0, 1, rs->progress_payload);
	return 0;
}

static int pop_finished(lmd_restore *rs)
{
	int r;
	while (rs->files_head && (rs->files_head->started || rs->files_head->size == 0) &&
	       rs->files_head->written == rs->files_head->size) {
		struct out_file *f = rs->files_head;
		if (!f->started && (r = file_open(f)) < 0)
			return r;
		if ((r = file_close(rs, f)) < 0)
			return r;
		rs->files_head = f->next;
		if (!rs->files_head)
			rs->files_tail = NULL;
		file_free(f, false);
	}
	return 0;
}

static int retire_one(lmd_restore *rs)
{
	struct task *t = rs->ring[rs->head];
	int r = 0;

	lmd_pool_wait(rs->pool, &t->job);
	rs->head = (rs->head + 1) % rs->max_inflight;
	rs->count--;
	if (t->job.result < 0) {
		r = lmd_error_set(t->job.result, "%s", t->job.err);
		task_free(t);
		return r;
	}
	/* The hasher digests this task while it is written: a file that ends
	 * inside it can then be closed (which waits for its digest). */
	t->refs = 2;
	hasher_push(&rs->hs, t);
	for (uint32_t i = 0, j; i < t->n; i = j) {
		struct slice *s = &t->sl[i];
		const uint8_t *p = t->blk.raw + s->raw_off;
		uint64_t len = s->len;
		/* Chunks of one file usually follow each other in the block:
		 * one write for the run, not one per chunk. */
		for (j = i + 1; j < t->n && t->sl[j].f == s->f && t->sl[j].raw_off == s->raw_off + len; j++)
			len += t->sl[j].len;
		/* Files complete in queue order: finish earlier ones first. */
		if ((r = pop_finished(rs)) < 0)
			goto done;
		if ((r = file_open(s->f)) < 0)
			goto done;
		if ((r = lmd_write_all(s->f->fd, p, (size_t)len)) < 0) {
			lmd_error_set(r, "cannot write '%s': %s", s->f->rel, lmd_strerror(r));
			goto done;
		}
		s->f->written += len;
		if (rs->progress)
			rs->progress(len, 0, rs->progress_payload);
	}
	r = pop_finished(rs);
done:
	task_release(t);
	return r;
}

static int submit_cur(lmd_restore *rs)
{
	int r;
	if (!rs->cur)
		return 0;
	if (rs->count == rs->max_inflight && (r = retire_one(rs)) < 0)
		return r;
	rs->ring[(rs->head + rs->count) % rs->max_inflight] = rs->cur;
	rs->count++;
	lmd_pool_submit(rs->pool, &rs->cur->job);
	rs->cur = NULL;
	return 0;
}

static int add_slice(lmd_restore *rs, struct out_file *f, const lmd_oid *cid, uint32_t len)
{
	char hex[LMD_OID_HEXSZ + 1];
	lmd_loc loc;
	int r;

	if (lmd_store_find(rs->s, cid, LMD_OBJ_DATA, &loc) < 0) {
		lmd_oid_fmt(hex, cid);
		return lmd_error_set(LMD_EMISSING,
			"cannot restore '%s': chunk %.16s is not in the local store (fetch it from a remote with "
			"'lmdata pull', or run 'lmdata fsck')", f->rel, hex);
	}
	if (loc.len != len) {
		lmd_oid_fmt(hex, cid);
		return lmd_error_set(LMD_ECORRUPT, "chunk %.16s of '%s' has the wrong length in the store", hex, f->rel);
	}
	if (rs->cur && (rs->cur->loc.pack != loc.pack || rs->cur->loc.block_off != loc.block_off))
		if ((r = submit_cur(rs)) < 0)
			return r;
	if (!rs->cur) {
		rs->cur = lmd_calloc(1, sizeof(*rs->cur));
		if (!rs->cur)
			return -ENOMEM;
		rs->cur->job.fn = task_work;
		rs->cur->store = rs->s;
		rs->cur->loc = loc;
	}
	if (rs->cur->n == rs->cur->cap) {
		uint32_t n = rs->cur->cap ? rs->cur->cap * 2 : 16;
		struct slice *ns = lmd_reallocarray(rs->cur->sl, n, sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		rs->cur->sl = ns;
		rs->cur->cap = n;
	}
	/* A file of several chunks going to a temp file is verified whole
	 * before it is renamed into place, which covers every chunk: hashing
	 * each chunk too would only say which one is bad (fsck does).  Bytes
	 * streamed to a descriptor cannot be taken back, so those chunks are
	 * checked one by one before they are written. */
	rs->cur->sl[rs->cur->n++] = (struct slice){ .f = f, .raw_off = loc.raw_off, .len = len,
						    .hash = f->whole_hash, .verify = !f->whole_hash || f->streaming,
						    .id = *cid };
	return 0;
}

struct list_walk {
	lmd_restore *rs;
	struct out_file *f;
	bool from_cb;           /* the error is a callback's, with its own message */
};

static int on_part(const lmd_part_ref *p, void *payload)
{
	struct list_walk *w = payload;
	char hex[LMD_OID_HEXSZ + 1];
	if (lmd_store_has(w->rs->s, &p->id, LMD_OBJ_PART))
		return 0;
	lmd_oid_fmt(hex, &p->id);
	w->from_cb = true;
	return lmd_error_set(LMD_EMISSING,
		"cannot restore '%s': part %.16s of its chunk list is not in the local store (fetch it with "
		"'lmdata pull', or run 'lmdata fsck')", w->f->rel, hex);
}

static int on_chunks(const lmd_part_ref *part, const lmd_chunk_ref *c, uint32_t n, void *payload)
{
	struct list_walk *w = payload;
	(void)part;
	for (uint32_t i = 0; i < n; i++) {
		int r = add_slice(w->rs, w->f, &c[i].id, c[i].len);
		if (r < 0) {
			w->from_cb = true;
			return r;
		}
	}
	return 0;
}

int lmd_restore_file(lmd_restore *rs, const char *abs, const char *rel, const lmd_oid *id, uint64_t size,
		     bool exec, int fd_out)
{
	struct out_file *f = lmd_calloc(1, sizeof(*f));
	char hex[LMD_OID_HEXSZ + 1];
	lmd_loc loc;
	int r = 0;

	if (!f)
		return -ENOMEM;
	f->abs = lmd_strdup(abs ? abs : "-");
	f->rel = lmd_strdup(rel);
	f->fd = fd_out;
	f->streaming = fd_out >= 0;
	f->id = *id;
	f->size = size;
	f->exec = exec;
	if (!f->abs || !f->rel) {
		file_free(f, false);
		return -ENOMEM;
	}
	if (rs->files_tail)
		rs->files_tail->next = f;
	else
		rs->files_head = f;
	rs->files_tail = f;
	if (size == 0) {
		/* No chunks: created when its turn in the queue comes. */
		if (!rs->cur && rs->count == 0)
			return pop_finished(rs);
		return 0;
	}
	if (lmd_store_find(rs->s, id, LMD_OBJ_DATA, &loc) == 0 && loc.len == size)
		return add_slice(rs, f, id, (uint32_t)size);
	if (lmd_store_find(rs->s, id, LMD_OBJ_FILE, &loc) < 0) {
		lmd_oid_fmt(hex, id);
		return lmd_error_set(LMD_EMISSING,
			"cannot restore '%s': its data (%.16s) is not in the local store (fetch it with 'lmdata pull', "
			"or run 'lmdata fsck')", rel, hex);
	}
	/* A big file's list comes a part at a time: its chunks are queued
	 * (and written as the ring fills) before the next part is read. */
	{
		struct list_walk w = { rs, f };
		lmd_chunklist_cbs cbs = { .part = on_part, .chunks = on_chunks };
		f->whole_hash = true;
		r = lmd_chunklist_walk(rs->s, id, size, &cbs, &w, NULL);
		if (r < 0 && !w.from_cb && r != -ENOMEM)
			lmd_error_wrap(r, "cannot restore '%s'", rel);
	}
	return r;
}

int lmd_restore_finish(lmd_restore *rs)
{
	int r;
	if ((r = submit_cur(rs)) < 0)
		return r;
	while (rs->count)
		if ((r = retire_one(rs)) < 0)
			return r;
	if ((r = pop_finished(rs)) < 0)
		return r;
	if (rs->files_head)
		return lmd_error_set(-EIO, "internal error: '%s' was not completely restored", rs->files_head->rel);
	return 0;
}

void lmd_restore_free(lmd_restore *rs)
{
	if (!rs)
		return;
	while (rs->count) {
		struct task *t = rs->ring[rs->head];
		lmd_pool_wait(rs->pool, &t->job);
		rs->head = (rs->head + 1) % rs->max_inflight;
		rs->count--;
		task_free(t);
	}
	/* The hasher drains its queue before it stops; files are freed after. */
	hasher_stop(&rs->hs);
	if (rs->cur) {
		free(rs->cur->sl);
		free(rs->cur);
	}
	lmd_pool_free(rs->pool);
	while (rs->files_head) {
		struct out_file *f = rs->files_head;
		rs->files_head = f->next;
		file_free(f, true);
	}
	free(rs->ring);
	lmd_sha256_free(rs->hs.h);
	pthread_mutex_destroy(&rs->hs.lock);
	pthread_cond_destroy(&rs->hs.cond);
	free(rs);
}
