/*
 * lmd_log: the commits that changed tracked data, newest first.  Each
 * commit is compared with its first parent through git's trees (equal
 * subtrees skipped), so only the manifests that changed are read; the
 * file counts of a change come from the store's trees (equal subtrees
 * skipped again) and are -1 when the store lacks them.
 */
#include <stdlib.h>
#include <string.h>

#include "history_int.h"

struct lctx {
	lmd_repo *r;
	const lmd_log_opts *o;
	char **sel;
	size_t nsel;
	lmd_log_cb cb;
	void *payload;
	size_t shown;
	lmd_log_dataset *ds;
	char **paths;
	size_t nds, capds;
	const lmd_git_commit *commit;
	int err;
	lmd_buf text;
};

static int read_manifest(struct lctx *c, const char *mpath, const char *blob, lmd_manifest *m)
{
	int rc;
	if (!blob[0])
		return 0;
	if ((rc = lmd_git_blob_read(c->r->git, blob, LMD_MAX_MANIFEST, &c->text)) < 0 ||
	    (rc = lmd__manifest_parse_at(mpath, &c->text, mpath, m)) < 0) {
		if (rc == -ENOMEM)
			return rc;
		lmd_error_clear();
		return 0; /* a damaged manifest in history: shown without sizes */
	}
	return 1;
}

static int change_cb(const char *mpath, const char *old_blob, const char *new_blob, void *payload)
{
	struct lctx *c = payload;
	lmd_manifest mo = { 0 }, mn = { 0 };
	lmd_log_dataset *d;
	int ho, hn, rc = 0;

	if (c->nds == c->capds) {
		size_t n = c->capds ? c->capds * 2 : 8;
		lmd_log_dataset *nv = lmd_reallocarray(c->ds, n, sizeof(*nv));
		char **np;
		if (!nv)
			return -ENOMEM;
		c->ds = nv;
		np = lmd_reallocarray(c->paths, n, sizeof(*np));
		if (!np)
			return -ENOMEM;
		c->paths = np;
		c->capds = n;
	}
	if ((ho = read_manifest(c, mpath, old_blob, &mo)) < 0 || (hn = read_manifest(c, mpath, new_blob, &mn)) < 0)
		return -ENOMEM;
	c->paths[c->nds] = lmd_strndup(mpath, strlen(mpath) - 4);
	if (!c->paths[c->nds]) {
		rc = -ENOMEM;
		goto done;
	}
	d = &c->ds[c->nds];
	memset(d, 0, sizeof(*d));
	d->path = c->paths[c->nds];
	d->existed_before = old_blob[0] != 0;
	d->exists = new_blob[0] != 0;
	if (ho > 0) {
		d->old_size = mo.size;
		d->old_files = mo.files;
	}
	if (hn > 0) {
		d->size = mn.size;
		d->files = mn.files;
	}
	d->added = d->deleted = d->modified = -1;
	if ((ho > 0 || !old_blob[0]) && (hn > 0 || !new_blob[0])) {
		rc = lmd__diff_count(c->r, d->path, ho > 0 ? &mo : NULL, hn > 0 ? &mn : NULL, &d->added, &d->deleted,
				     &d->modified);
		if (rc < 0 && rc != -ENOMEM) {
			lmd_error_clear(); /* trees not in the local store: counts unknown */
			d->added = d->deleted = d->modified = -1;
			rc = 0;
		}
	}
	c->nds++;
done:
	if (ho > 0)
		lmd_manifest_release(&mo);
	if (hn > 0)
		lmd_manifest_release(&mn);
	return rc;
}

static int commit_cb(const lmd_git_commit *gc, void *payload)
{
	struct lctx *c = payload;
	int rc;

	if (c->o && c->o->until && gc->time > c->o->until)
		return 0;
	if (c->o && c->o->since && gc->time < c->o->since)
		return 1; /* time order: everything after is older */
	c->commit = gc;
	rc = lmd_git_diff_manifests(c->r->git, gc->parent[0] ? gc->parent : NULL, gc->id, (const char *const *)c->sel,
				    c->nsel, change_cb, c);
	if (rc == LMD_ENOTFOUND && gc->parent[0] && lmd_git_is_shallow(c->r->git)) {
		/* The parent is beyond a shallow clone's edge: compare with nothing. */
		lmd_error_clear();
		rc = lmd_git_diff_manifests(c->r->git, NULL, gc->id, (const char *const *)c->sel, c->nsel, change_cb, c);
	}
	if (rc >= 0 && c->nds) {
		lmd_log_entry e = { .commit = gc->id, .author = gc->author, .email = gc->email, .subject = gc->subject,
				    .time = gc->author_time, .tz = gc->author_tz, .datasets = c->ds, .ndatasets = c->nds };
		rc = c->cb ? c->cb(&e, c->payload) : 0;
		c->shown++;
		if (rc == 0 && c->o && c->o->max && c->shown >= c->o->max)
			rc = 1;
	}
	for (size_t i = 0; i < c->nds; i++)
		free(c->paths[i]);
	c->nds = 0;
	if (rc < 0)
		c->err = rc;
	return rc;
}

int lmd_log(lmd_repo *r, const lmd_log_opts *o, const char *const *paths, size_t n, lmd_log_cb cb, void *payload)
{
	struct lctx c = { .r = r, .o = o, .nsel = n, .cb = cb, .payload = payload };
	int rc = 0;

	c.sel = lmd_calloc(n ? n : 1, sizeof(*c.sel));
	if (!c.sel)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if ((rc = lmd__resolve_lexical(r, paths[i], &c.sel[i])) < 0)
			goto done;
	rc = lmd_git_log(r->git, commit_cb, &c);
	if (c.err < 0)
		rc = c.err;
	if (rc >= 0)
		rc = (int)(c.shown > INT32_MAX ? INT32_MAX : c.shown);
done:
	for (size_t i = 0; i < n; i++)
		free(c.sel[i]);
	free(c.sel);
	free(c.ds);
	free(c.paths);
	lmd_buf_release(&c.text);
	return rc;
}
