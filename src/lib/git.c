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
	for (size_t i = 0; i < n; i++) {
		/* Existence decides: a removed manifest leaves the index. */
		int exists;
		char *full = lmd_path_join(git_repository_workdir(g->repo), paths[i]);
		if (!full) {
			r = -ENOMEM;
			goto done;
		}
		exists = access(full, F_OK) == 0;
		free(full);
		if (exists ? git_index_add_bypath(idx, paths[i]) < 0
			   : (git_index_remove_bypath(idx, paths[i]) < 0)) {
			r = git_fail("cannot stage in git");
			lmd_error_wrap(r, "'%s'", paths[i]);
			goto done;
		}
	}
	if (git_index_write(idx) < 0)
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
