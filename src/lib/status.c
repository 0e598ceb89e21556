/*
 * lmd_status: what differs between tracked data and its manifests, and
 * which manifests git has not committed.  Uses the same scan as add, with
 * the stat cache, so unchanged files are not read.  When files had to be
 * hashed, the refreshed stat cache is saved if no writer holds the lock
 * (like git status refreshing the index), so the next status is cheap.
 */
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan.h"

/* Report only entries within the paths asked for (a dataset is scanned
 * whole; a path inside it narrows what is shown). */
struct filter {
	lmd_status_cb cb;
	void *payload;
	char **sel;
	size_t nsel;
	int shown;
};

static void filter_cb(const lmd_status_entry *e, void *payload)
{
	struct filter *f = payload;
	bool want = f->nsel == 0;
	for (size_t i = 0; i < f->nsel && !want; i++) {
		size_t l = strlen(e->path);
		/* a folder entry ("d/sub/") selects what is inside it too */
		want = lmd__path_selects(f->sel[i], e->path) ||
		       (l && e->path[l - 1] == '/' && !strncmp(f->sel[i], e->path, l - 1) &&
			(f->sel[i][l - 1] == '/' || f->sel[i][l - 1] == '\0'));
	}
	if (!want)
		return;
	f->shown++;
	if (f->cb)
		f->cb(e, f->payload);
}

static void emit(lmd_status_cb cb, void *payload, lmd_status_kind k, const char *path, const char *ds,
		 const char *detail)
{
	lmd_status_entry e = { .kind = k, .path = path, .dataset = ds, .detail = detail };
	if (cb)
		cb(&e, payload);
}

static int status_one(lmd_repo *r, lmd_store *store, const char *statedir, const lmd_dataset *d,
		      lmd_status_cb cb, void *payload, bool *can_save, int64_t scan_start)
{
	lmd_manifest m = { 0 };
	lmd_statcache *sc = NULL;
	lmd_tree_entry ent;
	struct stat st;
	unsigned gflags = 0;
	char *abs = NULL;
	int n = 0, rc;

	if ((rc = lmd_git_path_state(r->git, d->mpath, &gflags)) < 0)
		return rc;
	if (gflags & LMD_GIT_CONFLICT) {
		char *msg = lmd_asprintf("merge conflict in '%s': keep one side with 'git checkout --ours -- %s' "
					 "(or --theirs), 'git add' it, then run 'lmdata checkout'", d->mpath, d->mpath);
		emit(cb, payload, LMD_STATUS_MANIFEST_ERROR, d->path, d->path, msg ? msg : "merge conflict");
		free(msg);
		return 1;
	}
	if ((rc = lmd__manifest_read(r, d->mpath, &m)) < 0) {
		if (rc == -ENOMEM)
			return rc;
		emit(cb, payload, LMD_STATUS_MANIFEST_ERROR, d->path, d->path, lmd_error_last());
		lmd_error_clear();
		return 1;
	}
	if (gflags & (LMD_GIT_UNCOMMITTED | LMD_GIT_WT_CHANGED)) {
		emit(cb, payload, LMD_STATUS_UNCOMMITTED, d->mpath, d->path, NULL);
		n++;
	}
	abs = lmd__abs(r, d->path);
	if (!abs) {
		rc = -ENOMEM;
		goto done;
	}
	if (lstat(abs, &st) < 0) {
		if (errno != ENOENT) {
			rc = lmd_errno_path("cannot access", d->path);
			goto done;
		}
		emit(cb, payload, LMD_STATUS_DELETED, d->path, d->path, NULL);
		n++;
		rc = n;
		goto done;
	}
	{
		bool want_dir = m.kind == LMD_KIND_DIR, want_link = m.kind == LMD_KIND_LINK;
		if (want_dir != !!S_ISDIR(st.st_mode) || want_link != !!S_ISLNK(st.st_mode)) {
			emit(cb, payload, LMD_STATUS_TYPECHANGE, d->path, d->path, NULL);
			n++;
			rc = n;
			goto done;
		}
	}
	if ((rc = lmd_statcache_load(statedir, d->path, &sc)) < 0)
		goto done;
	{
		lmd_scan s = { .r = r, .store = store, .sc = sc, .dataset = d->path, .cb = cb, .payload = payload };
		rc = lmd_scan_dataset(&s, &st, &m, &ent);
		if (rc == LMD_EBADINPUT) {
			/* A special file appeared inside the data: report, go on. */
			emit(cb, payload, LMD_STATUS_MANIFEST_ERROR, d->path, d->path, lmd_error_last());
			lmd_error_clear();
			n++;
			rc = n;
			goto done;
		}
		if (rc < 0)
			goto done;
		n += s.ndiff;
	}
	if (*can_save && lmd_statcache_changed(sc) && lmd_statcache_save(sc, scan_start) < 0)
		lmd_error_clear(); /* only a cache */
	rc = n;
done:
	lmd_statcache_free(sc);
	lmd_manifest_release(&m);
	free(abs);
	return rc;
}

int lmd_status(lmd_repo *r, const char *const *paths, size_t n, lmd_status_cb cb, void *payload)
{
	lmd_dataset *ds = NULL;
	size_t nds = 0;
	char **sel = NULL, *statedir = NULL;
	lmd_store *store;
	bool can_save;
	int64_t scan_start = lmd_statcache_now();
	int total = 0, rc;

	if ((rc = lmd__datasets(r, &ds, &nds)) < 0)
		return rc;
	statedir = lmd_path_join(r->lmdir, "state");
	if (!statedir) {
		rc = -ENOMEM;
		goto done;
	}
	if ((rc = lmd__selection(r, paths, n, ds, nds, &sel)) < 0)
		goto done;
	if ((rc = lmd__repo_store(r, &store)) < 0)
		goto done;
	/* Save refreshed caches only if no writer is busy; never wait. */
	can_save = false;
	{
		char *lp = lmd_path_join(r->lmdir, "lock");
		if (lp) {
			int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
			if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
				r->lock_fd = fd;
				can_save = true;
			} else if (fd >= 0) {
				close(fd);
			}
			free(lp);
		}
	}
	for (size_t i = 0; i < nds; i++) {
		struct filter f = { .cb = cb, .payload = payload, .sel = sel, .nsel = n };
		if (!lmd__selected(sel, n, ds[i].path))
			continue;
		rc = status_one(r, store, statedir, &ds[i], filter_cb, &f, &can_save, scan_start);
		if (rc < 0)
			goto done;
		total += f.shown;
	}
	rc = total;
done:
	lmd__repo_unlock(r);
	lmd__selection_free(sel, n);
	free(statedir);
	lmd__datasets_free(ds, nds);
	return rc;
}
