/*
 * libgit2 glue: repository discovery, staging manifests and .gitignore
 * files, listing manifests from the index, and per-path status.  libgit2
 * is initialised once per process.
 */
#include <git2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "git.h"
#include "util.h"

struct lmd_git {
	git_repository *repo;
};

static pthread_once_t git_once = PTHREAD_ONCE_INIT;

static void git_shutdown(void)
{
	git_libgit2_shutdown();
}

static void git_init_once(void)
{
	git_libgit2_init();
	atexit(git_shutdown);
}

static int git_fail(const char *what)
{
	const git_error *e = git_error_last();
	return lmd_error_set(LMD_EGIT, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

int lmd_git_open(const char *start, lmd_git **ret, char **ret_top)
{
	lmd_git *g;
	const char *wd;
	char *top;
	size_t n;
	int r;

	pthread_once(&git_once, git_init_once);
	g = lmd_calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	r = git_repository_open_ext(&g->repo, start ? start : ".", 0, NULL);
	if (r == GIT_ENOTFOUND) {
		free(g);
		return lmd_error_set(LMD_ENOTREPO,
			"not in a git work tree ('%s'); run 'git init' first, then 'lmdata init'", start ? start : ".");
	}
	if (r < 0) {
		free(g);
		return git_fail("cannot open the git repository");
	}
	wd = git_repository_workdir(g->repo);
	if (!wd) {
		git_repository_free(g->repo);
		free(g);
		return lmd_error_set(LMD_ENOTREPO, "the git repository is bare: lmdata needs a work tree");
	}
	n = strlen(wd);
	while (n > 1 && wd[n - 1] == '/')
		n--;
	top = lmd_strndup(wd, n);
	if (!top) {
		git_repository_free(g->repo);
		free(g);
		return -ENOMEM;
	}
	*ret = g;
	*ret_top = top;
	return 0;
}

void lmd_git_free(lmd_git *g)
{
	if (!g)
		return;
	git_repository_free(g->repo);
	free(g);
}

int lmd_git_stage(lmd_git *g, const char *const *paths, size_t n)
{
	git_index *idx = NULL;
	int r = 0;

	if (git_repository_index(&idx, g->repo) < 0)
		return git_fail("cannot read the git index");
	if (git_index_read(idx, 0) < 0) {
		r = git_fail("cannot read the git index");
		goto done;
	}
	bool changed = false;
	for (size_t i = 0; i < n; i++) {
		/* Existence decides: a removed manifest leaves the index. */
		const git_index_entry *e = git_index_get_bypath(idx, paths[i], 0);
		int exists;
		char *full = lmd_path_join(git_repository_workdir(g->repo), paths[i]);
		if (!full) {
			r = -ENOMEM;
			goto done;
		}
		exists = access(full, F_OK) == 0;
		if (exists && e && e->mode == GIT_FILEMODE_BLOB) {
			/* Already staged as it is (a re-add of unchanged data):
			 * leave the index alone rather than rewrite it. */
			git_oid oid;
			if (git_odb_hashfile(&oid, full, GIT_OBJECT_BLOB) == 0 && git_oid_equal(&oid, &e->id)) {
				free(full);
				continue;
			}
		}
		free(full);
		if (!exists && !e)
			continue;
		if (exists ? git_index_add_bypath(idx, paths[i]) < 0
			   : (git_index_remove_bypath(idx, paths[i]) < 0)) {
			r = git_fail("cannot stage in git");
			lmd_error_wrap(r, "'%s'", paths[i]);
			goto done;
		}
		changed = true;
	}
	if (changed && git_index_write(idx) < 0)
		r = git_fail("cannot write the git index");
done:
	git_index_free(idx);
	return r;
}

int lmd_git_untrack(lmd_git *g, const char *path, size_t *ret_removed)
{
	git_index *idx = NULL;
	size_t before;
	int r = 0;

	*ret_removed = 0;
	if (git_repository_index(&idx, g->repo) < 0)
		return git_fail("cannot read the git index");
	before = git_index_entrycount(idx);
	if (git_index_remove_bypath(idx, path) < 0 || git_index_remove_directory(idx, path, 0) < 0) {
		r = git_fail("cannot remove from the git index");
		goto done;
	}
	*ret_removed = before - git_index_entrycount(idx);
	if (*ret_removed && git_index_write(idx) < 0)
		r = git_fail("cannot write the git index");
done:
	git_index_free(idx);
	return r;
}

int lmd_git_list_manifests(lmd_git *g, lmd_git_path_cb cb, void *payload)
{
	git_index *idx = NULL;
	const char *prev = NULL;
	size_t n;
	int r = 0;

	if (git_repository_index(&idx, g->repo) < 0)
		return git_fail("cannot read the git index");
	n = git_index_entrycount(idx);
	for (size_t i = 0; i < n; i++) {
		const git_index_entry *e = git_index_get_byindex(idx, i);
		size_t l = strlen(e->path);
		if (l <= 4 || strcmp(e->path + l - 4, ".lmd") != 0)
			continue;
		if (prev && !strcmp(prev, e->path))
			continue; /* conflict stages of the same path */
		prev = e->path;
		if ((r = cb(e->path, payload)) < 0)
			break;
	}
	git_index_free(idx);
	return r;
}

int lmd_git_path_state(lmd_git *g, const char *path, unsigned *ret_flags)
{
	unsigned int st = 0;
	unsigned f = 0;
	int r = git_status_file(&st, g->repo, path);

	if (r == GIT_ENOTFOUND) {
		*ret_flags = 0;
		return 0;
	}
	if (r < 0)
		return git_fail("cannot get git status");
	if (st & (GIT_STATUS_INDEX_NEW | GIT_STATUS_INDEX_MODIFIED | GIT_STATUS_INDEX_DELETED |
		  GIT_STATUS_INDEX_RENAMED | GIT_STATUS_INDEX_TYPECHANGE))
		f |= LMD_GIT_UNCOMMITTED;
	if (st & (GIT_STATUS_WT_MODIFIED | GIT_STATUS_WT_DELETED | GIT_STATUS_WT_TYPECHANGE | GIT_STATUS_WT_NEW))
		f |= LMD_GIT_WT_CHANGED;
	if (st & GIT_STATUS_CONFLICTED)
		f |= LMD_GIT_CONFLICT;
	*ret_flags = f;
	return 0;
}

/* ---- history: revisions, trees, blobs, the revision walk ---- */

#include <stdio.h>
#include <time.h>

#include "lmdata/history.h"
#include "oidset.h"

static void oid_hex(const git_oid *id, char out[LMD_GIT_HEXSZ + 1])
{
	git_oid_tostr(out, LMD_GIT_HEXSZ + 1, id);
}

static int oid_from_hex(git_oid *ret, const char *hex)
{
	if (git_oid_fromstr(ret, hex) < 0)
		return lmd_error_set(LMD_EBADINPUT, "'%s' is not an object id", hex);
	return 0;
}

bool lmd_git_is_shallow(lmd_git *g)
{
	return git_repository_is_shallow(g->repo) == 1;
}

bool lmd_git_head_born(lmd_git *g)
{
	return git_repository_head_unborn(g->repo) == 0;
}

int lmd_git_rev_parse(lmd_git *g, const char *spec, char ret_id[LMD_GIT_HEXSZ + 1])
{
	git_object *o = NULL, *c = NULL;
	int r = git_revparse_single(&o, g->repo, spec);

	if (r < 0) {
		if (git_repository_head_unborn(g->repo) == 1)
			return lmd_error_set(LMD_ENOTFOUND,
				"unknown revision '%s': the repository has no commits yet ('lmdata commit' makes the first)",
				spec);
		if (lmd_git_is_shallow(g))
			return lmd_error_set(LMD_ENOTFOUND,
				"unknown revision '%s': this clone is shallow and may lack it; fetch the history with "
				"'git fetch --unshallow'", spec);
		return lmd_error_set(LMD_ENOTFOUND,
			"unknown revision '%s'; name a commit, tag or branch ('git log --oneline' lists commits)", spec);
	}
	r = git_object_peel(&c, o, GIT_OBJECT_COMMIT);
	git_object_free(o);
	if (r < 0)
		return lmd_error_set(LMD_EBADINPUT, "'%s' does not name a commit", spec);
	oid_hex(git_object_id(c), ret_id);
	git_object_free(c);
	return 0;
}

bool lmd_git_is_range(const char *spec)
{
	return strstr(spec, "..") != NULL;
}

int lmd_git_range_commits(lmd_git *g, const char *spec, lmd_git_id_cb cb, void *payload)
{
	const char *dots = strstr(spec, "..");
	char *from = NULL, *to = NULL;
	char from_id[LMD_GIT_HEXSZ + 1], to_id[LMD_GIT_HEXSZ + 1];
	git_revwalk *w = NULL;
	git_oid a, b, oid;
	int r;

	if (!dots)
		return lmd_error_set(LMD_EBADINPUT, "'%s' is not a range A..B", spec);
	if (dots[2] == '.')
		return lmd_error_set(LMD_EBADINPUT, "'%s': symmetric ranges (A...B) are not supported; use A..B", spec);
	from = dots == spec ? lmd_strdup("HEAD") : lmd_strndup(spec, (size_t)(dots - spec));
	to = lmd_strdup(dots[2] ? dots + 2 : "HEAD");
	if (!from || !to) {
		r = -ENOMEM;
		goto done;
	}
	if ((r = lmd_git_rev_parse(g, from, from_id)) < 0 || (r = lmd_git_rev_parse(g, to, to_id)) < 0)
		goto done;
	if (git_oid_fromstr(&a, from_id) < 0 || git_oid_fromstr(&b, to_id) < 0 ||
	    git_revwalk_new(&w, g->repo) < 0 || git_revwalk_push(w, &b) < 0 || git_revwalk_hide(w, &a) < 0) {
		r = git_fail("cannot walk the range");
		goto done;
	}
	r = 0;
	while (r >= 0 && (r = git_revwalk_next(&oid, w)) == 0) {
		char hex[LMD_GIT_HEXSZ + 1];
		oid_hex(&oid, hex);
		r = cb(hex, payload);
	}
	if (r == GIT_ITEROVER)
		r = 0;
	else if (r < 0 && lmd_error_code() == 0)
		r = git_fail("cannot walk the range");
done:
	git_revwalk_free(w);
	free(from);
	free(to);
	return r;
}

static char *dup_subject(const char *msg)
{
	const char *e;
	if (!msg)
		return lmd_strdup("");
	while (*msg == '\n')
		msg++;
	e = strchr(msg, '\n');
	return e ? lmd_strndup(msg, (size_t)(e - msg)) : lmd_strdup(msg);
}

static int fill_commit(git_commit *c, lmd_git_commit *ret)
{
	const git_signature *a = git_commit_author(c);
	lmd_git_commit out = { 0 };

	oid_hex(git_commit_id(c), out.id);
	out.nparents = git_commit_parentcount(c);
	if (out.nparents) {
		oid_hex(git_commit_parent_id(c, 0), out.parent);
		out.parents = lmd_reallocarray(NULL, out.nparents, sizeof(*out.parents));
		if (!out.parents)
			return -ENOMEM;
		for (unsigned i = 0; i < out.nparents; i++)
			oid_hex(git_commit_parent_id(c, i), out.parents[i]);
	}
	out.time = (int64_t)git_commit_time(c);
	out.author_time = a ? (int64_t)a->when.time : out.time;
	out.author_tz = a ? a->when.offset : 0;
	out.author = lmd_strdup(a && a->name ? a->name : "");
	out.email = lmd_strdup(a && a->email ? a->email : "");
	out.subject = dup_subject(git_commit_message(c));
	if (!out.author || !out.email || !out.subject) {
		lmd_git_commit_release(&out);
		return -ENOMEM;
	}
	*ret = out;
	return 0;
}

void lmd_git_commit_release(lmd_git_commit *c)
{
	if (!c)
		return;
	free(c->author);
	free(c->email);
	free(c->subject);
	free(c->parents);
	c->author = c->email = c->subject = NULL;
	c->parents = NULL;
}

int lmd_git_commit_read(lmd_git *g, const char *id, lmd_git_commit *ret)
{
	git_oid oid;
	git_commit *c = NULL;
	int r;

	if ((r = oid_from_hex(&oid, id)) < 0)
		return r;
	if (git_commit_lookup(&c, g->repo, &oid) < 0)
		return lmd_error_set(LMD_ENOTFOUND, "commit %.12s is not in this repository", id);
	r = fill_commit(c, ret);
	git_commit_free(c);
	return r;
}

int lmd_git_rev_at(lmd_git *g, int64_t when, char ret_id[LMD_GIT_HEXSZ + 1])
{
	git_commit *c = NULL, *p = NULL;
	git_oid head;

	if (git_reference_name_to_id(&head, g->repo, "HEAD") < 0)
		return lmd_error_set(LMD_ENOTFOUND, "no commits yet: nothing to travel back to");
	if (git_commit_lookup(&c, g->repo, &head) < 0)
		return git_fail("cannot read HEAD");
	for (;;) {
		if ((int64_t)git_commit_time(c) <= when) {
			oid_hex(git_commit_id(c), ret_id);
			git_commit_free(c);
			return 0;
		}
		if (git_commit_parentcount(c) == 0 || git_commit_parent(&p, c, 0) < 0) {
			bool shallow = git_commit_parentcount(c) > 0 || lmd_git_is_shallow(g);
			git_commit_free(c);
			if (shallow)
				return lmd_error_set(LMD_ENOTFOUND,
					"no commit at or before that date in this shallow clone; fetch the history with "
					"'git fetch --unshallow'");
			return lmd_error_set(LMD_ENOTFOUND,
				"no commit on the current branch is at or before that date (the first is newer)");
		}
		git_commit_free(c);
		c = p;
		p = NULL;
	}
}

/* A change found by the tree diff, collected then sorted and deduplicated. */
struct change {
	char *path;
	char old_blob[LMD_GIT_HEXSZ + 1], new_blob[LMD_GIT_HEXSZ + 1];
};

struct changes {
	struct change *v;
	size_t n, cap;
};

static int changes_push(struct changes *cs, const char *path, const git_oid *o, const git_oid *n)
{
	if (cs->n == cs->cap) {
		size_t c = cs->cap ? cs->cap * 2 : 32;
		struct change *nv = lmd_reallocarray(cs->v, c, sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		cs->v = nv;
		cs->cap = c;
	}
	struct change *ch = &cs->v[cs->n];
	memset(ch, 0, sizeof(*ch));
	ch->path = lmd_strdup(path);
	if (!ch->path)
		return -ENOMEM;
	if (o)
		oid_hex(o, ch->old_blob);
	if (n)
		oid_hex(n, ch->new_blob);
	cs->n++;
	return 0;
}

static bool is_manifest_name(const char *name)
{
	size_t l = strlen(name);
	return l > 4 && !strcmp(name + l - 4, ".lmd");
}

static char *child_path(const char *dir, const char *name)
{
	return dir[0] ? lmd_asprintf("%s/%s", dir, name) : lmd_strdup(name);
}

/* Manifests under two trees (either NULL), skipping equal subtrees. */
static int diff_trees(git_repository *repo, const char *dir, git_tree *a, git_tree *b, struct changes *cs,
		      int depth)
{
	int r = 0;

	if (depth > 512)
		return lmd_error_set(LMD_ECORRUPT, "git trees nested too deep at '%s'", dir);
	if (a && b && !git_oid_cmp(git_tree_id(a), git_tree_id(b)))
		return 0;
	for (int side = 0; side < 2 && r >= 0; side++) {
		git_tree *t = side ? b : a, *other = side ? a : b;
		size_t n = t ? git_tree_entrycount(t) : 0;
		for (size_t i = 0; i < n && r >= 0; i++) {
			const git_tree_entry *e = git_tree_entry_byindex(t, i);
			const char *name = git_tree_entry_name(e);
			const git_tree_entry *o = other ? git_tree_entry_byname(other, name) : NULL;
			git_object_t et = git_tree_entry_type(e);
			git_object_t ot = o ? git_tree_entry_type(o) : GIT_OBJECT_INVALID;
			if (o && side == 1 && ot == et)
				continue; /* pairs were handled from side a */
			if (o && !git_oid_cmp(git_tree_entry_id(e), git_tree_entry_id(o)) && ot == et)
				continue;
			char *p = child_path(dir, name);
			if (!p)
				return -ENOMEM;
			if (et == GIT_OBJECT_TREE) {
				git_tree *st = NULL, *so = NULL;
				if (git_tree_lookup(&st, repo, git_tree_entry_id(e)) < 0) {
					free(p);
					return git_fail("cannot read a git tree");
				}
				if (ot == GIT_OBJECT_TREE && git_tree_lookup(&so, repo, git_tree_entry_id(o)) < 0) {
					git_tree_free(st);
					free(p);
					return git_fail("cannot read a git tree");
				}
				r = side ? diff_trees(repo, p, so, st, cs, depth + 1) : diff_trees(repo, p, st, so, cs, depth + 1);
				git_tree_free(st);
				git_tree_free(so);
			} else if (et == GIT_OBJECT_BLOB && is_manifest_name(name)) {
				const git_oid *eo = git_tree_entry_id(e);
				const git_oid *oo = ot == GIT_OBJECT_BLOB ? git_tree_entry_id(o) : NULL;
				r = side ? changes_push(cs, p, oo, eo) : changes_push(cs, p, eo, oo);
			}
			free(p);
		}
	}
	return r;
}

static int cmp_change(const void *x, const void *y)
{
	return strcmp(((const struct change *)x)->path, ((const struct change *)y)->path);
}

static int commit_tree(git_repository *repo, const char *id, git_tree **ret)
{
	git_oid oid;
	git_commit *c = NULL;
	int r;

	*ret = NULL;
	if (!id || !id[0])
		return 0;
	if ((r = oid_from_hex(&oid, id)) < 0)
		return r;
	if (git_commit_lookup(&c, repo, &oid) < 0)
		return lmd_error_set(LMD_ENOTFOUND,
			"commit %.12s is missing (a shallow clone? fetch the history with 'git fetch --unshallow')", id);
	r = git_commit_tree(ret, c);
	git_commit_free(c);
	return r < 0 ? git_fail("cannot read a commit's tree") : 0;
}

/* The id of the tree or blob at path in t: false when absent (or another type). */
static bool id_at(git_tree *t, const char *path, git_object_t want, git_oid *ret)
{
	git_tree_entry *e = NULL;
	bool ok;
	if (!t)
		return false;
	if (!path[0]) {
		if (want != GIT_OBJECT_TREE)
			return false;
		git_oid_cpy(ret, git_tree_id(t));
		return true;
	}
	if (git_tree_entry_bypath(&e, t, path) < 0)
		return false;
	ok = git_tree_entry_type(e) == want;
	if (ok)
		git_oid_cpy(ret, git_tree_entry_id(e));
	git_tree_entry_free(e);
	return ok;
}

/* The folder `path` on both sides: compared by id, opened only when it differs. */
static int diff_dir_at(git_repository *repo, git_tree *ta, git_tree *tb, const char *path, struct changes *cs)
{
	git_oid ia, ib;
	git_tree *da = NULL, *db = NULL;
	bool ha = id_at(ta, path, GIT_OBJECT_TREE, &ia), hb = id_at(tb, path, GIT_OBJECT_TREE, &ib);
	int r;
	if (!ha && !hb)
		return 0;
	if (ha && hb && !git_oid_cmp(&ia, &ib))
		return 0;
	if ((ha && git_tree_lookup(&da, repo, &ia) < 0) || (hb && git_tree_lookup(&db, repo, &ib) < 0)) {
		git_tree_free(da);
		return git_fail("cannot read a git tree");
	}
	r = diff_trees(repo, path, da, db, cs, 0);
	git_tree_free(da);
	git_tree_free(db);
	return r;
}

static int diff_blob_at(git_tree *ta, git_tree *tb, const char *mpath, struct changes *cs)
{
	git_oid a, b;
	bool ha = id_at(ta, mpath, GIT_OBJECT_BLOB, &a), hb = id_at(tb, mpath, GIT_OBJECT_BLOB, &b);
	if ((ha || hb) && !(ha && hb && !git_oid_cmp(&a, &b)))
		return changes_push(cs, mpath, ha ? &a : NULL, hb ? &b : NULL);
	return 0;
}

int lmd_git_diff_manifests(lmd_git *g, const char *a, const char *b, const char *const *sel, size_t n,
			   lmd_git_change_cb cb, void *payload)
{
	git_tree *ta = NULL, *tb = NULL;
	struct changes cs = { 0 };
	int r;

	if ((r = commit_tree(g->repo, a, &ta)) < 0 || (r = commit_tree(g->repo, b, &tb)) < 0)
		goto done;
	if (n == 0) {
		r = diff_trees(g->repo, "", ta, tb, &cs, 0);
	} else {
		for (size_t i = 0; i < n && r >= 0; i++) {
			const char *s = sel[i];
			char *m;
			/* The folder s (datasets inside it) ... */
			r = diff_dir_at(g->repo, ta, tb, s, &cs);
			if (r < 0 || !s[0])
				break;
			/* ... the dataset s itself, and any dataset s lies inside. */
			for (size_t l = strlen(s); r >= 0; ) {
				m = lmd_asprintf("%.*s.lmd", (int)l, s);
				if (!m) {
					r = -ENOMEM;
					break;
				}
				r = diff_blob_at(ta, tb, m, &cs);
				free(m);
				while (l > 0 && s[l - 1] != '/')
					l--;
				if (l <= 1)
					break;
				l--; /* drop the '/' */
			}
		}
	}
	if (r < 0)
		goto done;
	if (cs.n)
		qsort(cs.v, cs.n, sizeof(*cs.v), cmp_change);
	for (size_t i = 0; i < cs.n && r >= 0; i++) {
		if (i && !strcmp(cs.v[i].path, cs.v[i - 1].path))
			continue;
		r = cb(cs.v[i].path, cs.v[i].old_blob, cs.v[i].new_blob, payload);
	}
done:
	for (size_t i = 0; i < cs.n; i++)
		free(cs.v[i].path);
	free(cs.v);
	git_tree_free(ta);
	git_tree_free(tb);
	return r < 0 ? r : 0;
}

int lmd_git_blob_read(lmd_git *g, const char *blob, size_t max, lmd_buf *out)
{
	git_oid oid;
	git_blob *b = NULL;
	int r;

	if ((r = oid_from_hex(&oid, blob)) < 0)
		return r;
	if (git_blob_lookup(&b, g->repo, &oid) < 0)
		return git_fail("cannot read a manifest from git");
	if ((size_t)git_blob_rawsize(b) > max) {
		git_blob_free(b);
		return LMD_ETOOBIG;
	}
	lmd_buf_clear(out);
	r = lmd_buf_put(out, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b));
	git_blob_free(b);
	return r;
}

int lmd_git_blob_hash(const void *data, size_t len, char ret_id[LMD_GIT_HEXSZ + 1])
{
	git_oid oid;
	if (git_odb_hash(&oid, data, len, GIT_OBJECT_BLOB) < 0)
		return git_fail("cannot hash a manifest");
	oid_hex(&oid, ret_id);
	return 0;
}

int lmd_git_log(lmd_git *g, lmd_git_commit_cb cb, void *payload)
{
	git_revwalk *w = NULL;
	git_oid oid;
	int r;

	if (git_repository_head_unborn(g->repo) == 1)
		return lmd_error_set(LMD_ENOTFOUND, "no commits yet: the history is empty ('lmdata commit' makes the first)");
	/* Each manifest blob is read twice (new in one commit, old in the
	 * next): let libgit2 cache small blobs, as it does trees. */
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_BLOB, (size_t)LMD_MAX_MANIFEST);
	if (git_revwalk_new(&w, g->repo) < 0)
		return git_fail("cannot walk the history");
	/* git's own order (newest first, incremental): 'log -n 1' does not read every commit. */
	git_revwalk_sorting(w, GIT_SORT_NONE);
	if (git_revwalk_push_head(w) < 0) {
		git_revwalk_free(w);
		return git_fail("cannot read HEAD");
	}
	while ((r = git_revwalk_next(&oid, w)) == 0) {
		git_commit *c = NULL;
		lmd_git_commit info;
		if (git_commit_lookup(&c, g->repo, &oid) < 0) {
			r = git_fail("cannot read a commit");
			break;
		}
		r = fill_commit(c, &info);
		git_commit_free(c);
		if (r < 0)
			break;
		r = cb(&info, payload);
		lmd_git_commit_release(&info);
		if (r != 0)
			break;
	}
	git_revwalk_free(w);
	if (r == GIT_ITEROVER || r > 0)
		return 0;
	if (r < 0 && lmd_error_code() == 0)
		return lmd_git_is_shallow(g) ? 0 : git_fail("cannot walk the history");
	return r;
}

int lmd_git_log_head(lmd_git *g, char ret_id[LMD_GIT_HEXSZ + 1])
{
	git_oid oid;

	if (git_repository_head_unborn(g->repo) == 1)
		return lmd_error_set(LMD_ENOTFOUND, "no commits yet: the history is empty ('lmdata commit' makes the first)");
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_BLOB, (size_t)LMD_MAX_MANIFEST);
	if (git_reference_name_to_id(&oid, g->repo, "HEAD") < 0)
		return git_fail("cannot read HEAD");
	oid_hex(&oid, ret_id);
	return 0;
}

static int stop_at_first(const char *name, void *payload)
{
	(void)name;
	(void)payload;
	return 1;
}

bool lmd_git_history_altered(lmd_git *g)
{
	char *grafts;
	bool altered;

	if (lmd_git_is_shallow(g))
		return true;
	grafts = lmd_path_join(git_repository_commondir(g->repo), "info/grafts");
	altered = !grafts || access(grafts, F_OK) == 0;
	free(grafts);
	/* 1: a replacement exists; < 0: cannot tell, so assume one does. */
	if (!altered && git_reference_foreach_glob(g->repo, "refs/replace/*", stop_at_first, NULL) != 0)
		altered = true;
	git_error_clear();
	return altered;
}

struct scope_ctx {
	lmd_git *g;
	lmd_git_id_cb cb;
	void *payload;
	int r;
};

static int push_ref_commit(lmd_git *g, const char *refname, lmd_git_id_cb cb, void *payload)
{
	git_object *o = NULL, *c = NULL;
	char hex[LMD_GIT_HEXSZ + 1];
	int r = 0;
	if (git_revparse_single(&o, g->repo, refname) < 0)
		return 0;
	if (git_object_peel(&c, o, GIT_OBJECT_COMMIT) == 0) {
		oid_hex(git_object_id(c), hex);
		r = cb(hex, payload);
	}
	git_object_free(o);
	git_object_free(c);
	return r;
}

static int tag_cb(const char *name, git_oid *oid, void *payload)
{
	struct scope_ctx *s = payload;
	(void)oid;
	s->r = push_ref_commit(s->g, name, s->cb, s->payload);
	return s->r < 0 ? -1 : 0;
}

int lmd_git_scope_commits(lmd_git *g, unsigned scopes, const char *const *revs, size_t nrevs, int64_t since,
			  lmd_git_id_cb cb, void *payload)
{
	struct scope_ctx s = { g, cb, payload, 0 };
	int r = 0;

	if (!lmd_git_head_born(g) && !(scopes & (LMD_GC_ALL_BRANCHES | LMD_GC_ALL_TAGS | LMD_GC_ALL_COMMITS)) &&
	    !nrevs)
		return 0;
	if (scopes & LMD_GC_ALL_BRANCHES) {
		git_branch_iterator *it = NULL;
		git_reference *ref;
		git_branch_t bt;
		if (git_branch_iterator_new(&it, g->repo, GIT_BRANCH_LOCAL) < 0)
			return git_fail("cannot list branches");
		while (r >= 0 && git_branch_next(&ref, &bt, it) == 0) {
			r = push_ref_commit(g, git_reference_name(ref), cb, payload);
			git_reference_free(ref);
		}
		git_branch_iterator_free(it);
		if (r < 0)
			return r;
	}
	if (scopes & LMD_GC_ALL_TAGS) {
		if (git_tag_foreach(g->repo, tag_cb, &s) < 0)
			return s.r < 0 ? s.r : git_fail("cannot list tags");
	}
	for (size_t i = 0; i < nrevs; i++) {
		char hex[LMD_GIT_HEXSZ + 1];
		if (lmd_git_is_range(revs[i])) {
			if ((r = lmd_git_range_commits(g, revs[i], cb, payload)) < 0)
				return r;
			continue;
		}
		if ((r = lmd_git_rev_parse(g, revs[i], hex)) < 0 || (r = cb(hex, payload)) < 0)
			return r;
	}
	if (scopes & (LMD_GC_ALL_COMMITS | LMD_GC_KEEP_SINCE)) {
		git_revwalk *w = NULL;
		git_oid oid;
		if (git_revwalk_new(&w, g->repo) < 0)
			return git_fail("cannot walk the history");
		git_revwalk_push_glob(w, "refs/*");
		if (lmd_git_head_born(g))
			git_revwalk_push_head(w);
		while (r >= 0 && git_revwalk_next(&oid, w) == 0) {
			char hex[LMD_GIT_HEXSZ + 1];
			if (!(scopes & LMD_GC_ALL_COMMITS)) {
				git_commit *c = NULL;
				bool keep = false;
				if (git_commit_lookup(&c, g->repo, &oid) == 0) {
					keep = (int64_t)git_commit_time(c) >= since;
					git_commit_free(c);
				}
				if (!keep)
					continue;
			}
			oid_hex(&oid, hex);
			r = cb(hex, payload);
		}
		git_revwalk_free(w);
	}
	return r;
}

struct blobs_ctx {
	git_repository *repo;
	lmd_oidset seen;    /* trees and blobs already visited (git ids, zero-padded) */
	lmd_git_change_cb cb;
	void *payload;
};

static int seen_add(lmd_oidset *s, const git_oid *id)
{
	lmd_oid o = { 0 };
	memcpy(o.id, id->id, sizeof(id->id) < sizeof(o.id) ? sizeof(id->id) : sizeof(o.id));
	return lmd_oidset_add(s, &o);
}

static int blobs_tree(struct blobs_ctx *c, const char *dir, git_tree *t, int depth)
{
	int r = 0;
	if (depth > 512)
		return lmd_error_set(LMD_ECORRUPT, "git trees nested too deep at '%s'", dir);
	for (size_t i = 0; i < git_tree_entrycount(t) && r >= 0; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		git_object_t et = git_tree_entry_type(e);
		const char *name = git_tree_entry_name(e);
		if (et != GIT_OBJECT_TREE && !(et == GIT_OBJECT_BLOB && is_manifest_name(name)))
			continue;
		if ((r = seen_add(&c->seen, git_tree_entry_id(e))) <= 0)
			continue; /* seen (0) or out of memory (< 0) */
		char *p = child_path(dir, name);
		if (!p)
			return -ENOMEM;
		if (et == GIT_OBJECT_TREE) {
			git_tree *st = NULL;
			if (git_tree_lookup(&st, c->repo, git_tree_entry_id(e)) < 0)
				r = git_fail("cannot read a git tree");
			else
				r = blobs_tree(c, p, st, depth + 1);
			git_tree_free(st);
		} else {
			char hex[LMD_GIT_HEXSZ + 1];
			oid_hex(git_tree_entry_id(e), hex);
			r = c->cb(p, "", hex, c->payload);
		}
		free(p);
	}
	return r < 0 ? r : 0;
}

int lmd_git_manifest_blobs(lmd_git *g, const char *const *commits, size_t n, lmd_git_change_cb cb, void *payload)
{
	struct blobs_ctx c = { .repo = g->repo, .cb = cb, .payload = payload };
	int r = 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		git_tree *t = NULL;
		if ((r = commit_tree(g->repo, commits[i], &t)) < 0)
			break;
		if ((r = seen_add(&c.seen, git_tree_id(t))) > 0)
			r = blobs_tree(&c, "", t, 0);
		git_tree_free(t);
	}
	lmd_oidset_release(&c.seen);
	return r < 0 ? r : 0;
}

/* ---- commit ---- */

int lmd_git_index_changed(lmd_git *g, bool *ret_changed)
{
	git_index *idx = NULL;
	git_oid tree;
	git_object *head = NULL;
	int r = 0;

	if (git_repository_index(&idx, g->repo) < 0 || git_index_read(idx, 1) < 0) {
		git_index_free(idx);
		return git_fail("cannot read the git index");
	}
	if (git_index_has_conflicts(idx)) {
		git_index_free(idx);
		return lmd_error_set(LMD_EBADINPUT,
			"the index has unmerged paths; resolve the conflicts, 'git add' them, then commit");
	}
	if (git_index_write_tree(&tree, idx) < 0) {
		git_index_free(idx);
		return git_fail("cannot write the index as a tree");
	}
	if (git_revparse_single(&head, g->repo, "HEAD^{tree}") < 0)
		*ret_changed = git_index_entrycount(idx) > 0;
	else
		*ret_changed = git_oid_cmp(&tree, git_object_id(head)) != 0;
	git_object_free(head);
	git_index_free(idx);
	return r;
}

int lmd_git_state(lmd_git *g, const char **ret_what)
{
	int s = git_repository_state(g->repo);
	switch (s) {
	case GIT_REPOSITORY_STATE_NONE: *ret_what = NULL; return 0;
	case GIT_REPOSITORY_STATE_MERGE: *ret_what = "a merge"; break;
	case GIT_REPOSITORY_STATE_REVERT:
	case GIT_REPOSITORY_STATE_REVERT_SEQUENCE: *ret_what = "a revert"; break;
	case GIT_REPOSITORY_STATE_CHERRYPICK:
	case GIT_REPOSITORY_STATE_CHERRYPICK_SEQUENCE: *ret_what = "a cherry-pick"; break;
	case GIT_REPOSITORY_STATE_BISECT: *ret_what = NULL; return 0;
	default: *ret_what = "a rebase or am"; break;
	}
	return 1;
}

int lmd_git_message_prettify(const char *msg, lmd_buf *out)
{
	git_buf b = { 0 };
	int r;
	if (git_message_prettify(&b, msg, 1, '#') < 0)
		return git_fail("cannot clean up the commit message");
	lmd_buf_clear(out);
	r = lmd_buf_put(out, b.ptr ? b.ptr : "", b.size);
	if (r >= 0)
		r = lmd_buf_cstr(out);
	git_buf_dispose(&b);
	return r;
}

char *lmd_git_config_str(lmd_git *g, const char *key)
{
	git_config *cfg = NULL, *snap = NULL;
	const char *v = NULL;
	char *out = NULL;
	if (git_repository_config(&cfg, g->repo) < 0)
		return NULL;
	if (git_config_snapshot(&snap, cfg) == 0 && git_config_get_string(&v, snap, key) == 0)
		out = lmd_strdup(v);
	git_config_free(snap);
	git_config_free(cfg);
	return out;
}

/* GIT_<WHO>_DATE: "@<epoch> [+zone]", "<epoch> <+zone>" or a date lmd_date_parse reads. */
static int env_date(const char *s, git_time *ret)
{
	int64_t t;
	char *end;
	long long v;
	if (s[0] == '@')
		s++;
	v = strtoll(s, &end, 10);
	if (end != s && (*end == '\0' || *end == ' ')) {
		int off = 0;
		const char *z = end;
		while (*z == ' ')
			z++;
		if ((*z == '+' || *z == '-') && strlen(z) >= 5) {
			int hh = (z[1] - '0') * 10 + (z[2] - '0'), mm = (z[3] - '0') * 10 + (z[4] - '0');
			off = (hh * 60 + mm) * (*z == '-' ? -1 : 1);
		}
		ret->time = (git_time_t)v;
		ret->offset = off;
		return 0;
	}
	if (lmd_date_parse(s, &t) < 0)
		return lmd_error_set(LMD_EBADINPUT, "cannot read the date '%s' in GIT_AUTHOR_DATE/GIT_COMMITTER_DATE", s);
	ret->time = (git_time_t)t;
	ret->offset = 0;
	return 0;
}

static int make_sig(lmd_git *g, const char *who, git_signature **ret)
{
	char kn[32], ke[32], kd[32];
	const char *n, *e, *d;
	char *cn = NULL, *ce = NULL;
	int r;

	snprintf(kn, sizeof(kn), "GIT_%s_NAME", who);
	snprintf(ke, sizeof(ke), "GIT_%s_EMAIL", who);
	snprintf(kd, sizeof(kd), "GIT_%s_DATE", who);
	n = getenv(kn);
	e = getenv(ke);
	d = getenv(kd);
	if (!n || !*n)
		n = cn = lmd_git_config_str(g, "user.name");
	if (!e || !*e)
		e = ce = lmd_git_config_str(g, "user.email");
	if (!n || !*n || !e || !*e) {
		free(cn);
		free(ce);
		return lmd_error_set(LMD_EBADINPUT,
			"%s identity unknown: run 'git config user.name \"Your Name\"' and 'git config user.email "
			"you@example.com' (or set %s and %s)", !strcmp(who, "AUTHOR") ? "author" : "committer", kn, ke);
	}
	if (d && *d) {
		git_time t = { 0 };
		if ((r = env_date(d, &t)) == 0 && git_signature_new(ret, n, e, t.time, t.offset) < 0)
			r = git_fail("cannot make a signature");
	} else {
		r = git_signature_now(ret, n, e) < 0 ? git_fail("cannot make a signature") : 0;
	}
	free(cn);
	free(ce);
	return r;
}

int lmd_git_commit_index(lmd_git *g, const char *message, char ret_id[LMD_GIT_HEXSZ + 1])
{
	git_signature *author = NULL, *committer = NULL;
	git_index *idx = NULL;
	git_tree *tree = NULL;
	git_commit *parent = NULL;
	git_oid tree_id, commit_id, head;
	int r;

	if ((r = make_sig(g, "AUTHOR", &author)) < 0 || (r = make_sig(g, "COMMITTER", &committer)) < 0)
		goto done;
	if (git_repository_index(&idx, g->repo) < 0 || git_index_read(idx, 1) < 0) {
		r = git_fail("cannot read the git index");
		goto done;
	}
	if (git_index_write_tree(&tree_id, idx) < 0 || git_tree_lookup(&tree, g->repo, &tree_id) < 0) {
		r = git_fail("cannot write the index as a tree");
		goto done;
	}
	if (git_reference_name_to_id(&head, g->repo, "HEAD") == 0 && git_commit_lookup(&parent, g->repo, &head) < 0) {
		r = git_fail("cannot read HEAD");
		goto done;
	}
	if (git_commit_create(&commit_id, g->repo, "HEAD", author, committer, NULL, message, tree, parent ? 1 : 0,
			      (const git_commit **)&parent) < 0) {
		r = git_fail("cannot create the commit");
		goto done;
	}
	oid_hex(&commit_id, ret_id);
	r = 0;
done:
	git_signature_free(author);
	git_signature_free(committer);
	git_commit_free(parent);
	git_tree_free(tree);
	git_index_free(idx);
	return r;
}

char *lmd_git_dir(lmd_git *g)
{
	const char *p = git_repository_path(g->repo);
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	return lmd_strndup(p, n);
}

char *lmd_git_hooks_dir(lmd_git *g)
{
	char *hp = lmd_git_config_str(g, "core.hooksPath"), *out;
	if (hp && hp[0]) {
		if (hp[0] == '/')
			return hp;
		out = lmd_path_join(git_repository_workdir(g->repo), hp);
		free(hp);
		return out;
	}
	free(hp);
	/* The common dir: hooks are shared by linked work trees. */
	{
		const char *c = git_repository_commondir(g->repo);
		char *dir = lmd_strdup(c);
		size_t n;
		if (!dir)
			return NULL;
		n = strlen(dir);
		while (n > 1 && dir[n - 1] == '/')
			dir[--n] = '\0';
		out = lmd_path_join(dir, "hooks");
		free(dir);
		return out;
	}
}

char *lmd_git_head_name(lmd_git *g)
{
	git_reference *h = NULL;
	char *out;
	if (git_repository_head_detached(g->repo) == 1)
		return lmd_strdup("detached HEAD");
	if (git_reference_lookup(&h, g->repo, "HEAD") < 0)
		return lmd_strdup("HEAD");
	const char *t = git_reference_symbolic_target(h);
	out = lmd_strdup(t && !strncmp(t, "refs/heads/", 11) ? t + 11 : t ? t : "HEAD");
	git_reference_free(h);
	return out;
}
