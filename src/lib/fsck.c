/*
 * lmd_fsck: verify the whole store (every pack's checksum, every object's
 * sha256) and that every object the work tree's manifests need is present
 * and intact; name the tracked files that a damaged or missing object
 * breaks.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunklist.h"
#include "oidset.h"
#include "pool.h"
#include "walk.h"

struct fsck_ctx {
	lmd_repo *r;
	lmd_store *s;
	lmd_fsck_cb cb;
	void *payload;
	lmd_oidset bad, bad_packs;
	lmd_fsck_stats st;
	int problems;
};

static void report(struct fsck_ctx *c, const lmd_oid *pack, const lmd_oid *obj, const char *what, const char *path)
{
	char ph[LMD_OID_HEXSZ + 1], oh[LMD_OID_HEXSZ + 1];
	const char *paths[2] = { path, NULL };
	lmd_fsck_problem p = { .what = what, .paths = paths };
	if (pack) {
		lmd_oid_fmt(ph, pack);
		p.pack = ph;
	}
	if (obj) {
		lmd_oid_fmt(oh, obj);
		p.object = oh;
	}
	c->problems++;
	if (c->cb)
		c->cb(&p, c->payload);
}

static void bad_cb(const lmd_oid *pack, const lmd_oid *id, const char *what, void *payload)
{
	struct fsck_ctx *c = payload;
	if (id)
		lmd_oidset_add(&c->bad, id);
	lmd_oidset_add(&c->bad_packs, pack);
	c->st.damaged++;
	report(c, pack, id, what, NULL);
}

/*
 * Packs are verified in parallel, one pool job each (the store's pack
 * access is locked; each worker has its own zstd context).  A job keeps
 * the damage it finds and the caller replays it in pack order, so reports
 * come out as a sequential run gives them.  Memory: the jobs in flight
 * (twice the threads), each a read buffer, a block and its reports.
 */
struct vrep {
	lmd_oid pack, id;
	bool has_id;
	char *what;
};

struct vjob {
	lmd_job job;            /* first: the pool hands this back */
	struct fsck_ctx *c;
	uint32_t pack;
	struct vrep *v;
	size_t n, cap;
	bool oom;
};

static void collect_cb(const lmd_oid *pack, const lmd_oid *id, const char *what, void *payload)
{
	struct vjob *j = payload;
	if (j->oom)
		return;
	if (j->n == j->cap) {
		size_t c = j->cap ? j->cap * 2 : 8;
		struct vrep *nv = lmd_reallocarray(j->v, c, sizeof(*nv));
		if (!nv) {
			j->oom = true;
			return;
		}
		j->v = nv;
		j->cap = c;
	}
	j->v[j->n] = (struct vrep){ .pack = *pack, .has_id = id != NULL, .what = lmd_strdup(what) };
	if (id)
		j->v[j->n].id = *id;
	if (!j->v[j->n].what) {
		j->oom = true;
		return;
	}
	j->n++;
}

static void verify_fn(lmd_job *job, lmd_worker_ctx *w)
{
	struct vjob *j = (struct vjob *)job;
	int r = lmd_store_verify_pack(j->c->s, j->pack, w->z, collect_cb, j, NULL);
	if (r >= 0 && j->oom)
		r = -ENOMEM;
	job->result = r;
	if (r < 0)
		lmd_job_fail(job, r);
}

static void vjob_reset(struct vjob *j)
{
	for (size_t i = 0; i < j->n; i++)
		free(j->v[i].what);
	free(j->v);
	memset(j, 0, sizeof(*j));
}

/* Every pack, in parallel; damage reported in pack order. */
static int verify_packs(struct fsck_ctx *c)
{
	uint32_t npacks = lmd_store_pack_count(c->s);
	unsigned jobs = lmd__repo_jobs(c->r), window = jobs * 2;
	struct vjob *ring = NULL;
	lmd_pool *pool = NULL;
	uint32_t next = 0, head = 0, end = npacks;
	int rc;

	if (npacks == 0)
		return 0;
	if ((rc = lmd_pool_new(jobs > 1 ? jobs - 1 : 0, 1, 1, &pool)) < 0)
		return rc;
	if (!(ring = lmd_calloc(window, sizeof(*ring)))) {
		lmd_pool_free(pool);
		return -ENOMEM;
	}
	rc = 0;
	while (head < end) {
		while (next < end && next - head < window) {
			struct vjob *j = &ring[next % window];
			j->job.fn = verify_fn;
			j->c = c;
			j->pack = next++;
			lmd_pool_submit(pool, &j->job);
		}
		struct vjob *j = &ring[head % window];
		lmd_pool_wait(pool, &j->job);
		if (rc == 0 && j->job.result < 0)
			rc = lmd_error_set(j->job.result, "%s", j->job.err);
		for (size_t i = 0; rc == 0 && i < j->n; i++)
			bad_cb(&j->v[i].pack, j->v[i].has_id ? &j->v[i].id : NULL, j->v[i].what, c);
		if (rc == 0) {
			c->st.packs++;
			c->st.bytes += lmd_store_pack_size(c->s, head);
			lmd__progress_add(c->r, lmd_store_pack_size(c->s, head), 1);
		}
		vjob_reset(j);
		head++;
		if (rc < 0)
			end = next;   /* submit no more; wait for those in flight */
	}
	lmd_pool_free(pool);
	free(ring);
	return rc;
}

/* Is this object present and undamaged?  Sets a message for the caller. */
static const char *obj_problem(struct fsck_ctx *c, const lmd_oid *id, int type)
{
	if (lmd_oidset_has(&c->bad, id))
		return "uses a damaged object";
	if (!lmd_store_has(c->s, id, type))
		return "uses an object missing from the store";
	return NULL;
}

struct file_check {
	struct fsck_ctx *c;
	const char *path;
};

/* A part (of a big file's chunk list) must be there and intact before it is read. */
static int check_part(const lmd_part_ref *p, void *payload)
{
	struct file_check *fc = payload;
	const char *why = NULL;
	if (lmd_oidset_has(&fc->c->bad, &p->id))
		why = "uses a damaged part of its chunk list";
	else if (!lmd_store_has(fc->c->s, &p->id, LMD_OBJ_PART))
		why = "uses a part of its chunk list missing from the store";
	if (!why)
		return 0;
	if (!lmd_store_has(fc->c->s, &p->id, 0))
		fc->c->st.missing++;
	report(fc->c, NULL, &p->id, why, fc->path);
	return LMD_CHUNKLIST_STOP; /* one problem per file is enough to name it */
}

static int check_chunks(const lmd_part_ref *part, const lmd_chunk_ref *ch, uint32_t n, void *payload)
{
	struct file_check *fc = payload;
	const char *why;
	(void)part;
	for (uint32_t i = 0; i < n; i++)
		if ((why = obj_problem(fc->c, &ch[i].id, LMD_OBJ_DATA))) {
			if (!lmd_store_has(fc->c->s, &ch[i].id, 0))
				fc->c->st.missing++;
			report(fc->c, NULL, &ch[i].id, why, fc->path);
			return LMD_CHUNKLIST_STOP;
		}
	return 0;
}

static int check_file(const char *path, const lmd_tree_entry *e, void *payload)
{
	struct fsck_ctx *c = payload;
	struct file_check fc = { c, path };
	lmd_chunklist_cbs cbs = { .part = check_part, .chunks = check_chunks };
	lmd_oid bad;
	lmd_loc loc;
	const char *why;
	int r;

	if (e->mode != LMD_MODE_LINK && e->size == 0)
		return 0;
	if (lmd_store_find(c->s, &e->id, LMD_OBJ_DATA, &loc) == 0) {
		if ((why = obj_problem(c, &e->id, LMD_OBJ_DATA))) {
			report(c, NULL, &e->id, why, path);
		}
		return 0;
	}
	if ((why = obj_problem(c, &e->id, LMD_OBJ_FILE))) {
		if (!lmd_store_has(c->s, &e->id, 0))
			c->st.missing++;
		report(c, NULL, &e->id, why, path);
		return 0;
	}
	bad = e->id;
	if ((r = lmd_chunklist_walk(c->s, &e->id, e->size, &cbs, &fc, &bad)) < 0) {
		if (r == -ENOMEM)
			return r;
		report(c, NULL, &bad, lmd_oid_cmp(&bad, &e->id) ? "a part of its chunk list is damaged"
								: "its chunk list is damaged", path);
		lmd_error_clear();
	}
	return 0;
}

static int check_tree(const lmd_oid *id, const char *path, void *payload)
{
	struct fsck_ctx *c = payload;
	const char *why = obj_problem(c, id, LMD_OBJ_TREE);
	if (why) {
		report(c, NULL, id, why, path);
		return LMD_ECORRUPT; /* cannot descend: stop this dataset */
	}
	return 0;
}

static int count_entry(const lmd_oid *id, const lmd_loc *loc, void *payload)
{
	(void)id;
	(void)loc;
	((struct fsck_ctx *)payload)->st.objects++;
	return 0;
}

static void midx_bad(const char *path, bool removed, void *payload)
{
	struct fsck_ctx *c = payload;
	char msg[PATH_MAX + 160];
	if (removed)
		return;   /* nothing was lost: the next writer builds a new one */
	snprintf(msg, sizeof(msg), "multi-pack index '%s' is damaged (a lookup cache: "
		 "'lmdata fsck --repair' deletes it and the next add rebuilds it)", path);
	c->st.damaged++;
	report(c, NULL, NULL, msg, NULL);
}

int lmd_fsck(lmd_repo *r, lmd_fsck_cb cb, void *payload, lmd_fsck_stats *ret_stats)
{
	return lmd_fsck_ext(r, 0, cb, payload, ret_stats);
}

int lmd_fsck_ext(lmd_repo *r, unsigned flags, lmd_fsck_cb cb, void *payload, lmd_fsck_stats *ret_stats)
{
	struct fsck_ctx c = { .r = r, .cb = cb, .payload = payload };
	lmd_dataset *ds = NULL;
	size_t nds = 0;
	uint64_t total = 0;
	int rc;

	if ((rc = lmd__repo_store(r, &c.s)) < 0)
		goto done;
	/* Packs whose index is damaged: rebuild the index from the pack
	 * (repair), or report them. */
	if ((flags & LMD_FSCK_REPAIR) && lmd_store_bad_count(c.s)) {
		if ((rc = lmd__repo_lock(r)) < 0)
			goto done;
		for (uint32_t i = 0; i < lmd_store_bad_count(c.s); i++) {
			uint64_t dropped = 0;
			if ((rc = lmd_store_reindex_pack(c.s, lmd_store_bad_pack(c.s, i, NULL), &dropped)) < 0)
				goto done;
			c.st.dropped += dropped;
		}
		lmd__repo_unlock(r);
		lmd_store_free(r->store);
		r->store = NULL;
		if ((rc = lmd__repo_store(r, &c.s)) < 0)
			goto done;
	}
	for (uint32_t i = 0; i < lmd_store_bad_count(c.s); i++) {
		const char *msg;
		const lmd_oid *pid = lmd_store_bad_pack(c.s, i, &msg);
		c.st.damaged++;
		report(&c, pid, NULL, msg, NULL);
	}
	/* Multi-pack indexes: a damaged one could hide objects. */
	if ((rc = lmd__store_check_midx(c.s, flags & LMD_FSCK_REPAIR, midx_bad, &c)) < 0)
		goto done;
	if (rc > 0 && (flags & LMD_FSCK_REPAIR)) {
		/* Look objects up without the removed ones from now on. */
		lmd_store_free(r->store);
		r->store = NULL;
		if ((rc = lmd__repo_store(r, &c.s)) < 0)
			goto done;
	}
	for (uint32_t i = 0; i < lmd_store_pack_count(c.s); i++)
		total += lmd_store_pack_size(c.s, i);
	lmd_store_foreach(c.s, count_entry, &c);
	lmd__progress_start(r, "verifying", total, lmd_store_pack_count(c.s));
	if ((rc = verify_packs(&c)) < 0)
		goto done;
	lmd__progress_end(r);
	if ((flags & LMD_FSCK_REPAIR) && c.bad_packs.n) {
		if ((rc = lmd__store_repair(r, &c.bad_packs, &c.bad, &c.st.dropped)) < 0)
			goto done;
		/* Reopen: the damaged packs are gone, their good objects moved. */
		lmd_store_free(r->store);
		r->store = NULL;
		if ((rc = lmd__repo_store(r, &c.s)) < 0)
			goto done;
		lmd_oidset_release(&c.bad);
	}
	if ((rc = lmd__datasets(r, &ds, &nds)) < 0)
		goto done;
	for (size_t i = 0; i < nds; i++) {
		lmd_manifest m = { 0 };
		lmd_walk_cbs cbs = { .tree = check_tree, .file = check_file };
		if (lmd__manifest_read(r, ds[i].mpath, &m) < 0) {
			report(&c, NULL, NULL, lmd_error_last(), ds[i].mpath);
			lmd_error_clear();
			continue;
		}
		rc = lmd_walk_manifest(c.s, ds[i].path, &m, &cbs, &c);
		lmd_manifest_release(&m);
		if (rc == -ENOMEM)
			goto done;
		if (rc < 0 && rc != LMD_ECORRUPT) {
			report(&c, NULL, NULL, lmd_error_last(), ds[i].path);
		}
		lmd_error_clear();
	}
	rc = c.problems;
done:
	lmd__progress_end(r);
	if (ret_stats)
		*ret_stats = c.st;
	lmd__datasets_free(ds, nds);
	lmd_oidset_release(&c.bad);
	lmd_oidset_release(&c.bad_packs);
	return rc;
}
