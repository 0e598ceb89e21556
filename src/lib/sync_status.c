/*
 * lmd_remote_status (status -c): per dataset, how many of the objects it
 * needs are on the remote, only local (not pushed: count and bytes), only
 * on the remote (missing locally), or nowhere.  One listing of the remote
 * plus its cached index files; nothing is downloaded but missing indexes.
 */
#include <stdlib.h>
#include <string.h>

#include "sync_int.h"

int lmd_remote_status(lmd_repo *r, const lmd_sync_opts *o, lmd_remote_status_cb cb, void *payload)
{
	lmd_ridx ri = { 0 };
	lmd_sync_root *ds = NULL;
	lmd_backend *b = NULL;
	lmd_store *s;
	size_t nds = 0;
	char *name = NULL, *state = NULL;
	int rc, out_of_sync = 0;

	if ((rc = lmd__repo_store(r, &s)) < 0 || (rc = lmd_store_refresh(s)) < 0)
		goto done;
	if ((rc = lmd__sync_roots(r, o, &ds, &nds)) < 0)
		goto done;
	if ((rc = lmd__remote_open(r, o ? o->remote : NULL, o ? o->jobs : 0, &b, &name)) < 0)
		goto done;
	state = lmd_asprintf("%s/state/remote-%s/idx", r->lmdir, name);
	if (!state) {
		rc = -ENOMEM;
		goto done;
	}
	if ((rc = lmd__ridx_list(b, &ri)) < 0 || (rc = lmd__ridx_load(b, &ri, state, o ? o->jobs : 0)) < 0)
		goto done;
	for (size_t i = 0; i < nds; i++) {
		lmd_needs need;
		lmd_remote_status_entry e = { .dataset = ds[i].path };
		if ((rc = lmd__needs_init(r, &need)) == 0 && (rc = lmd__needs_collect(s, ds[i].path, &ds[i].m, &need)) == 0)
			rc = lmd__needs_finish(&need);
		if (rc < 0) {
			lmd__needs_release(&need);
			goto done;
		}
		e.objects = need.n;
		for (uint64_t k = 0; k < need.n; k++) {
			lmd_need nd, *n = &nd;
			lmd__needs_get(&need, k, &nd);
			bool remote = (n->type && lmd__ridx_has_pack(&ri, lmd_store_pack_id(s, n->lpack))) ||
				      lmd__ridx_find(&ri, &n->id, n->type, NULL, NULL) == 0;
			if (n->type && !remote) {
				e.not_pushed++;
				e.not_pushed_bytes += n->len;
			} else if (!n->type && remote) {
				e.missing_local++;
			} else if (!n->type) {
				e.missing++;
			}
		}
		/* Below a tree that is not here, nothing is known: say so. */
		if (need.unreadable && !e.missing_local && !e.missing)
			e.missing_local = need.unreadable;
		if (e.not_pushed || e.missing_local || e.missing)
			out_of_sync++;
		if (cb)
			cb(&e, payload);
		lmd__needs_release(&need);
	}
	rc = out_of_sync;
done:
	lmd__ridx_release(&ri);
	lmd_backend_free(b);
	lmd__sync_roots_free(ds, nds);
	free(name);
	free(state);
	return rc;
}
