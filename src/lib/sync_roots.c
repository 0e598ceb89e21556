/*
 * Which datasets a sync works on: the work tree's manifests (the default),
 * or those recorded in git revisions and scopes (push --rev v1.3,
 * --all-branches, ...; fetch/pull --rev), read from git by the history
 * code.  Each distinct manifest id is kept once, so pushing every commit
 * walks each version of a dataset once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history_int.h"
#include "sync_int.h"

struct roots {
	lmd_sync_root *v;
	size_t n, cap;
	bool dedup;    /* versions from git: each manifest id once */
};

static bool have(const struct roots *rs, const lmd_manifest *m)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i].m.kind == m->kind && !lmd_oid_cmp(&rs->v[i].m.id, &m->id))
			return true;
	return false;
}

/* Take path and manifest (ownership moves) unless that version is there. */
static int push_root(struct roots *rs, char *path, lmd_manifest *m)
{
	if (rs->dedup && have(rs, m)) {
		free(path);
		lmd_manifest_release(m);
		return 0;
	}
	if (rs->n == rs->cap) {
		size_t c = rs->cap ? rs->cap * 2 : 16;
		lmd_sync_root *nv = lmd_reallocarray(rs->v, c, sizeof(*nv));
		if (!nv) {
			free(path);
			lmd_manifest_release(m);
			return -ENOMEM;
		}
		rs->v = nv;
		rs->cap = c;
	}
	rs->v[rs->n].path = path;
	rs->v[rs->n].m = *m;
	memset(m, 0, sizeof(*m));
	rs->n++;
	return 0;
}

static int add_worktree(lmd_repo *r, const lmd_sync_opts *o, struct roots *rs)
{
	lmd_dataset *ds = NULL;
	size_t nds = 0;
	int rc;

	if ((rc = lmd__selected_datasets(r, o ? o->paths : NULL, o ? o->npaths : 0, &ds, &nds)) < 0)
		return rc;
	for (size_t i = 0; i < nds && rc >= 0; i++) {
		lmd_manifest m = { 0 };
		char *p;
		if ((rc = lmd__manifest_read(r, ds[i].mpath, &m)) < 0)
			break;
		p = lmd_strdup(ds[i].path);
		rc = p ? push_root(rs, p, &m) : -ENOMEM;
		if (!p)
			lmd_manifest_release(&m);
	}
	lmd__datasets_free(ds, nds);
	return rc;
}

struct rev_ctx {
	lmd_repo *r;
	struct roots *rs;
	char **sel;
	const char *const *user;
	size_t n;
};

static int add_rev(struct rev_ctx *c, const lmd_rev *rev)
{
	lmd__rev_manifest *v = NULL;
	size_t nv = 0;
	int rc = lmd__rev_manifests(c->r, rev, c->sel, c->user, c->n, &v, &nv);

	for (size_t i = 0; i < nv && rc >= 0; i++) {
		char *p;
		if (!v[i].parsed)
			continue;
		p = lmd_strdup(v[i].path);
		if (!p) {
			rc = -ENOMEM;
			break;
		}
		rc = push_root(c->rs, p, &v[i].m);
		v[i].parsed = false; /* the manifest moved (or was released) */
	}
	lmd__rev_manifests_free(v, nv);
	return rc;
}

static int scope_cb(const char *id, void *payload)
{
	struct rev_ctx *c = payload;
	lmd_rev rev = { 0 };
	int rc;
	snprintf(rev.id, sizeof(rev.id), "%s", id);
	rc = add_rev(c, &rev);
	/* A commit where the selected paths are not tracked is not an error here. */
	if (rc == LMD_EBADINPUT && c->n) {
		lmd_error_clear();
		rc = 0;
	}
	return rc;
}

int lmd__sync_roots(lmd_repo *r, const lmd_sync_opts *o, lmd_sync_root **ret, size_t *ret_n)
{
	struct roots rs = { 0 };
	struct rev_ctx c = { .r = r, .rs = &rs };
	size_t npaths = o ? o->npaths : 0;
	unsigned scopes = o ? o->scopes : 0;
	int rc = 0;

	const unsigned git_scopes = LMD_GC_ALL_BRANCHES | LMD_GC_ALL_TAGS | LMD_GC_ALL_COMMITS | LMD_GC_KEEP_SINCE;

	if (!o || (!o->nrevs && !(scopes & git_scopes))) {
		rc = add_worktree(r, o, &rs);
		goto done;
	}
	if (scopes & LMD_GC_WORKSPACE && (rc = add_worktree(r, o, &rs)) < 0)
		goto done;
	rs.dedup = true;
	c.sel = lmd_calloc(npaths ? npaths : 1, sizeof(*c.sel));
	if (!c.sel) {
		rc = -ENOMEM;
		goto done;
	}
	c.user = o->paths;
	c.n = npaths;
	for (size_t i = 0; i < npaths; i++)
		if ((rc = lmd__resolve_lexical(r, o->paths[i], &c.sel[i])) < 0)
			goto done;
	for (size_t i = 0; i < o->nrevs; i++) {
		lmd_rev rev;
		if (lmd_git_is_range(o->revs[i])) {
			/* A..B: every commit in it, like a scope. */
			if ((rc = lmd_git_range_commits(r->git, o->revs[i], scope_cb, &c)) < 0)
				goto done;
			continue;
		}
		if ((rc = lmd_rev_parse(r, o->revs[i], &rev)) < 0 || (rc = add_rev(&c, &rev)) < 0)
			goto done;
	}
	if (scopes & git_scopes)
		rc = lmd_git_scope_commits(r->git, scopes & git_scopes, NULL, 0, o->since, scope_cb, &c);
done:
	for (size_t i = 0; c.sel && i < npaths; i++)
		free(c.sel[i]);
	free(c.sel);
	if (rc < 0) {
		lmd__sync_roots_free(rs.v, rs.n);
		return rc;
	}
	*ret = rs.v;
	*ret_n = rs.n;
	return 0;
}

void lmd__sync_roots_free(lmd_sync_root *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].path);
		lmd_manifest_release(&v[i].m);
	}
	free(v);
}
