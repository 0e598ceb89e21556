/*
 * lmd_add: snapshot data into the store and record manifests.
 *
 * Order of events, so that an interruption at any point loses nothing:
 *   1. every path is checked (exists, inside, not reserved, not special,
 *      not inside or around another dataset) before anything is written;
 *   2. under the writer lock, the data is scanned and stored; packs are
 *      sealed (fsync + rename) before any manifest is written;
 *   3. manifests and .gitignore lines are written atomically, the stat
 *      caches saved, and both files staged in git.
 * A failure in 1 or 2 writes no manifest; objects already stored are
 * harmless (unreferenced until gc).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ignore.h"
#include "scan.h"

struct target {
	char *path;       /* dataset, relative to the top */
	char *mpath;
	struct stat st;
	lmd_manifest m;
	bool changed;
	lmd_tree_entry ent;
	lmd_statcache *sc;
	size_t untracked;     /* git index entries taken out for it */
};

static void ingest_progress(uint64_t bytes, void *payload)
{
	lmd__progress_add(payload, bytes, 0);
}

/* Is any ancestor folder of rel a tracked dataset (has NAME.lmd)? */
static int check_parents(lmd_repo *r, const char *rel)
{
	char *p = lmd_strdup(rel);
	int rc = 0;
	if (!p)
		return -ENOMEM;
	for (char *s = strrchr(p, '/'); s; s = strrchr(p, '/')) {
		*s = '\0';
		char *m = lmd_asprintf("%s/%s.lmd", r->top, p);
		if (!m) {
			rc = -ENOMEM;
			break;
		}
		bool tracked = access(m, F_OK) == 0;
		free(m);
		if (tracked) {
			rc = lmd_error_set(LMD_EBADINPUT,
				"'%s' is inside '%s', which is already tracked by '%s.lmd'; add '%s' instead",
				lmd_quote(rel), lmd_quote(p), p, p);
			break;
		}
	}
	free(p);
	return rc;
}

static int resolve_target(lmd_repo *r, const char *user, const lmd_dataset *ds, size_t nds, struct target *t)
{
	char *rel = NULL, *abs = NULL;
	size_t n;
	int rc;

	if ((rc = lmd__resolve(r, user, &rel)) < 0)
		return rc;
	n = strlen(rel);
	/* "x.lmd" names the data x. */
	if (n > 4 && !strcmp(rel + n - 4, ".lmd")) {
		rel[n - 4] = '\0';
	}
	if (!rel[0]) {
		rc = lmd_error_set(LMD_EBADINPUT, "cannot track the whole work tree; name files or folders inside it");
		goto fail;
	}
	if (lmd__path_reserved(rel)) {
		rc = lmd_error_set(LMD_EBADINPUT, "'%s' belongs to git or lmdata itself and cannot be tracked", rel);
		goto fail;
	}
	abs = lmd__abs(r, rel);
	if (!abs) {
		rc = -ENOMEM;
		goto fail;
	}
	if (lstat(abs, &t->st) < 0) {
		rc = errno == ENOENT
			? lmd_error_set(LMD_EBADINPUT, "'%s' does not exist", user)
			: lmd_errno_path("cannot access", user);
		goto fail;
	}
	if (!S_ISREG(t->st.st_mode) && !S_ISDIR(t->st.st_mode) && !S_ISLNK(t->st.st_mode)) {
		rc = lmd_error_set(LMD_EBADINPUT,
			"'%s' is a %s: lmdata tracks regular files, folders and links", user, lmd_file_kind(t->st.st_mode));
		goto fail;
	}
	if ((rc = check_parents(r, rel)) < 0)
		goto fail;
	if (S_ISDIR(t->st.st_mode)) {
		size_t rl = strlen(rel);
		for (size_t i = 0; i < nds; i++)
			if (!strncmp(ds[i].path, rel, rl) && ds[i].path[rl] == '/') {
				rc = lmd_error_set(LMD_EBADINPUT,
					"'%s' contains '%s', which is tracked on its own; run 'lmdata rm %s' first",
					rel, ds[i].path, ds[i].path);
				goto fail;
			}
	}
	t->path = rel;
	t->mpath = lmd_asprintf("%s.lmd", rel);
	free(abs);
	return t->mpath ? 0 : -ENOMEM;
fail:
	free(rel);
	free(abs);
	return rc;
}

static int write_manifest(lmd_repo *r, struct target *t)
{
	lmd_manifest old = { 0 };
	char *text = NULL, *abs = NULL;
	int rc;

	t->m.version = LMD_MANIFEST_VERSION;
	t->m.kind = t->ent.mode == LMD_MODE_DIR ? LMD_KIND_DIR : t->ent.mode == LMD_MODE_LINK ? LMD_KIND_LINK
											      : LMD_KIND_FILE;
	t->m.name = lmd_strdup(lmd_path_basename(t->path));
	t->m.size = t->ent.size;
	t->m.files = t->ent.files;
	t->m.id = t->ent.id;
	t->m.executable = t->ent.mode == LMD_MODE_EXEC;
	if (!t->m.name)
		return -ENOMEM;
	text = lmd_manifest_format(&t->m);
	abs = lmd__abs(r, t->mpath);
	if (!text || !abs) {
		rc = -ENOMEM;
		goto done;
	}
	/* Leave an identical manifest alone: no rewrite, no git churn. */
	{
		lmd_buf cur = LMD_BUF_INIT;
		if (lmd_read_file(abs, LMD_MAX_MANIFEST, &cur) == 0 && cur.len == strlen(text) &&
		    !memcmp(cur.ptr, text, cur.len)) {
			lmd_buf_release(&cur);
			t->changed = false;
			rc = 0;
			goto done;
		}
		lmd_buf_release(&cur);
		lmd_error_clear();
	}
	rc = lmd_write_file_atomic(abs, text, strlen(text), 0644);
	t->changed = rc >= 0;
done:
	lmd_manifest_release(&old);
	free(text);
	free(abs);
	return rc;
}

int lmd_add(lmd_repo *r, const char *const *paths, size_t n, lmd_add_cb cb, void *payload)
{
	struct target *t = lmd_calloc(n ? n : 1, sizeof(*t));
	lmd_dataset *ds = NULL;
	size_t nds = 0;
	lmd_store *store;
	lmd_packer *pk = NULL;
	lmd_ingest *ing = NULL;
	char *statedir = NULL;
	const char **stage = NULL;
	size_t nstage = 0;
	int64_t scan_start;
	uint64_t total = 0;
	int rc;

	if (!t)
		return -ENOMEM;
	if ((rc = lmd__datasets(r, &ds, &nds)) < 0)
		goto done;
	for (size_t i = 0; i < n; i++) {
		if ((rc = resolve_target(r, paths[i], ds, nds, &t[i])) < 0)
			goto done;
		for (size_t j = 0; j < i; j++)
			if (lmd__path_selects(t[j].path, t[i].path) || lmd__path_selects(t[i].path, t[j].path)) {
				rc = lmd_error_set(LMD_EBADINPUT, "'%s' and '%s' overlap; add one of them", t[j].path,
						   t[i].path);
				goto done;
			}
		if (S_ISREG(t[i].st.st_mode))
			total += (uint64_t)t[i].st.st_size;
	}
	if ((rc = lmd__repo_lock(r)) < 0 || (rc = lmd__repo_store(r, &store)) < 0)
		goto done;
	if ((rc = lmd_packer_new(store, &pk)) < 0 ||
	    (rc = lmd_ingest_new(store, pk, &r->chunker, lmd__repo_jobs(r), r->level, &ing)) < 0)
		goto done;
	lmd_ingest_set_progress(ing, ingest_progress, r);
	statedir = lmd_path_join(r->lmdir, "state");
	if (!statedir || (rc = lmd_mkdir_p(statedir, 0755)) < 0) {
		rc = rc < 0 ? rc : -ENOMEM;
		goto done;
	}
	scan_start = lmd_statcache_now();
	lmd__progress_start(r, "adding", total, 0);
	for (size_t i = 0; i < n; i++) {
		lmd_scan s = { .r = r, .store = store, .ing = ing, .pk = pk, .dataset = t[i].path };
		if ((rc = lmd_statcache_load(statedir, t[i].path, &t[i].sc)) < 0)
			goto done;
		s.sc = t[i].sc;
		if ((rc = lmd_scan_dataset(&s, &t[i].st, NULL, &t[i].ent)) < 0)
			goto done;
	}
	/* Everything stored and durable before any manifest names it. */
	if ((rc = lmd_ingest_finish(ing)) < 0 || (rc = lmd_packer_finish(pk)) < 0)
		goto done;
	lmd__progress_end(r);
	stage = lmd_calloc(2 * n, sizeof(*stage));
	if (!stage) {
		rc = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		bool ign_changed;
		if ((rc = write_manifest(r, &t[i])) < 0 || (rc = lmd_ignore_add(r, t[i].path, &ign_changed)) < 0)
			goto done;
		if (lmd_statcache_changed(t[i].sc) && (rc = lmd_statcache_save(t[i].sc, scan_start)) < 0)
			goto done;
		stage[nstage++] = t[i].mpath;
		char *ig = lmd_ignore_file(t[i].path);
		if (!ig) {
			rc = -ENOMEM;
			goto done;
		}
		stage[nstage++] = ig;
	}
	/* Data that git already tracked leaves the index (the files stay):
	 * otherwise the .gitignore line would not stop git committing it. */
	for (size_t i = 0; i < n; i++) {
		size_t removed;
		if ((rc = lmd_git_untrack(r->git, t[i].path, &removed)) < 0)
			goto done;
		t[i].untracked = removed;
	}
	{
		const char **added = lmd_calloc(n, sizeof(*added));
		if (!added) {
			rc = -ENOMEM;
			goto done;
		}
		for (size_t i = 0; i < n; i++)
			added[i] = t[i].path;
		rc = lmd__registry_update(r, added, n, NULL, 0);
		free(added);
		if (rc < 0)
			goto done;
	}
	if ((rc = lmd_git_stage(r->git, stage, nstage)) < 0)
		goto done;
	for (size_t i = 0; cb && i < n; i++) {
		lmd_add_result res = { .path = t[i].path, .manifest = &t[i].m, .changed = t[i].changed,
				       .bytes_read = 0, .bytes_stored = 0, .git_untracked = t[i].untracked };
		if (i == n - 1) {
			res.bytes_read = lmd_ingest_bytes_read(ing);
			res.bytes_stored = lmd_packer_bytes_written(pk);
		}
		cb(&res, payload);
	}
	rc = 0;
done:
	lmd__progress_end(r);
	if (stage)
		for (size_t i = 1; i < nstage; i += 2)
			free((char *)stage[i]);
	free(stage);
	lmd_ingest_free(ing);
	lmd_packer_free(pk);
	for (size_t i = 0; i < n; i++) {
		free(t[i].path);
		free(t[i].mpath);
		lmd_manifest_release(&t[i].m);
		lmd_statcache_free(t[i].sc);
	}
	free(t);
	free(statedir);
	lmd__datasets_free(ds, nds);
	lmd__repo_unlock(r);
	return rc;
}
