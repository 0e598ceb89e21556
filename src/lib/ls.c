/*
 * lmd_ls: the files tracked data records, from manifests and the store's
 * trees (not the work tree).
 */
#include <stdlib.h>
#include <string.h>

#include "walk.h"

struct ls_ctx {
	lmd_ls_cb cb;
	void *payload;
	const char *dataset;
	const char *const *sel;
	size_t nsel;
};

static int ls_file(const char *path, const lmd_tree_entry *e, void *payload)
{
	struct ls_ctx *c = payload;
	bool want = c->nsel == 0;
	for (size_t i = 0; i < c->nsel && !want; i++)
		want = lmd__path_selects(c->sel[i], path);
	if (want && c->cb) {
		lmd_ls_entry le = { .path = path, .dataset = c->dataset, .mode = e->mode, .size = e->size, .id = e->id };
		c->cb(&le, c->payload);
	}
	return 0;
}

int lmd_ls(lmd_repo *r, const char *const *paths, size_t n, lmd_ls_cb cb, void *payload)
{
	lmd_dataset *ds = NULL;
	size_t nds = 0;
	char **sel = lmd_calloc(n ? n : 1, sizeof(*sel));
	lmd_store *store;
	int rc;

	if (!sel)
		return -ENOMEM;
	if ((rc = lmd__datasets(r, &ds, &nds)) < 0 || (rc = lmd__repo_store(r, &store)) < 0)
		goto done;
	for (size_t i = 0; i < n; i++) {
		size_t l;
		bool any = false;
		if ((rc = lmd__resolve(r, paths[i], &sel[i])) < 0)
			goto done;
		l = strlen(sel[i]);
		if (l > 4 && !strcmp(sel[i] + l - 4, ".lmd"))
			sel[i][l - 4] = '\0';
		for (size_t k = 0; k < nds && !any; k++)
			any = lmd__path_selects(sel[i], ds[k].path);
		if (!any) {
			rc = lmd_error_set(LMD_EBADINPUT, "'%s' is not tracked by lmdata", paths[i]);
			goto done;
		}
	}
	for (size_t i = 0; i < nds; i++) {
		lmd_manifest m = { 0 };
		struct ls_ctx c = { cb, payload, ds[i].path, (const char *const *)sel, n };
		lmd_walk_cbs cbs = { .file = ls_file };
		bool want = n == 0;
		for (size_t j = 0; j < n && !want; j++)
			want = lmd__path_selects(sel[j], ds[i].path);
		if (!want)
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
	for (size_t i = 0; i < n; i++)
		free(sel[i]);
	free(sel);
	lmd__datasets_free(ds, nds);
	return rc;
}
