/*
 * Time travel: resolving revisions and dates, reading the manifests a
 * commit records, and checkout / ls / cat of any version.  Everything
 * read from git is treated as hostile (it may come from any clone): each
 * manifest is parsed with lmd_manifest_parse and must name the data next
 * to it, exactly as a work-tree manifest must.
 */
#include <ctype.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "history_int.h"
#include "ignore.h"
#include "objects.h"
#include "restore.h"
#include "walk.h"

int lmd_rev_parse(lmd_repo *r, const char *spec, lmd_rev *ret)
{
	char id[LMD_GIT_HEXSZ + 1];
	int rc;
	if (!spec[0])
		return lmd_error_set(LMD_EBADINPUT, "empty revision");
	if ((rc = lmd_git_rev_parse(r->git, spec, id)) < 0)
		return rc;
	memcpy(ret->id, id, sizeof(ret->id));
	return 0;
}

int lmd_rev_at(lmd_repo *r, const char *date, lmd_rev *ret)
{
	char id[LMD_GIT_HEXSZ + 1];
	int64_t when;
	int rc;
	if ((rc = lmd_date_parse(date, &when)) < 0)
		return rc;
	if ((rc = lmd_git_rev_at(r->git, when, id)) < 0)
		return lmd_error_wrap(rc, "--at '%s'", date);
	memcpy(ret->id, id, sizeof(ret->id));
	return 0;
}

bool lmd_repo_has_history(lmd_repo *r)
{
	return lmd_git_head_born(r->git);
}

char *lmd_repo_gitdir(lmd_repo *r)
{
	return lmd_git_dir(r->git);
}

static int digits(const char **p, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return 0;
}

int lmd_date_parse(const char *s, int64_t *ret)
{
	struct tm tm = { 0 };
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
	bool zone = false;
	time_t t;

	while (*p == ' ')
		p++;
	if (!strcmp(p, "now")) {
		*ret = (int64_t)time(NULL);
		return 0;
	}
	if (*p == '@') {
		char *end;
		long long v = strtoll(p + 1, &end, 10);
		if (end == p + 1 || *end)
			goto bad;
		*ret = v;
		return 0;
	}
	{
		char unit[16];
		long long n;
		int used = 0;
		if (sscanf(p, "%lld %15s ago%n", &n, unit, &used) == 2 && used && !p[used] && n >= 0) {
			static const struct { const char *u; int64_t s; } units[] = {
				{ "second", 1 }, { "minute", 60 }, { "hour", 3600 }, { "day", 86400 }, { "week", 604800 },
			};
			size_t ul = strlen(unit);
			if (ul && unit[ul - 1] == 's')
				unit[--ul] = '\0';
			for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
				if (!strcmp(unit, units[i].u)) {
					*ret = (int64_t)time(NULL) - (int64_t)n * units[i].s;
					return 0;
				}
			goto bad;
		}
	}
	if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 || *p++ != '-' || digits(&p, 2, &d) < 0)
		goto bad;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
			goto bad;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec) < 0)
				goto bad;
		}
	}
	while (*p == ' ')
		p++;
	if (*p == 'Z' || *p == 'z') {
		zone = true;
		p++;
	} else if (*p == '+' || *p == '-') {
		int zh, zm;
		int sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &zh) < 0)
			goto bad;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &zm) < 0)
			goto bad;
		zone = true;
		off = sign * (zh * 3600 + zm * 60);
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		goto bad;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if (zone) {
		t = timegm(&tm);
		*ret = (int64_t)t - off;
	} else {
		tm.tm_isdst = -1;
		t = mktime(&tm);
		*ret = (int64_t)t;
	}
	return 0;
bad:
	return lmd_error_set(LMD_EBADINPUT,
		"cannot read the date '%s'; use YYYY-MM-DD[ HH:MM[:SS]][Z|+HH:MM], @SECONDS or 'N days ago'", s);
}

int lmd__resolve_lexical(lmd_repo *r, const char *user, char **ret_rel)
{
	char cwd[PATH_MAX], *real = NULL, *joined, *out;
	size_t tl = strlen(r->top), l;
	const char *rel;
	int rc = 0;

	if (!user[0])
		return lmd_error_set(LMD_EBADINPUT, "empty path");
	if (user[0] == '/') {
		joined = lmd_strdup(user);
	} else {
		if (!getcwd(cwd, sizeof(cwd)) || !(real = realpath(cwd, NULL)))
			return lmd_errno_path("cannot get the current folder", ".");
		joined = lmd_path_join(real, user);
		free(real);
	}
	if (!joined)
		return -ENOMEM;
	/* Normalise ".", ".." and repeated slashes lexically. */
	out = lmd_calloc(1, strlen(joined) + 2);
	if (!out) {
		free(joined);
		return -ENOMEM;
	}
	l = 0;
	for (char *tok = strtok(joined, "/"); tok; tok = strtok(NULL, "/")) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			while (l > 0 && out[l - 1] != '/')
				l--;
			if (l > 0)
				l--;
			out[l] = '\0';
			continue;
		}
		out[l++] = '/';
		strcpy(out + l, tok);
		l += strlen(tok);
	}
	if (!l)
		strcpy(out, "/");
	free(joined);
	if (!strcmp(out, r->top)) {
		rel = "";
	} else if (!strncmp(out, r->top, tl) && out[tl] == '/') {
		rel = out + tl + 1;
	} else {
		/* The top may be reached through a link: compare real paths. */
		char *rt = realpath(r->top, NULL);
		size_t rl = rt ? strlen(rt) : 0;
		if (rt && !strncmp(out, rt, rl) && (out[rl] == '/' || !out[rl])) {
			rel = out[rl] ? out + rl + 1 : "";
		} else {
			rc = lmd_error_set(LMD_EBADINPUT, "'%s' is outside the repository '%s'", user, r->top);
			free(rt);
			free(out);
			return rc;
		}
		free(rt);
	}
	*ret_rel = lmd_strdup(rel);
	free(out);
	if (!*ret_rel)
		return -ENOMEM;
	l = strlen(*ret_rel);
	if (l > 4 && !strcmp(*ret_rel + l - 4, ".lmd"))
		(*ret_rel)[l - 4] = '\0';
	return 0;
}

int lmd__manifest_parse_at(const char *mpath, const lmd_buf *text, const char *where, lmd_manifest *ret)
{
	const char *want = lmd_path_basename(mpath);
	int rc = lmd_manifest_parse((const char *)text->ptr, text->len, where, ret);
	if (rc < 0)
		return rc;
	if (strlen(want) != strlen(ret->name) + 4 || strncmp(want, ret->name, strlen(ret->name)) != 0) {
		rc = lmd_error_set(LMD_EMANIFEST, "manifest %s names '%s', not the data next to it", where,
				   lmd_quote(ret->name));
		lmd_manifest_release(ret);
	}
	return rc;
}

struct rm_list {
	lmd_repo *r;
	const lmd_rev *rev;
	lmd__rev_manifest *v;
	size_t n, cap;
};

static int rm_push(struct rm_list *l, const char *mpath, const char *blob)
{
	if (l->n == l->cap) {
		size_t c = l->cap ? l->cap * 2 : 16;
		lmd__rev_manifest *nv = lmd_reallocarray(l->v, c, sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = c;
	}
	lmd__rev_manifest *e = &l->v[l->n];
	memset(e, 0, sizeof(*e));
	e->mpath = lmd_strdup(mpath);
	e->path = lmd_strndup(mpath, strlen(mpath) - 4);
	if (!e->mpath || !e->path) {
		free(e->mpath);
		free(e->path);
		return -ENOMEM;
	}
	snprintf(e->blob, sizeof(e->blob), "%s", blob);
	l->n++;
	return 0;
}

/*
 * A path read from a commit is hostile: every component must be a plain
 * name (not "", ".", "..", nor .git in any case), outside .lmdata, and no
 * folder on the way may be a symbolic link in the work tree (writing
 * through it would leave the work tree, as git refuses to do).
 */
static int check_rev_path(lmd_repo *r, const char *mpath)
{
	const char *p = mpath;
	for (;;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && !memcmp(p, "..", 2)) ||
		    (n == 4 && !strncasecmp(p, ".git", 4)))
			return lmd_error_set(LMD_EMANIFEST, "unsafe path '%s' in the commit; refusing to use it",
					     lmd_quote(mpath));
		if (!e)
			break;
		{
			struct stat st;
			char *dir = lmd_strndup(mpath, (size_t)(e - mpath)), *abs = dir ? lmd__abs(r, dir) : NULL;
			bool link = abs && lstat(abs, &st) == 0 && S_ISLNK(st.st_mode);
			free(dir);
			free(abs);
			if (link)
				return lmd_error_set(LMD_EBADINPUT, "'%s' lies beyond a symbolic link in the work tree; "
						     "refusing to write through it", lmd_quote(mpath));
		}
		p = e + 1;
	}
	if (lmd__path_reserved(mpath))
		return lmd_error_set(LMD_EMANIFEST, "unsafe path '%s' in the commit; refusing to use it", lmd_quote(mpath));
	return 0;
}

static int rev_change_cb(const char *path, const char *old_blob, const char *new_blob, void *payload)
{
	struct rm_list *l = payload;
	int rc;
	(void)old_blob;
	if (!new_blob[0])
		return 0;
	if ((rc = check_rev_path(l->r, path)) < 0)
		return rc;
	return rm_push(l, path, new_blob);
}

void lmd__rev_manifests_free(lmd__rev_manifest *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].mpath);
		free(v[i].path);
		lmd_buf_release(&v[i].text);
		if (v[i].parsed)
			lmd_manifest_release(&v[i].m);
	}
	free(v);
}

int lmd__rev_manifests(lmd_repo *r, const lmd_rev *rev, char *const *sel, const char *const *user, size_t n,
		       lmd__rev_manifest **ret, size_t *ret_n)
{
	struct rm_list l = { .r = r, .rev = rev };
	int rc = 0;

	if (rev) {
		rc = lmd_git_diff_manifests(r->git, NULL, rev->id, (const char *const *)sel, n, rev_change_cb, &l);
	} else {
		lmd_dataset *ds = NULL;
		size_t nds = 0;
		if ((rc = lmd__datasets(r, &ds, &nds)) < 0)
			return rc;
		for (size_t i = 0; i < nds && rc >= 0; i++)
			if (lmd__selected(sel, n, ds[i].path))
				rc = rm_push(&l, ds[i].mpath, "");
		lmd__datasets_free(ds, nds);
	}
	if (rc < 0)
		goto fail;
	for (size_t j = 0; j < n; j++) {
		bool any = false;
		for (size_t i = 0; i < l.n && !any; i++)
			any = lmd__path_selects(sel[j], l.v[i].path);
		if (!any) {
			if (rev)
				rc = lmd_error_set(LMD_EBADINPUT, "'%s' is not tracked by lmdata at %.12s (no manifest for "
					"it or around it there; 'lmdata ls %.12s' lists what is)", user[j], rev->id, rev->id);
			else
				rc = lmd_error_set(LMD_EBADINPUT, "'%s' is not tracked by lmdata", user[j]);
			goto fail;
		}
	}
	for (size_t i = 0; i < l.n; i++) {
		lmd__rev_manifest *e = &l.v[i];
		char *where;
		if (rev) {
			rc = lmd_git_blob_read(r->git, e->blob, LMD_MAX_MANIFEST, &e->text);
			where = lmd_asprintf("'%s' at %.12s", e->mpath, rev->id);
		} else {
			char *abs = lmd__abs(r, e->mpath);
			rc = abs ? lmd_read_file(abs, LMD_MAX_MANIFEST, &e->text) : -ENOMEM;
			free(abs);
			where = lmd_asprintf("'%s'", e->mpath);
		}
		if (rc == LMD_ETOOBIG)
			rc = lmd_error_set(LMD_EMANIFEST, "manifest '%s' is too large to be an lmdata manifest", e->mpath);
		if (rc >= 0 && !where)
			rc = -ENOMEM;
		if (rc >= 0 && (rc = lmd__manifest_parse_at(e->mpath, &e->text, where, &e->m)) >= 0)
			e->parsed = true;
		free(where);
		if (rc < 0)
			goto fail;
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
fail:
	lmd__rev_manifests_free(l.v, l.n);
	return rc;
}

static int resolve_all(lmd_repo *r, const char *const *paths, size_t n, char ***ret)
{
	char **sel = lmd_calloc(n ? n : 1, sizeof(*sel));
	int rc;
	if (!sel)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if ((rc = lmd__resolve_lexical(r, paths[i], &sel[i])) < 0) {
			lmd__selection_free(sel, i);
			return rc;
		}
	*ret = sel;
	return 0;
}


/* ---- checkout REV ---- */

struct co_rev {
	lmd__rev_manifest *v;
	size_t n;
};

/* With the lock held and everything checked: manifests and ignore rules into the work tree and index. */
static int write_manifests(lmd_repo *r, void *payload)
{
	struct co_rev *c = payload;
	const char **stage = lmd_calloc(2 * c->n + 1, sizeof(*stage));
	char **own = lmd_calloc(2 * c->n + 1, sizeof(*own));
	size_t ns = 0;
	int rc = 0;

	if (!stage || !own) {
		rc = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < c->n && rc >= 0; i++) {
		lmd__rev_manifest *e = &c->v[i];
		char *abs = lmd__abs(r, e->mpath), *dir = NULL;
		lmd_buf cur = LMD_BUF_INIT;
		bool changed = false;
		if (!abs) {
			rc = -ENOMEM;
			break;
		}
		if (lmd_read_file(abs, LMD_MAX_MANIFEST, &cur) < 0 || cur.len != e->text.len ||
		    memcmp(cur.ptr, e->text.ptr, cur.len) != 0) {
			lmd_error_clear();
			dir = lmd_path_dirname(abs);
			if (!dir || (rc = lmd_mkdir_p(dir, 0755)) < 0 ||
			    (rc = lmd_write_file_atomic(abs, e->text.ptr, e->text.len, 0644)) < 0)
				rc = rc < 0 ? rc : -ENOMEM;
		}
		lmd_buf_release(&cur);
		free(dir);
		free(abs);
		if (rc < 0)
			break;
		stage[ns++] = e->mpath;
		if ((rc = lmd_ignore_add(r, e->path, &changed)) < 0)
			break;
		if (changed) {
			own[ns] = lmd_ignore_file(e->path);
			if (!own[ns]) {
				rc = -ENOMEM;
				break;
			}
			stage[ns] = own[ns];
			ns++;
		}
	}
	if (rc >= 0)
		rc = lmd_git_stage(r->git, stage, ns);
done:
	for (size_t i = 0; own && i < 2 * c->n + 1; i++)
		free(own[i]);
	free(own);
	free(stage);
	return rc;
}

int lmd_checkout_rev(lmd_repo *r, const lmd_rev *rev, const char *const *paths, size_t n, unsigned flags,
		     lmd_checkout_cb cb, void *payload)
{
	struct co_rev c = { 0 };
	lmd__co_item *items = NULL;
	char **sel = NULL;
	int rc;

	if ((rc = resolve_all(r, paths, n, &sel)) < 0)
		return rc;
	if ((rc = lmd__rev_manifests(r, rev, sel, paths, n, &c.v, &c.n)) < 0)
		goto done;
	/* A manifest describes a whole dataset: a path inside a tracked folder
	 * cannot be taken from REV alone without changing the rest with it. */
	for (size_t j = 0; j < n; j++)
		for (size_t i = 0; i < c.n; i++) {
			size_t l = strlen(c.v[i].path);
			if (!strncmp(sel[j], c.v[i].path, l) && sel[j][l] == '/') {
				rc = lmd_error_set(LMD_EBADINPUT,
					"'%s' is inside the tracked folder '%s': check out the whole folder ('lmdata checkout "
					"%.12s -- %s') or copy the one file with 'lmdata cat %.12s %s > FILE'", paths[j],
					c.v[i].path, rev->id, c.v[i].path, rev->id, sel[j]);
				goto done;
			}
		}
	items = lmd_calloc(c.n ? c.n : 1, sizeof(*items));
	if (!items) {
		rc = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < c.n; i++) {
		items[i].path = c.v[i].path;
		items[i].m = c.v[i].m; /* borrowed: released with c.v */
	}
	/* Whole datasets: a manifest from REV replaces all of one. */
	rc = lmd__checkout_items(r, items, c.n, NULL, 0, flags, cb, payload, write_manifests, &c);
done:
	free(items);
	lmd__rev_manifests_free(c.v, c.n);
	lmd__selection_free(sel, n);
	return rc;
}

/* ---- ls REV ---- */

int lmd_ls_rev(lmd_repo *r, const lmd_rev *rev, const char *const *paths, size_t n, lmd_ls_cb cb, void *payload)
{
	lmd__rev_manifest *v = NULL;
	size_t nv = 0;
	char **sel = NULL;
	lmd_store *store;
	int rc;

	if ((rc = resolve_all(r, paths, n, &sel)) < 0)
		return rc;
	if ((rc = lmd__repo_store(r, &store)) < 0 || (rc = lmd__rev_manifests(r, rev, sel, paths, n, &v, &nv)) < 0)
		goto done;
	for (size_t i = 0; i < nv && rc >= 0; i++) {
		lmd__ls_walk c = { cb, payload, v[i].path, sel, n };
		lmd_walk_cbs cbs = { .file = lmd__ls_file };
		rc = lmd_walk_manifest(store, v[i].path, &v[i].m, &cbs, &c);
		if (rc == LMD_EMISSING)
			lmd_error_wrap(rc, "fetch the data of '%s' with 'lmdata pull'", v[i].path);
	}
done:
	lmd__rev_manifests_free(v, nv);
	lmd__selection_free(sel, n);
	return rc < 0 ? rc : 0;
}

/* ---- cat ---- */

int lmd_cat(lmd_repo *r, const lmd_rev *rev, const char *path, int fd)
{
	lmd__rev_manifest *v = NULL;
	size_t nv = 0;
	char *sel = NULL;
	lmd_store *store;
	lmd_restore *rs = NULL;
	lmd_tree_entry e = { 0 };
	lmd_tree t = { 0 };
	char at[48], lsrev[24];
	int rc;

	snprintf(at, sizeof(at), rev ? "at %.12s" : "in the work tree's manifests", rev ? rev->id : "");
	snprintf(lsrev, sizeof(lsrev), rev ? "%.12s " : "%s", rev ? rev->id : "");
	if ((rc = lmd__resolve_lexical(r, path, &sel)) < 0)
		return rc;
	if ((rc = lmd__repo_store(r, &store)) < 0 ||
	    (rc = lmd__rev_manifests(r, rev, &sel, &path, 1, &v, &nv)) < 0)
		goto done;
	/* The dataset that holds sel: equal to it or containing it. */
	lmd__rev_manifest *m = NULL;
	for (size_t i = 0; i < nv && !m; i++) {
		size_t l = strlen(v[i].path);
		if (!strcmp(v[i].path, sel) || (!strncmp(sel, v[i].path, l) && sel[l] == '/'))
			m = &v[i];
	}
	if (!m) {
		rc = lmd_error_set(LMD_EBADINPUT, "'%s' is a folder of tracked data %s, not a file; 'lmdata ls' "
				   "lists its files", path, at);
		goto done;
	}
	e.mode = m->m.kind == LMD_KIND_DIR ? LMD_MODE_DIR : m->m.kind == LMD_KIND_LINK ? LMD_MODE_LINK : LMD_MODE_FILE;
	e.id = m->m.id;
	e.size = m->m.size;
	/* Walk down the trees to the file. */
	for (const char *rest = sel + strlen(m->path); *rest;) {
		lmd_buf raw = LMD_BUF_INIT;
		const lmd_tree_entry *te;
		const char *slash;
		char name[4096];
		size_t nl;
		rest++; /* the '/' */
		slash = strchr(rest, '/');
		nl = slash ? (size_t)(slash - rest) : strlen(rest);
		if (e.mode != LMD_MODE_DIR || nl >= sizeof(name)) {
			rc = lmd_error_set(LMD_EBADINPUT, "'%s' does not exist %s", path, at);
			goto done;
		}
		memcpy(name, rest, nl);
		name[nl] = '\0';
		lmd_tree_release(&t);
		if ((rc = lmd_store_get(store, &e.id, LMD_OBJ_TREE, &raw)) < 0 || (rc = lmd_tree_parse(&raw, &t)) < 0) {
			lmd_buf_release(&raw);
			if (rc == LMD_EMISSING)
				lmd_error_set(rc, "the tree of '%s' is not in the local store; fetch it with 'lmdata pull'",
					      m->path);
			goto done;
		}
		te = lmd_tree_find(&t, name);
		if (!te) {
			rc = lmd_error_set(LMD_EBADINPUT, "'%s' does not exist %s; 'lmdata ls %s%s' lists what does",
					   path, at, lsrev, m->path);
			goto done;
		}
		e.mode = te->mode;
		e.id = te->id;
		e.size = te->size;
		rest += nl;
	}
	if (e.mode == LMD_MODE_DIR) {
		rc = lmd_error_set(LMD_EBADINPUT, "'%s' is a folder %s, not a file; 'lmdata ls' lists its files",
				   path, at);
		goto done;
	}
	if (e.mode == LMD_MODE_LINK) {
		lmd_buf b = LMD_BUF_INIT;
		if ((rc = lmd_store_get(store, &e.id, LMD_OBJ_DATA, &b)) >= 0)
			rc = lmd_write_all(fd, b.ptr, b.len);
		lmd_buf_release(&b);
		goto done;
	}
	if ((rc = lmd_restore_new(store, lmd__repo_jobs(r), NULL, NULL, &rs)) < 0 ||
	    (rc = lmd_restore_file(rs, NULL, sel, &e.id, e.size, false, fd)) < 0 || (rc = lmd_restore_finish(rs)) < 0)
		goto done;
done:
	lmd_restore_free(rs);
	lmd_tree_release(&t);
	lmd__rev_manifests_free(v, nv);
	free(sel);
	return rc < 0 ? rc : 0;
}

/* ---- hooks and editor for commit ---- */

char *lmd_hook_path(lmd_repo *r, const char *name)
{
	char *dir = lmd_git_hooks_dir(r->git), *p;
	if (!dir)
		return NULL;
	p = lmd_path_join(dir, name);
	free(dir);
	if (p && access(p, X_OK) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

char *lmd_git_editor(lmd_repo *r)
{
	const char *e = getenv("GIT_EDITOR");
	char *c;
	if (e && *e)
		return lmd_strdup(e);
	if ((c = lmd_git_config_str(r->git, "core.editor")) && *c)
		return c;
	free(c);
	if ((e = getenv("VISUAL")) && *e)
		return lmd_strdup(e);
	if ((e = getenv("EDITOR")) && *e)
		return lmd_strdup(e);
	return lmd_strdup("vi");
}
