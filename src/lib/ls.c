/*
 * lmd_ls: the files tracked data records, from manifests and the store's
 * trees (not the work tree).
 */
#include <stdlib.h>
#include <string.h>

#include "walk.h"

int lmd__ls_file(const char *path, const lmd_tree_entry *e, void *payload)
{
	lmd__ls_walk *c = payload;
	if (lmd__selected(c->sel, c->nsel, path) && c->cb) {
		lmd_ls_entry le = { .path = path, .dataset = c->dataset, .mode = e->mode, .size = e->size, .id = e->id };
		c->cb(&le, c->payload);
	}
	return 0;
}

int lmd_ls(lmd_repo *r, const char *const *paths, size_t n, lmd_ls_cb cb, void *payload)
{
	lmd_dataset *ds = NULL;
	size_t nds = 0;
	char **sel = NULL;
	lmd_store *store;
	int rc;

	if ((rc = lmd__datasets(r, &ds, &nds)) < 0 || (rc = lmd__repo_store(r, &store)) < 0 ||
	    (rc = lmd__selection(r, paths, n, ds, nds, &sel)) < 0)
		goto done;
	for (size_t i = 0; i < nds; i++) {
		lmd_manifest m = { 0 };
		lmd__ls_walk c = { cb, payload, ds[i].path, sel, n };
		lmd_walk_cbs cbs = { .file = lmd__ls_file };
		if (!lmd__selected(sel, n, ds[i].path))
			continue;
		if ((rc = lmd__manifest_read(r, ds[i].mpath, &m)) < 0)
			goto done;
		rc = lmd_walk_manifest(store, ds[i].path, &m, &cbs, &c);
		lmd_manifest_release(&m);
		if (rc < 0)
			goto done;
	}
	rc = 0;
done:
	lmd__selection_free(sel, n);
	lmd__datasets_free(ds, nds);
	return rc;
}
