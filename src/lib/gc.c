/*
 * lmd_gc: remove objects that no manifest of the work tree needs.
 *
 * Mark: walk every manifest's trees, file lists and their parts into a set
 * of live ids (any unreadable manifest or missing tree stops gc: it cannot
 * know what that data needs).  Sweep, per pack: all live, keep it; none live, delete
 * it; some live, copy the live objects block by block into new packs,
 * seal those, and only then delete the old pack.  An interruption leaves
 * either the old pack or both (duplicates are harmless), never neither.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chunklist.h"
#include "idspill.h"
#include "oidset.h"
#include "hash.h"
#include "history_int.h"
#include "walk.h"

/* Packs younger than this are never touched: a concurrent add may be about to reference them. */
#define GC_GRACE_DEFAULT 3600

/*
 * The live set: trees, file lists and parts in memory (a few per file and
 * folder), chunks in an external set (idspill.h), so that gc's memory does
 * not grow with the corpus (chunks are 99% of the objects).
 */
struct gc_ctx {
	lmd_store *s;
	lmd_oidset live;
	lmd_idspill *chunks;
};

static bool is_live(const struct gc_ctx *c, const lmd_oid *id)
{
	return lmd_oidset_has(&c->live, id) || (c->chunks && lmd_idspill_has(c->chunks, id));
}

static int mark_tree(const lmd_oid *id, const char *path, void *payload)
{
	int r = lmd_oidset_add(&((struct gc_ctx *)payload)->live, id);
	(void)path;
	/* marked before: so is everything below it (any tree gc cannot read stops gc) */
	return r < 0 ? -ENOMEM : r == 0 ? LMD_WALK_SKIP : 0;
}

/* A part already marked had its chunks marked before it: versions of a
 * big file share most of their parts, and history walks each once. */
static int mark_part(const lmd_part_ref *p, void *payload)
{
	return lmd_oidset_has(&((struct gc_ctx *)payload)->live, &p->id) ? LMD_CHUNKLIST_SKIP : 0;
}

static int mark_chunks(const lmd_part_ref *part, const lmd_chunk_ref *ch, uint32_t n, void *payload)
{
	struct gc_ctx *c = payload;
	int r;
	for (uint32_t i = 0; i < n; i++)
		if ((r = lmd_idspill_add(c->chunks, &ch[i].id)) < 0)
			return r;
	return part && lmd_oidset_add(&c->live, &part->id) < 0 ? -ENOMEM : 0;
}

static int mark_file(const char *path, const lmd_tree_entry *e, void *payload)
{
	struct gc_ctx *c = payload;
	lmd_chunklist_cbs cbs = { .part = mark_part, .chunks = mark_chunks };
	int r;

	/* A file of one chunk is that chunk. */
	if (e->size && lmd_store_has(c->s, &e->id, LMD_OBJ_DATA))
		return lmd_idspill_add(c->chunks, &e->id);
	/* A chunk list: walked once, however many versions name it. */
	if ((r = lmd_oidset_add(&c->live, &e->id)) <= 0)
		return r < 0 ? -ENOMEM : 0;
	if (e->size == 0)
		return 0;
	if ((r = lmd_chunklist_walk(c->s, &e->id, UINT64_MAX, &cbs, c, NULL)) < 0 && r != -ENOMEM)
		return lmd_error_wrap(r, "cannot read the chunk list of '%s' (run 'lmdata fsck'); nothing was deleted",
				      path);
	return r;
}

struct pack_count {
	uint32_t pack;
	bool young;
	uint64_t live, dead, live_bytes, dead_bytes;
	struct gc_ctx *c;
};

static int count_cb(const lmd_oid *id, const lmd_loc *loc, void *payload)
{
	struct pack_count *pc = payload;
	if (loc->pack != pc->pack)
		return 0;
	if (is_live(pc->c, id)) {
		pc->live++;
		pc->live_bytes += loc->len;
	} else {
		pc->dead++;
		pc->dead_bytes += loc->len;
	}
	return 0;
}

struct blk_ref {
	lmd_loc loc;
};

static int collect_blocks(const lmd_oid *id, const lmd_loc *loc, void *payload)
{
	void **a = payload;
	lmd_buf *b = a[0];
	uint32_t pack = *(uint32_t *)a[1];
	(void)id;
	if (loc->pack != pack)
		return 0;
	return lmd_buf_put(b, loc, sizeof(*loc));
}

static int cmp_loc(const void *x, const void *y)
{
	const lmd_loc *a = x, *b = y;
	return a->block_off < b->block_off ? -1 : a->block_off > b->block_off;
}

/*
 * Objects copied out of old packs, gathered into blocks of about the
 * store's block size before they are compressed: a pack rewritten to drop
 * garbage, and many small packs merged, give full blocks again.
 */
struct rewriter {
	lmd_store *s;
	lmd_packer *pk;
	lmd_zctx *z;
	lmd_buf raw, enc;
	lmd_blk_entry *ents;
	uint32_t nents, aents;
};

static int rw_flush(struct rewriter *w)
{
	int r;
	if (!w->nents)
		return 0;
	if (!w->pk && (r = lmd_packer_new(w->s, &w->pk)) < 0)
		return r;
	if ((r = lmd_block_encode(w->ents, w->nents, w->raw.ptr, (uint32_t)w->raw.len, w->z, &w->enc)) < 0 ||
	    (r = lmd_packer_add_encoded(w->pk, w->enc.ptr, w->enc.len)) < 0)
		return r;
	w->nents = 0;
	lmd_buf_clear(&w->raw);
	return 0;
}

static int rw_add(struct rewriter *w, const lmd_blk_entry *e, const uint8_t *bytes)
{
	int r;
	if (w->nents && (w->raw.len + e->len > lmd_store_options(w->s)->block_target ||
			 w->nents == LMD_BLOCK_MAX_COUNT) &&
	    (r = rw_flush(w)) < 0)
		return r;
	if (w->nents == w->aents) {
		uint32_t n = w->aents ? w->aents * 2 : 256;
		lmd_blk_entry *ne = lmd_reallocarray(w->ents, n, sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		w->ents = ne;
		w->aents = n;
	}
	w->ents[w->nents++] = *e;
	return lmd_buf_put(&w->raw, bytes, e->len);
}

/* Seal everything copied: the new packs exist before any old one goes. */
static int rw_finish(struct rewriter *w)
{
	int r = rw_flush(w);
	if (r == 0 && w->pk)
		r = lmd_packer_finish(w->pk);
	return r;
}

static void rw_release(struct rewriter *w)
{
	lmd_packer_free(w->pk);
	lmd_buf_release(&w->raw);
	lmd_buf_release(&w->enc);
	free(w->ents);
}

/*
 * Copy objects of one pack into the rewriter, block by block: those in
 * c->live (gc), or with `repair`, every object not in `drop` whose bytes
 * still match its hash (damaged ones and unreadable blocks are left out
 * and counted in *dropped).
 */
static int rewrite_pack_ext(struct gc_ctx *c, struct rewriter *w, uint32_t pack, bool repair,
			    const lmd_oidset *drop, uint64_t *dropped)
{
	lmd_buf locs = LMD_BUF_INIT;
	void *args[2] = { &locs, &pack };
	size_t n;
	int r;

	if ((r = lmd_store_foreach_pack(c->s, pack, collect_blocks, args)) < 0)
		goto done;
	n = locs.len / sizeof(lmd_loc);
	qsort(locs.ptr, n, sizeof(lmd_loc), cmp_loc);
	for (size_t i = 0; i < n;) {
		lmd_loc *l = (lmd_loc *)locs.ptr + i;
		lmd_block blk;
		size_t j = i;
		while (j < n && ((lmd_loc *)locs.ptr)[j].block_off == l->block_off)
			j++;
		if ((r = lmd_store_read_block(c->s, l, w->z, &blk)) < 0) {
			if (!repair)
				goto done;
			lmd_error_clear();
			*dropped += j - i; /* the whole block is unreadable */
			i = j;
			continue;
		}
		i = j;
		uint32_t off = 0;
		for (uint32_t k = 0; k < blk.count; k++) {
			lmd_blk_entry *e = &blk.entries[k];
			bool keep = repair ? !lmd_oidset_has(drop, &e->id) : is_live(c, &e->id);
			if (repair && !keep)
				(*dropped)++;
			if (keep) {
				lmd_oid got;
				bool ok = e->type == LMD_OBJ_FILE
					? e->len >= 32 && lmd_sha256_buf(blk.raw + off, e->len - 32, &got) == 0 &&
					  !memcmp(got.id, blk.raw + off + e->len - 32, 32)
					: lmd_sha256_buf(blk.raw + off, e->len, &got) == 0 && !lmd_oid_cmp(&got, &e->id);
				/* Never copy a damaged object into a fresh pack. */
				if (!ok && repair) {
					(*dropped)++;
					off += e->len;
					continue;
				}
				if (!ok) {
					lmd_block_release(&blk);
					r = lmd_error_set(LMD_ECORRUPT, "a live object is damaged; run 'lmdata fsck' "
								       "before gc (nothing was deleted)");
					goto done;
				}
				if ((r = rw_add(w, e, blk.raw + off)) < 0) {
					lmd_block_release(&blk);
					goto done;
				}
			}
			off += e->len;
		}
		lmd_block_release(&blk);
	}
	r = 0;
done:
	lmd_buf_release(&locs);
	return r;
}

static void remove_pack(lmd_store *s, const lmd_oid *pid)
{
	char *i = lmd_store_pack_path(s, pid, "idx"), *p = lmd_store_pack_path(s, pid, "pack");
	/* Multi-pack indexes naming it are rebuilt at the end (midx.c). */
	lmd__store_packs_removed(s);
	/* The index first: without it the pack is invisible. */
	if (i)
		unlink(i);
	if (p)
		unlink(p);
	free(i);
	free(p);
}

/* Leftovers of interrupted writers: temp files, packs without an index. */
static void sweep_leftovers(lmd_store *s, bool dry)
{
	char *dir = lmd_path_join(lmd_store_dir(s), "packs");
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		bool tmp = strstr(de->d_name, ".lmdtmp.") != NULL;
		bool orphan = false;
		if (n == LMD_OID_HEXSZ + 5 && !strcmp(de->d_name + LMD_OID_HEXSZ, ".pack")) {
			char *idx = lmd_asprintf("%s/%.*s.idx", dir, LMD_OID_HEXSZ, de->d_name);
			orphan = idx && access(idx, F_OK) != 0;
			free(idx);
		}
		if ((tmp || orphan) && !dry)
			unlinkat(dirfd(d), de->d_name, 0);
	}
	if (d)
		closedir(d);
	free(dir);
}

/*
 * Temp files that killed commands left in the state folder (stat caches,
 * the log cache, a remote's index cache).  Their writers take no lock, so
 * only those over an hour old go, whatever the grace period: a live writer
 * renames its temp file within moments.
 */
static void sweep_state_tmp(const char *dir, int64_t older_than, bool dry, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;

	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < 3) {
			char *sub = lmd_path_join(dir, de->d_name);
			if (sub)
				sweep_state_tmp(sub, older_than, dry, depth + 1);
			free(sub);
		} else if (S_ISREG(st.st_mode) && lmd_is_tmp_name(de->d_name) && (int64_t)st.st_mtime < older_than &&
			   !dry) {
			unlinkat(dirfd(d), de->d_name, 0);
		}
	}
	if (d)
		closedir(d);
}

struct hist_ctx {
	lmd_repo *r;
	struct gc_ctx *c;
	char **commits;
	size_t n, cap;
	lmd_buf text;
	size_t skipped;
	lmd_oidset seen;    /* commits already listed */
};

/* A hex commit id as a set key (sha1 ids zero-padded). */
static void commit_key(const char *hex, lmd_oid *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < 2 * LMD_OID_RAWSZ && hex[i] && hex[i + 1]; i += 2) {
		char b[3] = { hex[i], hex[i + 1], 0 };
		ret->id[i / 2] = (uint8_t)strtoul(b, NULL, 16);
	}
}

static int commit_cb(const char *id, void *payload)
{
	struct hist_ctx *h = payload;
	lmd_oid key;
	int added;
	commit_key(id, &key);
	if ((added = lmd_oidset_add(&h->seen, &key)) <= 0)
		return added < 0 ? -ENOMEM : 0;
	if (h->n == h->cap) {
		size_t c = h->cap ? h->cap * 2 : 64;
		char **nv = lmd_reallocarray(h->commits, c, sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		h->commits = nv;
		h->cap = c;
	}
	if (!(h->commits[h->n] = lmd_strdup(id)))
		return -ENOMEM;
	h->n++;
	return 0;
}

/* One manifest blob from history: mark what it needs.  A manifest that
 * cannot be read, or whose trees the store lacks, needs nothing gc could
 * keep (its objects are unreachable already): it is skipped. */
static int blob_cb(const char *mpath, const char *unused, const char *blob, void *payload)
{
	struct hist_ctx *h = payload;
	lmd_manifest m = { 0 };
	lmd_walk_cbs cbs = { .tree = mark_tree, .file = mark_file };
	char *path;
	int rc;
	(void)unused;
	if ((rc = lmd_git_blob_read(h->r->git, blob, LMD_MAX_MANIFEST, &h->text)) < 0 ||
	    (rc = lmd__manifest_parse_at(mpath, &h->text, mpath, &m)) < 0) {
		if (rc == -ENOMEM)
			return rc;
		lmd_error_clear();
		h->skipped++;
		return 0;
	}
	path = lmd_strndup(mpath, strlen(mpath) - 4);
	rc = path ? lmd_walk_manifest(h->c->s, path, &m, &cbs, h->c) : -ENOMEM;
	free(path);
	lmd_manifest_release(&m);
	if (rc < 0 && rc != -ENOMEM) {
		lmd_error_clear();
		h->skipped++;
		rc = 0;
	}
	return rc;
}

static int mark_history(lmd_repo *r, struct gc_ctx *c, const lmd_gc_opts *o)
{
	struct hist_ctx h = { .r = r, .c = c };
	int rc;
	rc = lmd_git_scope_commits(r->git, o->scopes, o->revs, o->nrevs, o->since, commit_cb, &h);
	if (rc >= 0 && h.n)
		rc = lmd_git_manifest_blobs(r->git, (const char *const *)h.commits, h.n, blob_cb, &h);
	for (size_t i = 0; i < h.n; i++)
		free(h.commits[i]);
	free(h.commits);
	lmd_buf_release(&h.text);
	lmd_oidset_release(&h.seen);
	return rc;
}

int lmd_gc(lmd_repo *r, unsigned flags, lmd_gc_stats *ret_stats)
{
	lmd_gc_opts o = { .scopes = LMD_GC_WORKSPACE, .grace = -1 };
	return lmd_gc_scoped(r, &o, flags, ret_stats);
}

int lmd_gc_scoped(lmd_repo *r, const lmd_gc_opts *opts, unsigned flags, lmd_gc_stats *ret_stats)
{
	struct gc_ctx c = { 0 };
	lmd_gc_stats st = { 0 };
	lmd_dataset *ds = NULL;
	size_t nds = 0;
	struct rewriter w = { 0 };
	struct pack_count *pcs = NULL;
	uint32_t npacks;
	lmd_zctx *z = NULL;
	lmd_oid *old = NULL;
	size_t nold = 0;
	bool dry = flags & LMD_GC_DRY_RUN;
	int64_t grace = GC_GRACE_DEFAULT, now = lmd_now_ns() / 1000000000;
	int rc;

	if ((rc = lmd__repo_lock(r)) < 0 || (rc = lmd__repo_store(r, &c.s)) < 0)
		goto done;
	if ((rc = lmd_store_refresh(c.s)) < 0 || (rc = lmd__datasets(r, &ds, &nds)) < 0)
		goto done;
	if (lmd_store_bad_count(c.s)) {
		const char *msg;
		lmd_store_bad_pack(c.s, 0, &msg);
		rc = lmd_error_set(LMD_ECORRUPT, "%s; gc deletes nothing until then", msg);
		goto done;
	}
	{
		char *state = lmd_path_join(r->lmdir, "state");
		rc = state ? lmd_mkdir_p(state, 0755) : -ENOMEM;
		if (rc == 0)
			rc = lmd_idspill_new(state, lmd__test_gc_ids, &c.chunks);
		free(state);
		if (rc < 0)
			goto done;
	}
	for (size_t i = 0; i < nds; i++) {
		lmd_manifest m = { 0 };
		lmd_walk_cbs cbs = { .tree = mark_tree, .file = mark_file };
		if ((rc = lmd__manifest_read(r, ds[i].mpath, &m)) < 0) {
			lmd_error_wrap(rc, "gc needs every manifest readable; nothing was deleted");
			goto done;
		}
		rc = lmd_walk_manifest(c.s, ds[i].path, &m, &cbs, &c);
		lmd_manifest_release(&m);
		if (rc < 0)
			goto done;
	}
	if ((rc = mark_history(r, &c, opts)) < 0) {
		lmd_error_wrap(rc, "cannot read the history gc must keep; nothing was deleted");
		goto done;
	}
	if ((rc = lmd_idspill_finish(c.chunks)) < 0)
		goto done;
	{
		const char *env = getenv("LMDATA_GC_GRACE_SECONDS");
		grace = opts->grace >= 0 ? opts->grace : env && *env ? strtoll(env, NULL, 10) : GC_GRACE_DEFAULT;
		if (grace < 0)
			grace = 0;
	}
	if ((rc = lmd_zctx_new(r->level, &z)) < 0)
		goto done;
	w.s = c.s;
	w.z = z;
	npacks = lmd_store_pack_count(c.s);
	old = lmd_calloc(npacks + 1, sizeof(*old));
	pcs = lmd_calloc(npacks + 1, sizeof(*pcs));
	if (!old || !pcs) {
		rc = -ENOMEM;
		goto done;
	}
	/* Count each pack's live and dead objects; packs written in the grace
	 * period are kept whole (a concurrent add may be about to use them). */
	uint64_t small = lmd_store_options(c.s)->pack_target / 2;
	uint32_t nsmall = 0;
	for (uint32_t p = 0; p < npacks; p++) {
		pcs[p] = (struct pack_count){ .pack = p, .c = &c };
		if ((rc = lmd_store_foreach_pack(c.s, p, count_cb, &pcs[p])) < 0)
			goto done;
		pcs[p].young = (int64_t)lmd_store_pack_mtime(c.s, p) > now - grace;
		if (!pcs[p].young && pcs[p].live && lmd_store_pack_size(c.s, p) < small)
			nsmall++;
	}
	/* Sweep: a pack with no live object goes, one with some garbage is
	 * rewritten without it, and small packs (each 'add' seals its own)
	 * are merged into full ones once there are two or more. */
	for (uint32_t p = 0; p < npacks; p++) {
		struct pack_count *pc = &pcs[p];
		uint64_t size = lmd_store_pack_size(c.s, p);
		bool merge = nsmall >= 2 && !pc->young && pc->live && size < small;
		st.bytes_before += size;
		if (pc->young) {
			st.objects_kept += pc->live + pc->dead;
			st.bytes_after += size;
			continue;
		}
		st.objects_kept += pc->live;
		st.objects_removed += pc->dead;
		if (pc->dead == 0 && !merge) {
			st.bytes_after += size;
			continue;
		}
		if (pc->live == 0) {
			st.packs_removed++;
		} else {
			uint64_t tot = pc->live_bytes + pc->dead_bytes;
			if (pc->dead)
				st.packs_rewritten++;
			else
				st.packs_merged++;
			st.bytes_after += tot ? (uint64_t)((double)size * (double)pc->live_bytes / (double)tot) : 0;
			if (!dry && (rc = rewrite_pack_ext(&c, &w, p, false, NULL, NULL)) < 0)
				goto done;
		}
		old[nold++] = *lmd_store_pack_id(c.s, p);
	}
	if (!dry) {
		/* New packs are sealed before any old one goes. */
		if ((rc = rw_finish(&w)) < 0)
			goto done;
		for (size_t i = 0; i < nold; i++)
			remove_pack(c.s, &old[i]);
		if (nold)
			lmd_fsync_dir(lmd_store_dir(c.s));
	}
	sweep_leftovers(c.s, dry);
	{
		char *state = lmd_path_join(r->lmdir, "state");
		if (state)
			sweep_state_tmp(state, now - 3600, dry, 0);
		free(state);
	}
	rc = 0;
done:
	if (ret_stats)
		*ret_stats = st;
	rw_release(&w);
	lmd_zctx_free(z);
	free(pcs);
	free(old);
	lmd_idspill_free(c.chunks);
	lmd_oidset_release(&c.live);
	lmd__datasets_free(ds, nds);
	lmd__repo_unlock(r);
	return rc;
}

int lmd__store_repair(lmd_repo *r, const lmd_oidset *bad_packs, const lmd_oidset *bad_objs, uint64_t *ret_dropped)
{
	struct gc_ctx c = { 0 };
	struct rewriter w = { 0 };
	lmd_zctx *z = NULL;
	lmd_oid *old = NULL;
	size_t nold = 0;
	uint64_t dropped = 0;
	int rc;

	if ((rc = lmd__repo_lock(r)) < 0 || (rc = lmd__repo_store(r, &c.s)) < 0 ||
	    (rc = lmd_zctx_new(r->level, &z)) < 0)
		goto done;
	old = lmd_calloc(lmd_store_pack_count(c.s) + 1, sizeof(*old));
	if (!old) {
		rc = -ENOMEM;
		goto done;
	}
	for (uint32_t p = 0; p < lmd_store_pack_count(c.s); p++) {
		if (!lmd_oidset_has(bad_packs, lmd_store_pack_id(c.s, p)))
			continue;
		w.s = c.s;
		w.z = z;
		if ((rc = rewrite_pack_ext(&c, &w, p, true, bad_objs, &dropped)) < 0)
			goto done;
		old[nold++] = *lmd_store_pack_id(c.s, p);
	}
	/* The good objects are sealed in new packs before the old ones go. */
	if ((rc = rw_finish(&w)) < 0)
		goto done;
	for (size_t i = 0; i < nold; i++)
		remove_pack(c.s, &old[i]);
	if (nold)
		lmd_fsync_dir(lmd_store_dir(c.s));
	*ret_dropped = dropped;
	rc = 0;
done:
	rw_release(&w);
	lmd_zctx_free(z);
	free(old);
	lmd__repo_unlock(r);
	return rc;
}
