/*
 * What the selected datasets need, as read from the local store: every
 * tree, every file's id (a chunk, or a chunk list, its parts if it has
 * any, and its chunks), each once, with its type, length and local pack.
 * Objects the store lacks are listed with type 0; a tree, chunk list or
 * part the store lacks cannot be descended into and is counted as
 * unreadable.  push, status -c, fsck -r and gc -r use this; fetch walks
 * through the remote instead (sync_fetch.c).
 *
 * Memory: the ids of trees, file lists and parts (a few per file) stay in
 * memory, so that versions walk what they share once; every object's
 * record (44 bytes) goes to an idspill, which keeps 8 MiB of them and
 * writes sorted runs to unlinked files in .lmdata/state beyond that.  A
 * chunk that two files share is looked up twice and recorded once.
 */
#include <stdlib.h>
#include <string.h>

#include "chunklist.h"
#include "idspill.h"
#include "pack.h"
#include "sync_int.h"
#include "walk.h"

/* A record: id, type, 3 spare bytes, le32 length, le32 local pack. */
#define NEED_REC 44u

struct need_ctx {
	lmd_store *s;
	lmd_needs *n;
	int failed;     /* recording failed (no memory, a full disk): stop */
};

int lmd__needs_init(lmd_repo *r, lmd_needs *n)
{
	char *state = lmd_path_join(r->lmdir, "state");
	int rc = state ? lmd_mkdir_p(state, 0755) : -ENOMEM;
	memset(n, 0, sizeof(*n));
	if (rc == 0)
		rc = lmd_idspill_new_rec(state, lmd__test_gc_ids, NEED_REC, &n->objs);
	free(state);
	return rc;
}

/*
 * Record an object (1, or 0 for a container met before); a container
 * (walked once) is also remembered in seen.  A failure is kept in c, so
 * that it is not mistaken for an unreadable chunk list.
 */
static int add(struct need_ctx *c, const lmd_oid *id, int type, const lmd_loc *loc, bool container)
{
	lmd_needs *n = c->n;
	uint8_t rec[NEED_REC] = { 0 };
	int r;
	if (container && (r = lmd_oidset_add(&n->seen, id)) <= 0)
		return r < 0 ? (c->failed = -ENOMEM) : 0;
	memcpy(rec, id->id, 32);
	rec[32] = (uint8_t)(loc ? type : 0);
	lmd_put_le32(rec + 36, loc ? loc->len : 0);
	lmd_put_le32(rec + 40, loc ? loc->pack : 0);
	if (!loc)
		n->absent++;
	if ((r = lmd_idspill_add_rec(n->objs, rec)) < 0)   /* a full disk under .lmdata/state, say */
		return c->failed = r;
	return 1;
}

static int add_chunk(struct need_ctx *c, const lmd_oid *id, int type)
{
	lmd_loc loc;
	return add(c, id, type, lmd_store_find(c->s, id, type, &loc) == 0 ? &loc : NULL, false);
}

static int on_tree(const lmd_oid *id, const char *path, void *payload)
{
	struct need_ctx *c = payload;
	lmd_loc loc;
	int r;
	(void)path;
	if (lmd_oidset_has(&c->n->seen, id)) {
		if (!lmd_store_has(c->s, id, LMD_OBJ_TREE))
			return LMD_EMISSING;
		/* Walked whole before (nothing unreadable so far): skip it. */
		return c->n->unreadable ? 0 : LMD_WALK_SKIP;
	}
	if (lmd_store_find(c->s, id, LMD_OBJ_TREE, &loc) < 0) {
		if ((r = add(c, id, LMD_OBJ_TREE, NULL, true)) < 0)
			return r;
		c->n->unreadable++;
		return LMD_EMISSING; /* cannot descend; the walk of this dataset stops */
	}
	return (r = add(c, id, LMD_OBJ_TREE, &loc, true)) < 0 ? r : 0;
}

/* A part is needed like the chunks it lists; one the store lacks cannot be read. */
static int on_part(const lmd_part_ref *p, void *payload)
{
	struct need_ctx *c = payload;
	lmd_loc loc;
	int r;
	if (lmd_oidset_has(&c->n->seen, &p->id))
		return LMD_CHUNKLIST_SKIP; /* shared with a file seen before: its chunks are listed */
	if (lmd_store_find(c->s, &p->id, LMD_OBJ_PART, &loc) < 0) {
		c->n->unreadable++;
		return (r = add(c, &p->id, 0, NULL, true)) < 0 ? r : LMD_CHUNKLIST_SKIP;
	}
	if ((r = add(c, &p->id, LMD_OBJ_PART, &loc, true)) < 0)
		return r;
	return 0;
}

static int on_chunks(const lmd_part_ref *part, const lmd_chunk_ref *ch, uint32_t n, void *payload)
{
	struct need_ctx *c = payload;
	int r;
	(void)part;
	for (uint32_t i = 0; i < n; i++)
		if ((r = add_chunk(c, &ch[i].id, LMD_OBJ_DATA)) < 0)
			return r;
	return 0;
}

static int on_file(const char *path, const lmd_tree_entry *e, void *payload)
{
	struct need_ctx *c = payload;
	lmd_chunklist_cbs cbs = { .part = on_part, .chunks = on_chunks };
	lmd_loc loc;
	int r;
	(void)path;

	if (e->mode != LMD_MODE_LINK && e->size == 0)
		return 0;
	if (lmd_oidset_has(&c->n->seen, &e->id))
		return 0;
	/* A file of one chunk (or a link) is a chunk: recorded, not remembered. */
	if (lmd_store_find(c->s, &e->id, LMD_OBJ_DATA, &loc) == 0)
		return (r = add(c, &e->id, LMD_OBJ_DATA, &loc, false)) < 0 ? r : 0;
	if (lmd_store_find(c->s, &e->id, LMD_OBJ_FILE, &loc) < 0) {
		c->n->unreadable++;
		return (r = add(c, &e->id, 0, NULL, true)) < 0 ? r : 0;
	}
	if ((r = add(c, &e->id, LMD_OBJ_FILE, &loc, true)) <= 0)
		return r;
	if ((r = lmd_chunklist_walk(c->s, &e->id, UINT64_MAX, &cbs, c, NULL)) < 0) {
		if (r == -ENOMEM || c->failed)
			return c->failed ? c->failed : r;
		lmd_error_clear();
		c->n->unreadable++;
	}
	return 0;
}

int lmd__needs_collect(lmd_store *s, const char *path, const lmd_manifest *m, lmd_needs *n)
{
	struct need_ctx c = { .s = s, .n = n };
	lmd_walk_cbs cbs = { .tree = on_tree, .file = on_file };
	int r = lmd_walk_manifest(s, path, m, &cbs, &c);
	if (c.failed)
		return c.failed;
	if (r == LMD_EMISSING) {
		lmd_error_clear();
		r = 0;
	}
	return r;
}

int lmd__needs_finish(lmd_needs *n)
{
	int r = lmd_idspill_finish(n->objs);
	if (r < 0)
		return r;
	n->n = lmd_idspill_count(n->objs);
	return 0;
}

void lmd__needs_get(const lmd_needs *n, uint64_t i, lmd_need *ret)
{
	const uint8_t *rec = lmd_idspill_at(n->objs, i);
	memset(ret, 0, sizeof(*ret));
	if (!rec)
		return;
	memcpy(ret->id.id, rec, 32);
	ret->type = rec[32];
	ret->len = lmd_get_le32(rec + 36);
	ret->lpack = lmd_get_le32(rec + 40);
}

bool lmd__needs_has(const lmd_needs *n, const lmd_oid *id)
{
	return lmd_idspill_has(n->objs, id);
}

void lmd__needs_release(lmd_needs *n)
{
	lmd_idspill_free(n->objs);
	lmd_oidset_release(&n->seen);
	memset(n, 0, sizeof(*n));
}

int lmd__selected_datasets(lmd_repo *r, const char *const *paths, size_t npaths, lmd_dataset **ret,
			   size_t *ret_n)
{
	lmd_dataset *ds = NULL;
	char **sel = NULL;
	bool *used = NULL;
	size_t nds = 0, w = 0;
	int rc;

	if ((rc = lmd__datasets(r, &ds, &nds)) < 0)
		return rc;
	if (npaths == 0) {
		*ret = ds;
		*ret_n = nds;
		return 0;
	}
	sel = lmd_calloc(npaths, sizeof(*sel));
	used = lmd_calloc(npaths, sizeof(*used));
	if (!sel || !used) {
		rc = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < npaths; i++) {
		if ((rc = lmd__resolve(r, paths[i], &sel[i])) < 0)
			goto done;
		size_t l = strlen(sel[i]);
		if (l > 4 && !strcmp(sel[i] + l - 4, LMD_MANIFEST_SUFFIX))
			sel[i][l - 4] = '\0';
	}
	for (size_t d = 0; d < nds; d++) {
		bool keep = false;
		for (size_t i = 0; i < npaths; i++)
			if (lmd__path_selects(sel[i], ds[d].path))
				keep = used[i] = true;
		if (keep) {
			ds[w++] = ds[d];
		} else {
			free(ds[d].mpath);
			free(ds[d].path);
		}
	}
	nds = w;
	for (size_t i = 0; i < npaths; i++)
		if (!used[i]) {
			rc = lmd_error_set(LMD_EBADINPUT, "'%s' is not tracked data (no manifest in git selects it)",
					   paths[i]);
			goto done;
		}
	*ret = ds;
	*ret_n = nds;
	ds = NULL;
	nds = 0;
	rc = 0;
done:
	for (size_t i = 0; sel && i < npaths; i++)
		free(sel[i]);
	free(sel);
	free(used);
	lmd__datasets_free(ds, nds);
	return rc;
}
