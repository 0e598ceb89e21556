/*
 * lmd_checkout: make tracked data match the work tree's manifests.
 *
 * Two passes.  The plan walks each dataset's tree (from the store) beside
 * the work tree and lists what to write, create and remove; a local file
 * that would be overwritten or removed is checked against the store, and
 * if its bytes are stored nowhere the whole checkout is refused (unless
 * forced) before anything is touched.  The second pass carries the plan
 * out: folders first, then files through the restore pipeline (verified,
 * temp + rename), then removals.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "ingest.h"
#include "objects.h"
#include "restore.h"
#include "repo_int.h"
#include "scan.h"
#include "statcache.h"
#include "history_int.h"

enum act_kind { ACT_MKDIR, ACT_FILE, ACT_LINK, ACT_RM_FILE, ACT_RM_DIR, ACT_CHMOD };

struct act {
	enum act_kind kind;
	char *rel;             /* relative to the top */
	lmd_oid id;
	uint64_t size;
	bool exec;
};

struct plan {
	lmd_repo *r;
	lmd_store *store;
	unsigned flags;
	struct act *v;
	size_t n, cap;
	int refused;
	lmd_checkout_cb cb;
	void *payload;
	lmd_statcache *sc;     /* of the dataset being planned */
	const char *dataset;
	uint64_t bytes;
	bool check_missing;    /* pass 0: count files whose data is not stored */
	size_t missing;
	char *missing_path;
	lmd_oid missing_id;
	char *const *sel;      /* paths asked for (relative to the top); none: all */
	size_t nsel;
	int64_t newest;        /* latest mtime/ctime of a file written, ns */
};

/*
 * The stat cache's stamp for files this checkout wrote: entries are
 * trusted only when older than the stamp, so wait (a clock tick, a few
 * ms) until the coarse clock file times come from has passed the newest
 * write; otherwise the next status would re-read every restored byte.
 */
static int64_t stamp_after(int64_t newest)
{
	int64_t now = lmd_statcache_now();
	for (int i = 0; now <= newest && i < 100; i++) {
		usleep(1000);
		now = lmd_statcache_now();
	}
	return now;
}

/* 2: rel is, or is inside, a selected path; 1: it contains one; 0: neither. */
static int scope(const struct plan *p, const char *rel)
{
	int best = p->nsel ? 0 : 2;
	for (size_t i = 0; i < p->nsel && best < 2; i++) {
		size_t ls = strlen(p->sel[i]), lr = strlen(rel);
		if (ls <= lr && !strncmp(rel, p->sel[i], ls) && (rel[ls] == '/' || rel[ls] == '\0' || ls == 0))
			best = 2;
		else if (ls > lr && !strncmp(rel, p->sel[i], lr) && p->sel[i][lr] == '/')
			best = 1;
	}
	return best;
}

static int push(struct plan *p, enum act_kind k, const char *rel, const lmd_oid *id, uint64_t size, bool exec)
{
	if (p->n == p->cap) {
		size_t c = p->cap ? p->cap * 2 : 64;
		struct act *nv = lmd_reallocarray(p->v, c, sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		p->v = nv;
		p->cap = c;
	}
	p->v[p->n] = (struct act){ .kind = k, .rel = lmd_strdup(rel), .size = size, .exec = exec };
	if (id)
		p->v[p->n].id = *id;
	if (!p->v[p->n].rel)
		return -ENOMEM;
	p->n++;
	if (k == ACT_FILE)
		p->bytes += size;
	if ((k == ACT_FILE || k == ACT_LINK) && p->check_missing && size > 0 && !lmd_store_has(p->store, id, 0)) {
		if (!p->missing++) {
			p->missing_path = lmd_strdup(rel);
			p->missing_id = *id;
		}
	}
	return 0;
}

static const char *ds_rel(struct plan *p, const char *rel)
{
	size_t l = strlen(p->dataset);
	return rel[l] == '/' ? rel + l + 1 : rel + l;
}

/* The id of the local file at rel (stat cache or hashing). */
static int local_id(struct plan *p, const char *rel, const struct stat *st, lmd_oid *ret)
{
	const lmd_oid *c = lmd_statcache_lookup(p->sc, ds_rel(p, rel), st);
	char *abs;
	int fd, r;

	if (c) {
		*ret = *c;
		return 0;
	}
	abs = lmd__abs(p->r, rel);
	if (!abs)
		return -ENOMEM;
	fd = open(abs, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	free(abs);
	if (fd < 0)
		return lmd_errno_path("cannot open", rel);
	r = lmd_hash_fd(fd, st, rel, ret);
	close(fd);
	return r;
}

/* May the local thing at rel be replaced?  Only if its bytes are stored. */
static int check_replace(struct plan *p, const char *rel, const struct stat *st, bool *ret_ok)
{
	lmd_oid id;
	int r;

	*ret_ok = true;
	if (p->flags & LMD_CHECKOUT_FORCE)
		return 0;
	if (S_ISLNK(st->st_mode) || (S_ISREG(st->st_mode) && st->st_size == 0))
		return 0; /* an empty file or a link target holds no data to lose */
	if (S_ISREG(st->st_mode)) {
		if ((r = local_id(p, rel, st, &id)) < 0)
			return r;
		if (lmd_store_has(p->store, &id, 0))
			return 0;
	} else if (S_ISDIR(st->st_mode)) {
		/* Folders are checked file by file as they are planned. */
		return 0;
	}
	*ret_ok = false;
	p->refused++;
	if (p->cb)
		p->cb(LMD_CHECKOUT_REFUSED, rel, p->payload);
	return 0;
}

static int plan_remove(struct plan *p, const char *rel, const struct stat *st);

static int plan_remove_dir(struct plan *p, const char *rel)
{
	char *abs = lmd__abs(p->r, rel);
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (!abs)
		return -ENOMEM;
	d = opendir(abs);
	if (!d) {
		r = lmd_errno_path("cannot open folder", rel);
		free(abs);
		return r;
	}
	while ((de = readdir(d)) && r >= 0) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *c = lmd_asprintf("%s/%s", rel, de->d_name);
		if (!c) {
			r = -ENOMEM;
			break;
		}
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			r = plan_remove(p, c, &st);
		free(c);
	}
	closedir(d);
	free(abs);
	if (r >= 0)
		r = push(p, ACT_RM_DIR, rel, NULL, 0, false);
	return r;
}

static int plan_remove(struct plan *p, const char *rel, const struct stat *st)
{
	bool ok;
	int r;
	if (S_ISDIR(st->st_mode))
		return plan_remove_dir(p, rel);
	if ((r = check_replace(p, rel, st, &ok)) < 0 || !ok)
		return r;
	return push(p, ACT_RM_FILE, rel, NULL, 0, false);
}

static int plan_entry(struct plan *p, const char *rel, const lmd_tree_entry *e);

static int plan_tree(struct plan *p, const char *rel, const lmd_oid *tree_id, bool exists)
{
	lmd_buf raw = LMD_BUF_INIT;
	lmd_tree t = { 0 };
	char *abs = NULL;
	DIR *d = NULL;
	struct dirent *de;
	int r;

	if ((r = lmd_store_get(p->store, tree_id, LMD_OBJ_TREE, &raw)) < 0 || (r = lmd_tree_parse(&raw, &t)) < 0) {
		lmd_buf_release(&raw);
		if (r == LMD_EMISSING)
			return lmd_error_set(r, "cannot check out '%s': its tree is not in the local store; fetch it with "
					     "'lmdata pull' (nothing was written)", rel);
		return lmd_error_wrap(r, "cannot check out '%s'", rel);
	}
	if (!exists && (r = push(p, ACT_MKDIR, rel, NULL, 0, false)) < 0)
		goto done;
	for (size_t i = 0; i < t.n; i++) {
		char *c = lmd_asprintf("%s/%s", rel, t.entries[i].name);
		if (!c) {
			r = -ENOMEM;
			goto done;
		}
		r = plan_entry(p, c, &t.entries[i]);
		free(c);
		if (r < 0)
			goto done;
	}
	/* Files in the folder that the manifest does not list go away (only
	 * where the checkout was asked for, not in folders merely on the way). */
	if (exists && scope(p, rel) == 2) {
		abs = lmd__abs(p->r, rel);
		if (!abs || !(d = opendir(abs))) {
			r = abs ? lmd_errno_path("cannot open folder", rel) : -ENOMEM;
			goto done;
		}
		while ((de = readdir(d))) {
			struct stat st;
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || lmd_tree_find(&t, de->d_name))
				continue;
			char *c = lmd_asprintf("%s/%s", rel, de->d_name);
			if (!c) {
				r = -ENOMEM;
				goto done;
			}
			if (lmd_is_tmp_name(de->d_name))
				r = push(p, ACT_RM_FILE, c, NULL, 0, false); /* a killed run's leftover */
			else
				r = fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? plan_remove(p, c, &st) : 0;
			free(c);
			if (r < 0)
				goto done;
		}
	}
	r = 0;
done:
	if (d)
		closedir(d);
	free(abs);
	lmd_tree_release(&t);
	return r;
}

static int plan_entry(struct plan *p, const char *rel, const lmd_tree_entry *e)
{
	char *abs;
	struct stat st;
	bool exists, ok;
	int r = 0;

	if (scope(p, rel) == 0)
		return 0; /* outside the paths asked for */
	abs = lmd__abs(p->r, rel);
	if (!abs)
		return -ENOMEM;
	exists = lstat(abs, &st) == 0;
	free(abs);
	if (e->mode == LMD_MODE_DIR) {
		if (exists && !S_ISDIR(st.st_mode)) {
			if ((r = check_replace(p, rel, &st, &ok)) < 0 || !ok)
				return r;
			if ((r = push(p, ACT_RM_FILE, rel, NULL, 0, false)) < 0)
				return r;
			exists = false;
		}
		return plan_tree(p, rel, &e->id, exists);
	}
	if (exists && S_ISDIR(st.st_mode)) {
		if ((r = plan_remove_dir(p, rel)) < 0)
			return r;
		exists = false;
	}
	if (e->mode == LMD_MODE_LINK) {
		if (exists && S_ISLNK(st.st_mode)) {
			char buf[4097];
			char *a = lmd__abs(p->r, rel);
			ssize_t n = a ? readlink(a, buf, sizeof(buf)) : -1;
			lmd_oid id;
			free(a);
			if (n >= 0 && n < (ssize_t)sizeof(buf) && lmd_sha256_buf(buf, (size_t)n, &id) == 0 &&
			    !lmd_oid_cmp(&id, &e->id))
				return p->cb ? (p->cb(LMD_CHECKOUT_UNCHANGED, rel, p->payload), 0) : 0;
		}
		return push(p, ACT_LINK, rel, &e->id, e->size, false);
	}
	if (exists && S_ISREG(st.st_mode)) {
		lmd_oid id;
		if ((r = local_id(p, rel, &st, &id)) < 0)
			return r;
		if (!lmd_oid_cmp(&id, &e->id)) {
			bool want_x = e->mode == LMD_MODE_EXEC, is_x = (st.st_mode & 0100) != 0;
			lmd_statcache_put(p->sc, ds_rel(p, rel), &st, &id);
			if (want_x != is_x)
				return push(p, ACT_CHMOD, rel, &id, 0, want_x);
			if (p->cb)
				p->cb(LMD_CHECKOUT_UNCHANGED, rel, p->payload);
			return 0;
		}
		if (!(p->flags & LMD_CHECKOUT_FORCE) && !lmd_store_has(p->store, &id, 0)) {
			p->refused++;
			if (p->cb)
				p->cb(LMD_CHECKOUT_REFUSED, rel, p->payload);
			return 0;
		}
	} else if (exists && !S_ISLNK(st.st_mode)) {
		return lmd_error_set(LMD_EBADINPUT, "'%s' is a %s; move it away and run 'lmdata checkout' again", rel,
				     lmd_file_kind(st.st_mode));
	}
	return push(p, ACT_FILE, rel, &e->id, e->size, e->mode == LMD_MODE_EXEC);
}

/* Remove temp files a killed checkout left next to a single-file dataset. */
static void sweep_tmp_siblings(lmd_repo *r, const char *dataset)
{
	char *dir = lmd_path_dirname(dataset), *absdir = dir ? lmd__abs(r, dir) : NULL;
	const char *base = lmd_path_basename(dataset);
	size_t bl = strlen(base) < 40 ? strlen(base) : 40;
	DIR *d = absdir ? opendir(absdir) : NULL;
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (lmd_is_tmp_name(de->d_name) && !strncmp(de->d_name + 1, base, bl) &&
		    !strncmp(de->d_name + 1 + bl, ".lmdtmp.", 8))
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
	free(dir);
	free(absdir);
}

static void restored(const char *rel, const lmd_oid *id, const struct stat *st, void *payload)
{
	struct plan *p = payload;
	int64_t m = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	int64_t c = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
	if (m > p->newest)
		p->newest = m;
	if (c > p->newest)
		p->newest = c;
	lmd_statcache_put(p->sc, ds_rel(p, rel), st, id);
	if (p->cb)
		p->cb(LMD_CHECKOUT_RESTORED, rel, p->payload);
}

static void restore_progress(uint64_t bytes, uint64_t files, void *payload)
{
	lmd__progress_add(payload, bytes, files);
}

static int execute(struct plan *p)
{
	lmd_restore *rs = NULL;
	int r;

	/* Removals of things in the way come first (a file where a folder
	 * goes), in plan order; folders are created in pre-order. */
	for (size_t i = 0; i < p->n; i++) {
		struct act *a = &p->v[i];
		char *abs = lmd__abs(p->r, a->rel);
		if (!abs)
			return -ENOMEM;
		r = 0;
		if (a->kind == ACT_RM_FILE) {
			if (unlink(abs) < 0 && errno != ENOENT)
				r = lmd_errno_path("cannot remove", a->rel);
			else if (p->cb)
				p->cb(LMD_CHECKOUT_REMOVED, a->rel, p->payload);
		} else if (a->kind == ACT_RM_DIR) {
			if (rmdir(abs) < 0 && errno != ENOENT)
				r = lmd_errno_path("cannot remove folder", a->rel);
		} else if (a->kind == ACT_MKDIR) {
			if (mkdir(abs, 0755) < 0 && errno != EEXIST)
				r = lmd_errno_path("cannot create folder", a->rel);
		} else if (a->kind == ACT_CHMOD) {
			struct stat st;
			if (chmod(abs, a->exec ? 0755 : 0644) < 0)
				r = lmd_errno_path("cannot change mode of", a->rel);
			else if (lstat(abs, &st) == 0)
				restored(a->rel, &a->id, &st, p);
		}
		free(abs);
		if (r < 0)
			return r;
	}
	if ((r = lmd_restore_new(p->store, lmd__repo_jobs(p->r), restored, p, &rs)) < 0)
		return r;
	lmd_restore_set_progress(rs, restore_progress, p->r);
	for (size_t i = 0; i < p->n; i++) {
		struct act *a = &p->v[i];
		char *abs = lmd__abs(p->r, a->rel);
		if (!abs) {
			r = -ENOMEM;
			goto done;
		}
		if (a->kind == ACT_FILE) {
			r = lmd_restore_file(rs, abs, a->rel, &a->id, a->size, a->exec, -1);
		} else if (a->kind == ACT_LINK) {
			lmd_buf t = LMD_BUF_INIT;
			r = lmd_store_get(p->store, &a->id, LMD_OBJ_DATA, &t);
			if (r >= 0 && (r = lmd_buf_cstr(&t)) >= 0) {
				char *tmp = lmd_asprintf("%s.lmdtmp.%ld", abs, (long)getpid());
				if (!tmp || symlink((char *)t.ptr, tmp) < 0 || rename(tmp, abs) < 0) {
					r = lmd_errno_path("cannot create link", a->rel);
					if (tmp)
						unlink(tmp);
				} else {
					struct stat st;
					if (lstat(abs, &st) == 0 && p->cb)
						p->cb(LMD_CHECKOUT_RESTORED, a->rel, p->payload);
				}
				free(tmp);
			}
			lmd_buf_release(&t);
		}
		free(abs);
		if (r < 0)
			goto done;
	}
	r = lmd_restore_finish(rs);
done:
	lmd_restore_free(rs);
	return r;
}

static void plan_clear(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].rel);
	p->n = 0;
	p->bytes = 0;
}

int lmd__checkout_items(lmd_repo *r, const lmd__co_item *items, size_t nitems, char *const *sel, size_t nsel,
			unsigned flags, lmd_checkout_cb cb, void *payload, int (*before_write)(lmd_repo *, void *),
			void *bw_payload)
{
	char *statedir = lmd_path_join(r->lmdir, "state");
	struct plan p = { .r = r, .flags = flags, .cb = cb, .payload = payload };
	int64_t scan_start = lmd_statcache_now();
	int rc;

	if (!statedir)
		return -ENOMEM;
	p.sel = sel;
	p.nsel = nsel;
	if ((rc = lmd__repo_lock(r)) < 0 || (rc = lmd__repo_store(r, &p.store)) < 0)
		goto done;
	/* Pass 1 over every dataset: refusals stop everything before any write. */
	for (int pass = 0; pass < 2; pass++) {
		p.check_missing = pass == 0;
		for (size_t i = 0; i < nitems; i++) {
			const lmd_manifest *m = &items[i].m;
			lmd_tree_entry e = { 0 };
			e.mode = m->kind == LMD_KIND_DIR ? LMD_MODE_DIR : m->kind == LMD_KIND_LINK ? LMD_MODE_LINK
				 : m->executable ? LMD_MODE_EXEC : LMD_MODE_FILE;
			e.id = m->id;
			e.size = m->size;
			if ((rc = lmd_statcache_load(statedir, items[i].path, &p.sc)) < 0)
				goto done;
			p.dataset = items[i].path;
			lmd_checkout_cb saved = p.cb;
			if (pass == 1)
				p.cb = NULL; /* pass 0 already reported unchanged/refused */
			rc = plan_entry(&p, items[i].path, &e);
			p.cb = saved;
			if (rc >= 0 && pass == 1) {
				if (e.mode != LMD_MODE_DIR)
					sweep_tmp_siblings(r, items[i].path);
				lmd__progress_start(r, "checking out", p.bytes, 0);
				rc = execute(&p);
				lmd__progress_end(r);
				if (rc >= 0 && lmd_statcache_save(p.sc, p.newest ? stamp_after(p.newest) : scan_start) < 0)
					lmd_error_clear();
			}
			plan_clear(&p);
			p.newest = 0;
			lmd_statcache_free(p.sc);
			p.sc = NULL;
			if (rc < 0)
				goto done;
		}
		if (pass == 0 && p.refused) {
			rc = lmd_error_set(LMD_EDIRTY,
				"%d local change%s would be lost (not stored anywhere); 'lmdata add' them first, or use "
				"--force to overwrite", p.refused, p.refused == 1 ? "" : "s");
			goto done;
		}
		if (pass == 0 && p.missing) {
			char hex[LMD_OID_HEXSZ + 1];
			lmd_oid_fmt(hex, &p.missing_id);
			rc = lmd_error_set(LMD_EMISSING,
				"%zu file%s to check out %s not in the local store (first: '%s', %.16s); fetch them with "
				"'lmdata pull' (nothing was written)", p.missing, p.missing == 1 ? "" : "s",
				p.missing == 1 ? "is" : "are", p.missing_path, hex);
			goto done;
		}
		if (pass == 0 && before_write && (rc = before_write(r, bw_payload)) < 0)
			goto done;
	}
	rc = 0;
done:
	plan_clear(&p);
	free(p.v);
	free(p.missing_path);
	lmd_statcache_free(p.sc);
	lmd__repo_unlock(r);
	free(statedir);
	return rc;
}

int lmd_checkout(lmd_repo *r, const char *const *paths, size_t n, unsigned flags, lmd_checkout_cb cb,
		 void *payload)
{
	lmd_dataset *ds = NULL;
	size_t nds = 0, nitems = 0;
	char **sel = NULL;
	lmd__co_item *items = NULL;
	int rc;

	if ((rc = lmd__datasets(r, &ds, &nds)) < 0)
		return rc;
	items = lmd_calloc(nds ? nds : 1, sizeof(*items));
	if (!items) {
		rc = -ENOMEM;
		goto done;
	}
	if ((rc = lmd__selection(r, paths, n, ds, nds, &sel)) < 0)
		goto done;
	for (size_t i = 0; i < nds; i++) {
		if (!lmd__selected(sel, n, ds[i].path))
			continue;
		if ((rc = lmd__manifest_read(r, ds[i].mpath, &items[nitems].m)) < 0)
			goto done;
		items[nitems++].path = ds[i].path;
	}
	rc = lmd__checkout_items(r, items, nitems, sel, n, flags, cb, payload, NULL, NULL);
done:
	for (size_t i = 0; i < nitems; i++)
		lmd_manifest_release(&items[i].m);
	free(items);
	lmd__selection_free(sel, n);
	lmd__datasets_free(ds, nds);
	return rc;
}
