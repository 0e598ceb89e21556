/*
 * lmd_log: the commits that changed tracked data, newest first.  Each
 * commit is compared with its first parent through git's trees (equal
 * subtrees skipped), so only the manifests that changed are read; the
 * file counts of a change come from the store's trees (equal subtrees
 * skipped again) and are -1 when the store lacks them.
 *
 * What each commit contributes is kept in the log cache (logcache.h), and
 * the history is walked through it (logwalk below): git is asked only
 * about commits the cache lacks.  The walk visits commits in the order
 * libgit2's revwalk gives without sorting flags, so the output is the
 * same with a cold cache, a warm one or none.  Where a commit's parents
 * may differ from what its id says (shallow clones, grafts, replace
 * refs), and when LMDATA_NO_LOG_CACHE is set, libgit2's revwalk runs
 * directly instead (lmd_git_log, commit_cb).
 */
#include <stdlib.h>
#include <string.h>

#include "history_int.h"
#include "logcache.h"

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
	int err;
	lmd_buf text;
	/* the cached walk */
	lmd_logcache *lc;
	size_t idlen;
	lmd_logcache_change *chg;  /* changes computed from git, paths malloc'd */
	size_t nchg, capchg;
	uint8_t *pbuf;             /* parent ids of a commit read from git */
	size_t cappbuf;
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

/*
 * The sizes and file counts of the change of dataset d->path (manifest
 * mpath) from old_blob to new_blob ("" where it does not exist) into d.
 * Returns 1 when they are final (both manifests read, files counted: a
 * later run would find the same), 0 when not, or -ENOMEM.
 */
static int change_figures(struct lctx *c, const char *mpath, const char *old_blob, const char *new_blob,
			  lmd_log_dataset *d)
{
	lmd_manifest mo = { 0 }, mn = { 0 };
	const char *path = d->path;
	int ho, hn = 0, rc = 0, final;

	memset(d, 0, sizeof(*d));
	d->path = path;
	if ((ho = read_manifest(c, mpath, old_blob, &mo)) < 0 || (hn = read_manifest(c, mpath, new_blob, &mn)) < 0) {
		rc = -ENOMEM;
		goto done;
	}
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
	final = (ho > 0 || !old_blob[0]) && (hn > 0 || !new_blob[0]);
	if (final) {
		rc = lmd__diff_count(c->r, d->path, ho > 0 ? &mo : NULL, hn > 0 ? &mn : NULL, &d->added, &d->deleted,
				     &d->modified);
		if (rc < 0 && rc != -ENOMEM) {
			lmd_error_clear(); /* trees not in the local store: counts unknown */
			d->added = d->deleted = d->modified = -1;
			rc = final = 0;
		}
	}
	if (rc >= 0)
		rc = final;
done:
	if (ho > 0)
		lmd_manifest_release(&mo);
	if (hn > 0)
		lmd_manifest_release(&mn);
	return rc;
}

static int grow_ds(struct lctx *c)
{
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
	return 0;
}

static int change_cb(const char *mpath, const char *old_blob, const char *new_blob, void *payload)
{
	struct lctx *c = payload;
	lmd_log_dataset *d;
	int rc;

	if ((rc = grow_ds(c)) < 0)
		return rc;
	c->paths[c->nds] = lmd_strndup(mpath, strlen(mpath) - 4);
	if (!c->paths[c->nds])
		return -ENOMEM;
	d = &c->ds[c->nds];
	d->path = c->paths[c->nds];
	c->nds++; /* counted now so that its path is freed whatever happens */
	rc = change_figures(c, mpath, old_blob, new_blob, d);
	return rc < 0 ? rc : 0;
}

/* Show the commit with the datasets gathered in c->ds, if any. */
static int show(struct lctx *c, const char *id, const char *author, const char *email, const char *subject,
		int64_t time, int tz)
{
	int rc = 0;
	if (c->nds) {
		lmd_log_entry e = { .commit = id, .author = author, .email = email, .subject = subject,
				    .time = time, .tz = tz, .datasets = c->ds, .ndatasets = c->nds };
		rc = c->cb ? c->cb(&e, c->payload) : 0;
		c->shown++;
		if (rc == 0 && c->o && c->o->max && c->shown >= c->o->max)
			rc = 1;
	}
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
	rc = lmd_git_diff_manifests(c->r->git, gc->parent[0] ? gc->parent : NULL, gc->id, (const char *const *)c->sel,
				    c->nsel, change_cb, c);
	if (rc == LMD_ENOTFOUND && gc->parent[0] && lmd_git_is_shallow(c->r->git)) {
		/* The parent is beyond a shallow clone's edge: compare with nothing. */
		lmd_error_clear();
		for (size_t i = 0; i < c->nds; i++)
			free(c->paths[i]);
		c->nds = 0;
		rc = lmd_git_diff_manifests(c->r->git, NULL, gc->id, (const char *const *)c->sel, c->nsel, change_cb, c);
	}
	if (rc >= 0)
		rc = show(c, gc->id, gc->author, gc->email, gc->subject, gc->author_time, gc->author_tz);
	for (size_t i = 0; i < c->nds; i++)
		free(c->paths[i]);
	c->nds = 0;
	if (rc < 0)
		c->err = rc;
	return rc;
}

/* ---- the walk through the log cache ---- */

/* A commit reached: its id, committer time, and where its data is. */
struct node {
	uint8_t id[LMD_LOGCACHE_MAX_ID];
	int64_t time;
	uint64_t seq;             /* reached seq-th: ties in time go in this order */
	long rec;                 /* its log cache record, or -1 ... */
	lmd_git_commit *gc;       /* ... then read from git (until shown) */
};

struct walk {
	struct node *v;
	size_t n, cap;
	uint32_t *slots;          /* the commits reached: node index + 1, by id */
	size_t nslots;
	size_t *heap;             /* reached, not yet shown */
	size_t nheap;
};

static size_t id_hash(const uint8_t *id, size_t idlen)
{
	size_t h = 0;
	for (size_t i = 0; i < idlen && i < 8; i++)
		h = h << 8 | id[i];
	return h * 0x9e3779b97f4a7c15ull >> 7;
}

static bool reached(const struct walk *w, const uint8_t *id, size_t idlen)
{
	if (!w->nslots)
		return false;
	for (size_t j = id_hash(id, idlen) & (w->nslots - 1); w->slots[j]; j = (j + 1) & (w->nslots - 1))
		if (!memcmp(w->v[w->slots[j] - 1].id, id, idlen))
			return true;
	return false;
}

static int remember(struct walk *w, size_t idx, size_t idlen)
{
	if ((w->n + 1) * 2 > w->nslots) {
		size_t ns = w->nslots ? w->nslots * 2 : 256;
		uint32_t *s = ns <= UINT32_MAX ? lmd_calloc(ns, sizeof(*s)) : NULL;
		if (!s)
			return -ENOMEM;
		for (size_t i = 0; i < w->n; i++) {
			size_t j = id_hash(w->v[i].id, idlen) & (ns - 1);
			while (s[j])
				j = (j + 1) & (ns - 1);
			s[j] = (uint32_t)i + 1;
		}
		free(w->slots);
		w->slots = s;
		w->nslots = ns;
	}
	size_t j = id_hash(w->v[idx].id, idlen) & (w->nslots - 1);
	while (w->slots[j])
		j = (j + 1) & (w->nslots - 1);
	w->slots[j] = (uint32_t)idx + 1;
	return 0;
}

/* Does node a come out before node b?  Newest committer time first; of
 * equal times, the one reached first (libgit2 inserts after its equals). */
static bool before(const struct walk *w, size_t a, size_t b)
{
	const struct node *x = &w->v[a], *y = &w->v[b];
	return x->time != y->time ? x->time > y->time : x->seq < y->seq;
}

static void heap_push(struct walk *w, size_t idx)
{
	size_t i = w->nheap++;
	while (i > 0 && before(w, idx, w->heap[(i - 1) / 2])) {
		w->heap[i] = w->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	w->heap[i] = idx;
}

static size_t heap_pop(struct walk *w)
{
	size_t top = w->heap[0], last = w->heap[--w->nheap], i = 0;
	for (;;) {
		size_t k = 2 * i + 1;
		if (k >= w->nheap)
			break;
		if (k + 1 < w->nheap && before(w, w->heap[k + 1], w->heap[k]))
			k++;
		if (!before(w, w->heap[k], last))
			break;
		w->heap[i] = w->heap[k];
		i = k;
	}
	if (w->nheap)
		w->heap[i] = last;
	return top;
}

static void walk_release(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].gc) {
			lmd_git_commit_release(w->v[i].gc);
			free(w->v[i].gc);
		}
	free(w->v);
	free(w->slots);
	free(w->heap);
}

/* Reach commit id (from HEAD or a child): queue it, once, with its time. */
static int reach(struct lctx *c, struct walk *w, const uint8_t *id)
{
	struct node *nd;
	int rc;

	if (reached(w, id, c->idlen))
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		struct node *v = lmd_reallocarray(w->v, cap, sizeof(*v));
		size_t *h;
		if (!v)
			return -ENOMEM;
		w->v = v;
		h = lmd_reallocarray(w->heap, cap, sizeof(*h));
		if (!h)
			return -ENOMEM;
		w->heap = h;
		w->cap = cap;
	}
	nd = &w->v[w->n];
	memset(nd, 0, sizeof(*nd));
	memcpy(nd->id, id, c->idlen);
	nd->seq = w->n;
	nd->rec = lmd_logcache_find(c->lc, id);
	if (nd->rec >= 0) {
		nd->time = lmd_logcache_time(c->lc, nd->rec);
	} else {
		char hex[2 * LMD_LOGCACHE_MAX_ID + 1];
		lmd_logcache_id_fmt(id, c->idlen, hex);
		if (!(nd->gc = lmd_calloc(1, sizeof(*nd->gc))))
			return -ENOMEM;
		if ((rc = lmd_git_commit_read(c->r->git, hex, nd->gc)) < 0) {
			free(nd->gc);
			nd->gc = NULL;
			return rc == -ENOMEM ? rc : lmd_error_set(LMD_EGIT, "cannot walk the history: %s", lmd_error_last());
		}
		nd->time = nd->gc->time;
	}
	if ((rc = remember(w, w->n, c->idlen)) < 0)
		return rc;
	w->n++;
	heap_push(w, w->n - 1);
	return 0;
}

static int collect_cb(const char *mpath, const char *old_blob, const char *new_blob, void *payload)
{
	struct lctx *c = payload;
	lmd_logcache_change *d;

	if (c->nchg == c->capchg) {
		size_t n = c->capchg ? c->capchg * 2 : 8;
		lmd_logcache_change *v = lmd_reallocarray(c->chg, n, sizeof(*v));
		if (!v)
			return -ENOMEM;
		c->chg = v;
		c->capchg = n;
	}
	d = &c->chg[c->nchg];
	memset(d, 0, sizeof(*d));
	d->has_old = old_blob[0] != 0;
	d->has_new = new_blob[0] != 0;
	if ((d->has_old && lmd_logcache_id_parse(old_blob, d->old_id) != (int)c->idlen) ||
	    (d->has_new && lmd_logcache_id_parse(new_blob, d->new_id) != (int)c->idlen))
		return lmd_error_set(LMD_EGIT, "unexpected blob id '%s%s'", old_blob, new_blob);
	d->added = d->deleted = d->modified = -1;
	if (!(d->path = lmd_strndup(mpath, strlen(mpath) - 4)))
		return -ENOMEM;
	c->nchg++;
	return 0;
}

static void free_chg(struct lctx *c)
{
	for (size_t i = 0; i < c->nchg; i++)
		free((char *)c->chg[i].path);
	c->nchg = 0;
}

/* Is the dataset at path (its manifest path.lmd) selected, as lmd_git_diff_manifests selects? */
static bool selected(const struct lctx *c, const char *path)
{
	size_t pl = strlen(path);
	if (!c->nsel)
		return true;
	for (size_t i = 0; i < c->nsel; i++) {
		const char *s = c->sel[i];
		size_t l = strlen(s);
		if (!l || !strcmp(path, s))
			return true; /* everything, or the dataset s */
		if (pl > l && !memcmp(path, s, l) && path[l] == '/')
			return true; /* a dataset inside the folder s */
		if (pl < l && !memcmp(s, path, pl) && s[pl] == '/')
			return true; /* the dataset s lies inside */
	}
	return false;
}

/* The commit's view from git, for a node the cache lacks (changes still to come). */
static int view_from_git(struct lctx *c, const lmd_git_commit *gc, lmd_logcache_commit *cm)
{
	memset(cm, 0, sizeof(*cm));
	if (lmd_logcache_id_parse(gc->id, cm->id) != (int)c->idlen)
		return lmd_error_set(LMD_EGIT, "unexpected commit id '%s'", gc->id);
	if (gc->nparents > c->cappbuf) {
		uint8_t *p = lmd_reallocarray(c->pbuf, gc->nparents, c->idlen);
		if (!p)
			return -ENOMEM;
		c->pbuf = p;
		c->cappbuf = gc->nparents;
	}
	for (unsigned i = 0; i < gc->nparents; i++) {
		uint8_t tmp[LMD_LOGCACHE_MAX_ID];
		if (lmd_logcache_id_parse(gc->parents[i], tmp) != (int)c->idlen)
			return lmd_error_set(LMD_EGIT, "unexpected commit id '%s'", gc->parents[i]);
		memcpy(c->pbuf + i * c->idlen, tmp, c->idlen);
	}
	cm->time = gc->time;
	cm->author_time = gc->author_time;
	cm->tz = gc->author_tz;
	cm->author = gc->author;
	cm->email = gc->email;
	cm->subject = gc->subject;
	cm->nparents = gc->nparents;
	cm->parents = c->pbuf;
	return 0;
}

/*
 * Show the commit of node x: its parents are reached first (as libgit2
 * does), then its changes come from the cache or from git; those selected
 * are shown, with figures computed where the cache has none.  The record
 * is put back when it is new or gained figures.  1 stops the walk.
 */
static int visit(struct lctx *c, struct walk *w, size_t x)
{
	lmd_git_commit *gc = w->v[x].gc;
	lmd_logcache_commit cm;
	char hex[2 * LMD_LOGCACHE_MAX_ID + 1];
	bool put = gc != NULL;
	int rc;

	rc = gc ? view_from_git(c, gc, &cm) : lmd_logcache_read(c->lc, w->v[x].rec, &cm);
	for (size_t i = 0; rc >= 0 && i < cm.nparents; i++)
		rc = reach(c, w, cm.parents + i * c->idlen); /* w->v may move */
	if (rc < 0)
		goto done;
	if (c->o && c->o->until && cm.time > c->o->until)
		goto done;
	if (c->o && c->o->since && cm.time < c->o->since) {
		rc = 1; /* time order: everything after is older */
		goto done;
	}
	if (gc) {
		rc = lmd_git_diff_manifests(c->r->git, gc->parent[0] ? gc->parent : NULL, gc->id, NULL, 0, collect_cb, c);
		if (rc < 0 && rc != -ENOMEM) {
			/* Whatever the whole tree has (a missing subtree), the selected paths
			 * may be fine: this commit goes the uncached way. */
			lmd_error_clear();
			free_chg(c);
			rc = commit_cb(gc, c);
			goto done;
		}
		if (rc < 0)
			goto done;
		cm.changes = c->chg;
		cm.nchanges = c->nchg;
	}
	lmd_logcache_id_fmt(cm.id, c->idlen, hex);
	for (size_t i = 0; i < cm.nchanges && rc >= 0; i++) {
		lmd_logcache_change *ch = &cm.changes[i];
		lmd_log_dataset *d;
		if (!selected(c, ch->path))
			continue;
		if ((rc = grow_ds(c)) < 0)
			break;
		d = &c->ds[c->nds++];
		d->path = ch->path;
		if (ch->known) {
			d->existed_before = ch->has_old;
			d->exists = ch->has_new;
			d->size = ch->size;
			d->files = ch->files;
			d->old_size = ch->old_size;
			d->old_files = ch->old_files;
			d->added = ch->added;
			d->deleted = ch->deleted;
			d->modified = ch->modified;
		} else {
			char ob[2 * LMD_LOGCACHE_MAX_ID + 1] = "", nb[2 * LMD_LOGCACHE_MAX_ID + 1] = "";
			char *mpath = lmd_asprintf("%s.lmd", ch->path);
			if (!mpath) {
				rc = -ENOMEM;
				break;
			}
			if (ch->has_old)
				lmd_logcache_id_fmt(ch->old_id, c->idlen, ob);
			if (ch->has_new)
				lmd_logcache_id_fmt(ch->new_id, c->idlen, nb);
			rc = change_figures(c, mpath, ob, nb, d);
			free(mpath);
			if (rc > 0) {
				ch->known = true;
				ch->size = d->size;
				ch->files = d->files;
				ch->old_size = d->old_size;
				ch->old_files = d->old_files;
				ch->added = d->added;
				ch->deleted = d->deleted;
				ch->modified = d->modified;
				put = true;
			}
		}
	}
	if (rc >= 0 && put)
		rc = lmd_logcache_put(c->lc, &cm);
	if (rc >= 0)
		rc = show(c, hex, cm.author, cm.email, cm.subject, cm.author_time, cm.tz);
	c->nds = 0;
done:
	free_chg(c);
	if (w->v[x].gc) {
		lmd_git_commit_release(w->v[x].gc);
		free(w->v[x].gc);
		w->v[x].gc = NULL;
	}
	if (rc < 0)
		c->err = rc;
	return rc;
}

static int logwalk(struct lctx *c, const char *head)
{
	struct walk w = { 0 };
	uint8_t id[LMD_LOGCACHE_MAX_ID];
	int n = lmd_logcache_id_parse(head, id), rc;
	char *path;

	if (n < 0)
		return lmd_error_set(LMD_EGIT, "unexpected commit id '%s'", head);
	c->idlen = (size_t)n;
	if (!(path = lmd_asprintf("%s/state/%s", c->r->lmdir, LMD_LOGCACHE_NAME)))
		return -ENOMEM;
	rc = lmd_logcache_open(path, c->idlen, 0, &c->lc);
	free(path);
	if (rc < 0)
		return rc;
	rc = reach(c, &w, id);
	while (rc == 0 && w.nheap)
		rc = visit(c, &w, heap_pop(&w));
	/* Only a cache: a read-only folder or a full disk just means no save. */
	if (rc >= 0 && lmd_logcache_dirty(c->lc) && lmd_logcache_save(c->lc) < 0)
		lmd_error_clear();
	walk_release(&w);
	lmd_logcache_free(c->lc);
	c->lc = NULL;
	return rc < 0 ? rc : 0;
}

static bool cache_wanted(lmd_repo *r)
{
	const char *e = getenv("LMDATA_NO_LOG_CACHE");
	if (e && e[0] && strcmp(e, "0"))
		return false;
	return !lmd_git_history_altered(r->git);
}

int lmd_log(lmd_repo *r, const lmd_log_opts *o, const char *const *paths, size_t n, lmd_log_cb cb, void *payload)
{
	struct lctx c = { .r = r, .o = o, .nsel = n, .cb = cb, .payload = payload };
	char head[LMD_GIT_HEXSZ + 1];
	int rc = 0;

	c.sel = lmd_calloc(n ? n : 1, sizeof(*c.sel));
	if (!c.sel)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if ((rc = lmd__resolve_lexical(r, paths[i], &c.sel[i])) < 0)
			goto done;
	if (cache_wanted(r)) {
		if ((rc = lmd_git_log_head(r->git, head)) >= 0)
			rc = logwalk(&c, head);
	} else {
		rc = lmd_git_log(r->git, commit_cb, &c);
	}
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
	free(c.chg);
	free(c.pbuf);
	lmd_buf_release(&c.text);
	return rc;
}
