/*
 * lmd_diff: the files that differ between two versions of tracked data.
 *
 * First the manifests: between two commits git's trees are compared and
 * equal subtrees skipped (lmd_git_diff_manifests), so only manifests that
 * changed are read; against the work tree, each work-tree manifest's blob
 * id is compared with the commit's.  Then, for each dataset that changed,
 * the store's trees are compared the same way: a subtree whose id did not
 * change is not opened, so two versions of a 20k-file folder that differ
 * in ten files cost a few tree reads.  Added and deleted files with the
 * same content id are reported as renames.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history_int.h"
#include "objects.h"
#include "walk.h"

struct side {
	bool present;
	char blob[LMD_GIT_HEXSZ + 1];
	lmd_buf text;
	lmd_manifest m;
	bool parsed;
};

struct pair {
	char *mpath, *path;
	struct side s[2];
};

struct ent {
	lmd_diff_kind kind;
	char *path, *old_path, *dataset;
	uint32_t old_mode, new_mode;
	uint64_t old_size, new_size;
	lmd_oid old_id, new_id;
};

struct dctx {
	lmd_repo *r;
	lmd_store *store;
	char **sel;
	size_t nsel;
	struct pair *pairs;
	size_t npairs, cappairs;
	struct ent *ents;
	size_t nents, capents;
	const char *dataset;
};

/* The store, opened on first need: comparing two file datasets needs none
 * (log of a file dataset never opens the pack indexes). */
static int dstore(struct dctx *c)
{
	return c->store ? 0 : lmd__repo_store(c->r, &c->store);
}

static bool wanted(struct dctx *c, const char *p)
{
	if (!c->nsel)
		return true;
	for (size_t i = 0; i < c->nsel; i++)
		if (lmd__path_selects(c->sel[i], p))
			return true;
	return false;
}

/* A new pair (the same manifest may get two: merge_pairs joins them). */
static struct pair *pair_get(struct dctx *c, const char *mpath)
{
	if (c->npairs == c->cappairs) {
		size_t n = c->cappairs ? c->cappairs * 2 : 16;
		struct pair *nv = lmd_reallocarray(c->pairs, n, sizeof(*nv));
		if (!nv)
			return NULL;
		c->pairs = nv;
		c->cappairs = n;
	}
	struct pair *p = &c->pairs[c->npairs];
	memset(p, 0, sizeof(*p));
	p->mpath = lmd_strdup(mpath);
	p->path = lmd_strndup(mpath, strlen(mpath) - 4);
	if (!p->mpath || !p->path) {
		free(p->mpath);
		free(p->path);
		return NULL;
	}
	c->npairs++;
	return p;
}

static int pair_cb(const char *mpath, const char *old_blob, const char *new_blob, void *payload)
{
	struct dctx *c = payload;
	struct pair *p = pair_get(c, mpath);
	if (!p)
		return -ENOMEM;
	if (old_blob[0]) {
		p->s[0].present = true;
		snprintf(p->s[0].blob, sizeof(p->s[0].blob), "%s", old_blob);
	}
	if (new_blob[0]) {
		p->s[1].present = true;
		snprintf(p->s[1].blob, sizeof(p->s[1].blob), "%s", new_blob);
	}
	return 0;
}

/* The work tree's manifests on side `side`, with their git blob ids. */
static int add_worktree(struct dctx *c, int side)
{
	lmd_dataset *ds = NULL;
	size_t nds = 0;
	int rc;
	if ((rc = lmd__datasets(c->r, &ds, &nds)) < 0)
		return rc;
	for (size_t i = 0; i < nds && rc >= 0; i++) {
		struct pair *p;
		char *abs;
		if (!wanted(c, ds[i].path))
			continue;
		if (!(p = pair_get(c, ds[i].mpath)) || !(abs = lmd__abs(c->r, ds[i].mpath))) {
			rc = -ENOMEM;
			break;
		}
		rc = lmd_read_file(abs, LMD_MAX_MANIFEST, &p->s[side].text);
		free(abs);
		if (rc == -ENOENT) {
			rc = 0; /* a deleted manifest: the dataset is gone on this side */
			lmd_error_clear();
			continue;
		}
		if (rc == LMD_ETOOBIG)
			rc = lmd_error_set(LMD_EMANIFEST, "manifest '%s' is too large to be an lmdata manifest", ds[i].mpath);
		if (rc < 0)
			break;
		p->s[side].present = true;
		rc = lmd_git_blob_hash(p->s[side].text.ptr, p->s[side].text.len, p->s[side].blob);
	}
	lmd__datasets_free(ds, nds);
	return rc;
}

static int cmp_pair(const void *x, const void *y)
{
	return strcmp(((const struct pair *)x)->mpath, ((const struct pair *)y)->mpath);
}

/* Sort the pairs by manifest path and join the two halves of a manifest
 * found on both sides (one from git, one from the work tree). */
static void merge_pairs(struct dctx *c)
{
	size_t k = 0;
	if (!c->npairs)
		return;
	qsort(c->pairs, c->npairs, sizeof(*c->pairs), cmp_pair);
	for (size_t i = 0; i < c->npairs; i++) {
		struct pair *p = &c->pairs[i];
		if (k && !strcmp(c->pairs[k - 1].mpath, p->mpath)) {
			struct pair *q = &c->pairs[k - 1];
			for (int sd = 0; sd < 2; sd++)
				if (p->s[sd].present && !q->s[sd].present) {
					lmd_buf_release(&q->s[sd].text);
					q->s[sd] = p->s[sd];
					p->s[sd].text = (lmd_buf)LMD_BUF_INIT;
				}
			for (int sd = 0; sd < 2; sd++)
				lmd_buf_release(&p->s[sd].text);
			free(p->mpath);
			free(p->path);
			continue;
		}
		c->pairs[k++] = *p;
	}
	c->npairs = k;
}

static int push_ent(struct dctx *c, lmd_diff_kind k, const char *path, const lmd_tree_entry *o,
		    const lmd_tree_entry *n)
{
	if (!wanted(c, path))
		return 0;
	if (c->nents == c->capents) {
		size_t cap = c->capents ? c->capents * 2 : 64;
		struct ent *nv = lmd_reallocarray(c->ents, cap, sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		c->ents = nv;
		c->capents = cap;
	}
	struct ent *e = &c->ents[c->nents];
	memset(e, 0, sizeof(*e));
	e->kind = k;
	e->path = lmd_strdup(path);
	e->dataset = lmd_strdup(c->dataset);
	if (!e->path || !e->dataset) {
		free(e->path);
		free(e->dataset);
		return -ENOMEM;
	}
	if (o) {
		e->old_mode = o->mode;
		e->old_size = o->size;
		e->old_id = o->id;
	}
	if (n) {
		e->new_mode = n->mode;
		e->new_size = n->size;
		e->new_id = n->id;
	}
	c->nents++;
	return 0;
}

struct all_ctx {
	struct dctx *c;
	lmd_diff_kind k;
};

static int all_file(const char *path, const lmd_tree_entry *e, void *payload)
{
	struct all_ctx *a = payload;
	return push_ent(a->c, a->k, path, a->k == LMD_DIFF_DELETED ? e : NULL, a->k == LMD_DIFF_ADDED ? e : NULL);
}

/* Every file under e (a folder or a file) as added or deleted. */
static int all_of(struct dctx *c, const char *path, const lmd_tree_entry *e, lmd_diff_kind k)
{
	struct all_ctx a = { c, k };
	lmd_walk_cbs cbs = { .file = all_file };
	lmd_manifest m = { .kind = e->mode == LMD_MODE_DIR ? LMD_KIND_DIR : e->mode == LMD_MODE_LINK ? LMD_KIND_LINK
			   : LMD_KIND_FILE, .size = e->size, .id = e->id, .executable = e->mode == LMD_MODE_EXEC };
	int rc;
	if (!wanted(c, path) && e->mode != LMD_MODE_DIR)
		return 0;
	if (e->mode == LMD_MODE_DIR && (rc = dstore(c)) < 0)
		return rc;
	return lmd_walk_manifest(c->store, path, &m, &cbs, &a);
}

static int read_tree(struct dctx *c, const lmd_oid *id, const char *path, lmd_tree *t)
{
	lmd_buf raw = LMD_BUF_INIT;
	int rc;
	if ((rc = dstore(c)) < 0)
		return rc;
	if ((rc = lmd_store_get(c->store, id, LMD_OBJ_TREE, &raw)) < 0 || (rc = lmd_tree_parse(&raw, t)) < 0) {
		lmd_buf_release(&raw);
		if (rc == LMD_EMISSING)
			return lmd_error_set(rc, "the tree of '%s' is not in the local store; fetch it with 'lmdata pull'",
					     path);
		return lmd_error_wrap(rc, "cannot read the tree of '%s'", path);
	}
	return 0;
}

static int diff_entry(struct dctx *c, const char *path, const lmd_tree_entry *o, const lmd_tree_entry *n, int depth)
{
	int rc = 0;
	if (depth > 256)
		return lmd_error_set(LMD_ECORRUPT, "trees nested too deep at '%s'", path);
	if (!o)
		return all_of(c, path, n, LMD_DIFF_ADDED);
	if (!n)
		return all_of(c, path, o, LMD_DIFF_DELETED);
	bool od = o->mode == LMD_MODE_DIR, nd = n->mode == LMD_MODE_DIR;
	if (!od && !nd) {
		if (o->mode == n->mode && !lmd_oid_cmp(&o->id, &n->id))
			return 0;
		return push_ent(c, LMD_DIFF_MODIFIED, path, o, n);
	}
	if (od != nd) {
		if ((rc = all_of(c, path, o, LMD_DIFF_DELETED)) < 0)
			return rc;
		return all_of(c, path, n, LMD_DIFF_ADDED);
	}
	if (!lmd_oid_cmp(&o->id, &n->id) || !wanted(c, path))
		return 0; /* equal subtree: not opened */
	lmd_tree to = { 0 }, tn = { 0 };
	if ((rc = read_tree(c, &o->id, path, &to)) < 0 || (rc = read_tree(c, &n->id, path, &tn)) < 0)
		goto done;
	/* Both sorted bytewise by name: merge. */
	for (size_t i = 0, j = 0; (i < to.n || j < tn.n) && rc >= 0;) {
		int cmp = i >= to.n ? 1 : j >= tn.n ? -1 : strcmp(to.entries[i].name, tn.entries[j].name);
		const lmd_tree_entry *a = cmp <= 0 ? &to.entries[i] : NULL, *b = cmp >= 0 ? &tn.entries[j] : NULL;
		char *p = lmd_asprintf("%s/%s", path, a ? a->name : b->name);
		if (!p) {
			rc = -ENOMEM;
			break;
		}
		rc = diff_entry(c, p, a, b, depth + 1);
		free(p);
		if (a)
			i++;
		if (b)
			j++;
	}
done:
	lmd_tree_release(&to);
	lmd_tree_release(&tn);
	return rc;
}

static lmd_tree_entry manifest_entry(const lmd_manifest *m)
{
	lmd_tree_entry e = { .size = m->size, .files = m->files, .id = m->id };
	e.mode = m->kind == LMD_KIND_DIR ? LMD_MODE_DIR : m->kind == LMD_KIND_LINK ? LMD_MODE_LINK
		 : m->executable ? LMD_MODE_EXEC : LMD_MODE_FILE;
	return e;
}

static int load_side(lmd_repo *r, struct pair *p, int side, const lmd_rev *rev)
{
	struct side *s = &p->s[side];
	char *where;
	int rc;
	if (!s->present)
		return 0;
	if (rev && (rc = lmd_git_blob_read(r->git, s->blob, LMD_MAX_MANIFEST, &s->text)) < 0) {
		if (rc == LMD_ETOOBIG)
			rc = lmd_error_set(LMD_EMANIFEST, "manifest '%s' at %.12s is too large", p->mpath, rev->id);
		return rc;
	}
	where = rev ? lmd_asprintf("'%s' at %.12s", p->mpath, rev->id) : lmd_asprintf("'%s'", p->mpath);
	if (!where)
		return -ENOMEM;
	rc = lmd__manifest_parse_at(p->mpath, &s->text, where, &s->m);
	free(where);
	if (rc >= 0)
		s->parsed = true;
	return rc;
}

static int cmp_oid_ent(const void *x, const void *y)
{
	const struct ent *a = *(struct ent *const *)x, *b = *(struct ent *const *)y;
	return lmd_oid_cmp(&a->old_id, &b->old_id);
}

static int cmp_path_ent(const void *x, const void *y)
{
	const struct ent *a = x, *b = y;
	int k = strcmp(a->path, b->path);
	return k ? k : (int)a->kind - (int)b->kind;
}

/* Pair deleted and added files with the same content id: renames. */
static int find_renames(struct dctx *c)
{
	struct ent **del = NULL;
	size_t nd = 0;
	for (size_t i = 0; i < c->nents; i++)
		nd += c->ents[i].kind == LMD_DIFF_DELETED;
	if (!nd)
		return 0;
	del = lmd_calloc(nd, sizeof(*del));
	if (!del)
		return -ENOMEM;
	nd = 0;
	for (size_t i = 0; i < c->nents; i++)
		if (c->ents[i].kind == LMD_DIFF_DELETED)
			del[nd++] = &c->ents[i];
	qsort(del, nd, sizeof(*del), cmp_oid_ent);
	for (size_t i = 0; i < c->nents; i++) {
		struct ent *a = &c->ents[i];
		if (a->kind != LMD_DIFF_ADDED || a->new_mode == LMD_MODE_LINK)
			continue;
		size_t lo = 0, hi = nd;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (lmd_oid_cmp(&del[mid]->old_id, &a->new_id) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < nd && !lmd_oid_cmp(&del[lo]->old_id, &a->new_id); lo++) {
			struct ent *d = del[lo];
			if (d->kind != LMD_DIFF_DELETED || d->old_size != a->new_size || a->new_size == 0)
				continue;
			a->kind = LMD_DIFF_RENAMED;
			a->old_path = d->path;
			d->path = NULL;
			a->old_mode = d->old_mode;
			a->old_size = d->old_size;
			a->old_id = d->old_id;
			d->kind = 0; /* consumed */
			break;
		}
	}
	free(del);
	return 0;
}

int lmd_diff(lmd_repo *r, const lmd_rev *a, const lmd_rev *b, const char *const *paths, size_t n, lmd_diff_cb cb,
	     void *payload)
{
	struct dctx c = { .r = r, .nsel = n };
	int rc, count = 0;

	c.sel = lmd_calloc(n ? n : 1, sizeof(*c.sel));
	if (!c.sel)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if ((rc = lmd__resolve_lexical(r, paths[i], &c.sel[i])) < 0)
			goto done;
	if (a && b) {
		rc = lmd_git_diff_manifests(r->git, a->id, b->id, (const char *const *)c.sel, n, pair_cb, &c);
	} else if (a || b) {
		/* The commit's side through git, the work tree's from disk; equal blob ids drop out below. */
		const lmd_rev *rv = a ? a : b;
		struct dctx tmp = c;
		rc = lmd_git_diff_manifests(r->git, NULL, rv->id, (const char *const *)c.sel, n, pair_cb, &tmp);
		c.pairs = tmp.pairs;
		c.npairs = tmp.npairs;
		c.cappairs = tmp.cappairs;
		if (rc >= 0 && a) {
			/* pair_cb filled side 1; the commit is side 0 here */
			for (size_t i = 0; i < c.npairs; i++) {
				c.pairs[i].s[0] = c.pairs[i].s[1];
				memset(&c.pairs[i].s[1], 0, sizeof(c.pairs[i].s[1]));
			}
		}
		if (rc >= 0)
			rc = add_worktree(&c, a ? 1 : 0);
	} else {
		rc = 0; /* the work tree against itself: nothing differs */
		goto done;
	}
	if (rc < 0)
		goto done;
	merge_pairs(&c);
	/* Every selection must name something on one side or the other. */
	for (size_t j = 0; j < n; j++) {
		bool any = false;
		for (size_t i = 0; i < c.npairs && !any; i++)
			any = lmd__path_selects(c.sel[j], c.pairs[i].path);
		if (!any && a && b) {
			/* Unchanged datasets do not show up in a diff of commits: look at b. */
			lmd__rev_manifest *v = NULL;
			size_t nv = 0;
			char *one = c.sel[j];
			if (lmd__rev_manifests(r, b, &one, &paths[j], 1, &v, &nv) >= 0)
				any = true;
			lmd__rev_manifests_free(v, nv);
			if (!any) {
				lmd_error_clear();
				if (lmd__rev_manifests(r, a, &one, &paths[j], 1, &v, &nv) >= 0)
					any = true;
				lmd__rev_manifests_free(v, nv);
			}
			lmd_error_clear();
		}
		if (!any) {
			rc = lmd_error_set(LMD_EBADINPUT, "'%s' is not tracked by lmdata in either version", paths[j]);
			goto done;
		}
	}
	for (size_t i = 0; i < c.npairs; i++) {
		struct pair *p = &c.pairs[i];
		lmd_tree_entry eo, en;
		if (!p->s[0].present && !p->s[1].present)
			continue; /* a staged manifest deleted from the work tree, absent from the commit */
		if (p->s[0].present && p->s[1].present && !strcmp(p->s[0].blob, p->s[1].blob))
			continue;
		if ((rc = load_side(r, p, 0, a)) < 0 || (rc = load_side(r, p, 1, b)) < 0)
			goto done;
		if (p->s[0].parsed)
			eo = manifest_entry(&p->s[0].m);
		if (p->s[1].parsed)
			en = manifest_entry(&p->s[1].m);
		c.dataset = p->path;
		if ((rc = diff_entry(&c, p->path, p->s[0].parsed ? &eo : NULL, p->s[1].parsed ? &en : NULL, 0)) < 0)
			goto done;
	}
	if ((rc = find_renames(&c)) < 0)
		goto done;
	{
		/* Drop the deletions that became renames. */
		size_t k = 0;
		for (size_t i = 0; i < c.nents; i++) {
			if (c.ents[i].kind) {
				c.ents[k++] = c.ents[i];
			} else {
				free(c.ents[i].path);
				free(c.ents[i].old_path);
				free(c.ents[i].dataset);
			}
		}
		c.nents = k;
	}
	if (c.nents)
		qsort(c.ents, c.nents, sizeof(*c.ents), cmp_path_ent);
	for (size_t i = 0; i < c.nents; i++) {
		struct ent *e = &c.ents[i];
		if (!e->kind)
			continue;
		lmd_diff_entry de = { .kind = e->kind, .path = e->path, .old_path = e->old_path ? e->old_path : e->path,
				      .dataset = e->dataset, .old_mode = e->old_mode, .new_mode = e->new_mode,
				      .old_size = e->old_size, .new_size = e->new_size, .old_id = e->old_id,
				      .new_id = e->new_id };
		count++;
		if (cb)
			cb(&de, payload);
	}
	rc = count;
done:
	for (size_t i = 0; i < c.nents; i++) {
		free(c.ents[i].path);
		free(c.ents[i].old_path);
		free(c.ents[i].dataset);
	}
	free(c.ents);
	for (size_t i = 0; i < c.npairs; i++) {
		free(c.pairs[i].mpath);
		free(c.pairs[i].path);
		for (int s = 0; s < 2; s++) {
			lmd_buf_release(&c.pairs[i].s[s].text);
			if (c.pairs[i].s[s].parsed)
				lmd_manifest_release(&c.pairs[i].s[s].m);
		}
	}
	free(c.pairs);
	for (size_t i = 0; i < n; i++)
		free(c.sel[i]);
	free(c.sel);
	return rc;
}

int lmd__diff_count(lmd_repo *r, const char *path, const lmd_manifest *o, const lmd_manifest *n,
		    int64_t *ret_added, int64_t *ret_deleted, int64_t *ret_modified)
{
	struct dctx c = { .r = r, .dataset = path };
	lmd_tree_entry eo, en;
	int64_t a = 0, d = 0, m = 0;
	int rc;

	if (o)
		eo = manifest_entry(o);
	if (n)
		en = manifest_entry(n);
	if ((rc = diff_entry(&c, path, o ? &eo : NULL, n ? &en : NULL, 0)) >= 0)
		rc = find_renames(&c);
	for (size_t i = 0; i < c.nents; i++) {
		switch (c.ents[i].kind) {
		case LMD_DIFF_ADDED: a++; break;
		case LMD_DIFF_DELETED: d++; break;
		case LMD_DIFF_MODIFIED:
		case LMD_DIFF_RENAMED: m++; break;
		}
		free(c.ents[i].path);
		free(c.ents[i].old_path);
		free(c.ents[i].dataset);
	}
	free(c.ents);
	if (rc < 0)
		return rc;
	*ret_added = a;
	*ret_deleted = d;
	*ret_modified = m;
	return 0;
}
