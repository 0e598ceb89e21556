/*
 * What the selected datasets need, as read from the local store: every
 * tree, every file's id (a chunk, or a chunk list, its parts if it has
 * any, and its chunks), each once, with its type, length and local pack.
 * Objects the store lacks are listed with type 0; a tree, chunk list or
 * part the store lacks cannot be descended into and is counted as
 * unreadable.  push and status -c use this; fetch walks through the
 * remote instead (sync_fetch.c).
 */
#include <stdlib.h>
#include <string.h>

#include "chunklist.h"
#include "sync_int.h"
#include "walk.h"

struct need_ctx {
	lmd_store *s;
	lmd_needs *n;
};

static int add(lmd_needs *n, const lmd_oid *id, int type, const lmd_loc *loc)
{
	int r = lmd_oidset_add(&n->seen, id);
	if (r <= 0)
		return r < 0 ? -ENOMEM : 0;
	if (n->n == n->cap) {
		size_t c = n->cap ? n->cap * 2 : 1024;
		lmd_need *nv = lmd_reallocarray(n->v, c, sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		n->v = nv;
		n->cap = c;
	}
	n->v[n->n].id = *id;
	n->v[n->n].type = (uint8_t)(loc ? type : 0);
	n->v[n->n].len = loc ? loc->len : 0;
	n->v[n->n].lpack = loc ? loc->pack : 0;
	n->n++;
	return 1;
}

static int add_local(lmd_needs *n, lmd_store *s, const lmd_oid *id, int type)
{
	lmd_loc loc;
	if (lmd_oidset_has(&n->seen, id))
		return 0;
	return add(n, id, type, lmd_store_find(s, id, type, &loc) == 0 ? &loc : NULL);
}

static int on_tree(const lmd_oid *id, const char *path, void *payload)
{
	struct need_ctx *c = payload;
	lmd_loc loc;
	int r;
	(void)path;
	if (lmd_oidset_has(&c->n->seen, id))
		return lmd_store_has(c->s, id, LMD_OBJ_TREE) ? 0 : LMD_EMISSING;
	if (lmd_store_find(c->s, id, LMD_OBJ_TREE, &loc) < 0) {
		if ((r = add(c->n, id, LMD_OBJ_TREE, NULL)) < 0)
			return r;
		c->n->unreadable++;
		return LMD_EMISSING; /* cannot descend; the walk of this dataset stops */
	}
	return add(c->n, id, LMD_OBJ_TREE, &loc) < 0 ? -ENOMEM : 0;
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
		return add(c->n, &p->id, 0, NULL) < 0 ? -ENOMEM : LMD_CHUNKLIST_SKIP;
	}
	if ((r = add(c->n, &p->id, LMD_OBJ_PART, &loc)) < 0)
		return r;
	return 0;
}

static int on_chunks(const lmd_part_ref *part, const lmd_chunk_ref *ch, uint32_t n, void *payload)
{
	struct need_ctx *c = payload;
	int r;
	(void)part;
	for (uint32_t i = 0; i < n; i++)
		if ((r = add_local(c->n, c->s, &ch[i].id, LMD_OBJ_DATA)) < 0)
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
	if (lmd_store_find(c->s, &e->id, LMD_OBJ_DATA, &loc) == 0)
		return add(c->n, &e->id, LMD_OBJ_DATA, &loc) < 0 ? -ENOMEM : 0;
	if (lmd_store_find(c->s, &e->id, LMD_OBJ_FILE, &loc) < 0) {
		c->n->unreadable++;
		return add(c->n, &e->id, 0, NULL) < 0 ? -ENOMEM : 0;
	}
	if ((r = add(c->n, &e->id, LMD_OBJ_FILE, &loc)) < 0)
		return r;
	if ((r = lmd_chunklist_walk(c->s, &e->id, UINT64_MAX, &cbs, c, NULL)) < 0) {
		if (r == -ENOMEM)
			return r;
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
	if (r == LMD_EMISSING) {
		lmd_error_clear();
		r = 0;
	}
	return r;
}

void lmd__needs_release(lmd_needs *n)
{
	free(n->v);
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
