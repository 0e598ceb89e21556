/*
 * Depth-first walk of a dataset's recorded trees (see walk.h).  Memory is
 * one tree per level of depth.
 */
#include <stdlib.h>
#include <string.h>

#include "walk.h"

static int walk_tree(lmd_store *s, const char *path, const lmd_oid *id, const lmd_walk_cbs *cbs, void *payload,
		     int depth)
{
	lmd_buf raw = LMD_BUF_INIT;
	lmd_tree t = { 0 };
	int r;

	if (depth > 256)
		return lmd_error_set(LMD_ECORRUPT, "trees nested too deep at '%s'", path);
	if (cbs->tree && (r = cbs->tree(id, path, payload)) != 0)
		return r < 0 ? r : 0;   /* LMD_WALK_SKIP: walked before */
	if ((r = lmd_store_get(s, id, LMD_OBJ_TREE, &raw)) < 0 || (r = lmd_tree_parse(&raw, &t)) < 0) {
		lmd_buf_release(&raw);
		return lmd_error_wrap(r, "cannot read the tree of '%s'", path);
	}
	for (size_t i = 0; i < t.n && r >= 0; i++) {
		char *c = lmd_asprintf("%s/%s", path, t.entries[i].name);
		if (!c) {
			r = -ENOMEM;
			break;
		}
		if (t.entries[i].mode == LMD_MODE_DIR)
			r = walk_tree(s, c, &t.entries[i].id, cbs, payload, depth + 1);
		else if (cbs->file)
			r = cbs->file(c, &t.entries[i], payload);
		free(c);
	}
	lmd_tree_release(&t);
	return r < 0 ? r : 0;
}

int lmd_walk_manifest(lmd_store *s, const char *path, const lmd_manifest *m, const lmd_walk_cbs *cbs,
		      void *payload)
{
	lmd_tree_entry e = { .name = path, .size = m->size, .files = m->files, .id = m->id };

	if (m->kind == LMD_KIND_DIR)
		return walk_tree(s, path, &m->id, cbs, payload, 0);
	e.mode = m->kind == LMD_KIND_LINK ? LMD_MODE_LINK : m->executable ? LMD_MODE_EXEC : LMD_MODE_FILE;
	return cbs->file ? cbs->file(path, &e, payload) : 0;
}
