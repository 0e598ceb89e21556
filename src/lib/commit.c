/*
 * lmdata commit, in three steps the CLI drives (so that it can run the
 * pre-commit hook and the editor between them, as git does): re-snapshot
 * the tracked data that changed and stage the manifests; ask whether
 * anything is to be committed; record the index as a commit on HEAD.
 */
#include <stdlib.h>
#include <string.h>

#include "history_int.h"

struct prep {
	lmd_repo *r;
	char **redo;            /* datasets to re-add (relative to the top) */
	size_t nredo, cap;
	char *bad;              /* first unusable dataset's message */
	int nbad;
};

static bool listed(struct prep *p, const char *ds)
{
	size_t tl = strlen(p->r->top);
	for (size_t i = 0; i < p->nredo; i++)
		if (!strcmp(p->redo[i] + tl + 1, ds))
			return true;
	return false;
}

static void status_cb(const lmd_status_entry *e, void *payload)
{
	struct prep *p = payload;
	if (e->kind == LMD_STATUS_UNCOMMITTED)
		return;
	if (e->kind == LMD_STATUS_MANIFEST_ERROR || (e->kind == LMD_STATUS_DELETED && !strcmp(e->path, e->dataset))) {
		if (!p->nbad++) {
			if (e->kind == LMD_STATUS_MANIFEST_ERROR)
				p->bad = lmd_asprintf("'%s': %s", e->dataset, e->detail ? e->detail : "bad manifest");
			else
				p->bad = lmd_asprintf("'%s' is missing from the work tree; restore it with 'lmdata checkout "
						      "%s' or stop tracking it with 'lmdata rm %s'", e->dataset, e->dataset,
						      e->dataset);
		}
		return;
	}
	if (listed(p, e->dataset))
		return;
	if (p->nredo == p->cap) {
		size_t c = p->cap ? p->cap * 2 : 8;
		char **nv = realloc(p->redo, c * sizeof(*nv));
		if (!nv)
			return;
		p->redo = nv;
		p->cap = c;
	}
	p->redo[p->nredo] = lmd__abs(p->r, e->dataset);
	if (p->redo[p->nredo])
		p->nredo++;
}

static int stage_manifests(lmd_repo *r, const char *const *paths, size_t n)
{
	lmd_dataset *ds = NULL;
	size_t nds = 0, ns = 0;
	char **sel = NULL;
	const char **stage = NULL;
	int rc;

	if ((rc = lmd__datasets(r, &ds, &nds)) < 0)
		return rc;
	sel = lmd_calloc(n ? n : 1, sizeof(*sel));
	stage = lmd_calloc(nds ? nds : 1, sizeof(*stage));
	if (!sel || !stage) {
		rc = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		if ((rc = lmd__resolve_lexical(r, paths[i], &sel[i])) < 0)
			goto done;
	for (size_t i = 0; i < nds; i++)
		if (lmd__selected(sel, n, ds[i].path))
			stage[ns++] = ds[i].mpath;
	rc = ns ? lmd_git_stage(r->git, stage, ns) : 0;
done:
	lmd__selection_free(sel, n);
	free(stage);
	lmd__datasets_free(ds, nds);
	return rc;
}

int lmd_commit_prepare(lmd_repo *r, const char *const *paths, size_t n, lmd_add_cb cb, void *payload)
{
	struct prep p = { .r = r };
	const char *what;
	int rc;

	if (lmd_git_state(r->git, &what) > 0)
		return lmd_error_set(LMD_EBADINPUT, "%s is in progress; finish it with git (resolve, 'git add', 'git "
				     "commit' or '--continue') before 'lmdata commit'", what);
	if ((rc = lmd_status(r, paths, n, status_cb, &p)) < 0)
		goto done;
	if (p.nbad) {
		rc = lmd_error_set(LMD_EBADINPUT, "cannot commit: %s%s", p.bad ? p.bad : "a dataset is unusable",
				   p.nbad > 1 ? " (and more: see 'lmdata status')" : "");
		goto done;
	}
	if (p.nredo && (rc = lmd_add(r, (const char *const *)p.redo, p.nredo, cb, payload)) < 0)
		goto done;
	rc = stage_manifests(r, paths, n);
done:
	for (size_t i = 0; i < p.nredo; i++)
		free(p.redo[i]);
	free(p.redo);
	free(p.bad);
	return rc;
}

int lmd_commit_pending(lmd_repo *r)
{
	const char *what;
	bool changed = false;
	int rc;
	if (lmd_git_state(r->git, &what) > 0)
		return lmd_error_set(LMD_EBADINPUT, "%s is in progress; finish it with git before 'lmdata commit'", what);
	if ((rc = lmd_git_index_changed(r->git, &changed)) < 0)
		return rc;
	return changed ? 1 : 0;
}

int lmd_commit_create(lmd_repo *r, const char *message, lmd_rev *ret)
{
	lmd_buf msg = LMD_BUF_INIT;
	char id[LMD_GIT_HEXSZ + 1];
	int rc;

	if ((rc = lmd_git_message_prettify(message, &msg)) < 0)
		goto done;
	if (msg.len == 0) {
		rc = lmd_error_set(LMD_EBADINPUT, "aborting commit due to empty commit message");
		goto done;
	}
	if ((rc = lmd__repo_lock(r)) < 0)
		goto done;
	rc = lmd_git_commit_index(r->git, (const char *)msg.ptr, id);
	lmd__repo_unlock(r);
	if (rc >= 0)
		memcpy(ret->id, id, sizeof(ret->id));
done:
	lmd_buf_release(&msg);
	return rc < 0 ? rc : 0;
}

char *lmd_repo_head_name(lmd_repo *r)
{
	return lmd_git_head_name(r->git);
}
