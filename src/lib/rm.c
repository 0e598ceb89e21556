/*
 * lmd_rm: stop tracking data.  The manifest and the .gitignore line go
 * (both staged in git); the data stays where it is, now visible to git
 * again, and its objects stay in the store until gc.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ignore.h"
#include "repo_int.h"
#include "statcache.h"

int lmd_rm(lmd_repo *r, const char *const *paths, size_t n, lmd_rm_cb cb, void *payload)
{
	char **rel = lmd_calloc(n ? n : 1, sizeof(*rel));
	const char **stage = lmd_calloc(2 * n + 1, sizeof(*stage));
	char *statedir = lmd_path_join(r->lmdir, "state");
	size_t nstage = 0;
	int rc = 0;

	if (!rel || !stage || !statedir) {
		rc = -ENOMEM;
		goto done;
	}
	/* Check every path before changing anything. */
	for (size_t i = 0; i < n; i++) {
		size_t l;
		char *m;
		if ((rc = lmd__resolve(r, paths[i], &rel[i])) < 0)
			goto done;
		l = strlen(rel[i]);
		if (l > 4 && !strcmp(rel[i] + l - 4, ".lmd"))
			rel[i][l - 4] = '\0';
		m = lmd_asprintf("%s/%s.lmd", r->top, rel[i]);
		if (!m) {
			rc = -ENOMEM;
			goto done;
		}
		if (!rel[i][0] || access(m, F_OK) != 0) {
			free(m);
			rc = lmd_error_set(LMD_EBADINPUT, "'%s' is not tracked by lmdata (no '%s.lmd')", paths[i],
					   rel[i]);
			goto done;
		}
		free(m);
	}
	if ((rc = lmd__repo_lock(r)) < 0)
		goto done;
	for (size_t i = 0; i < n; i++) {
		char *m = lmd_asprintf("%s/%s.lmd", r->top, rel[i]);
		bool changed;
		if (!m) {
			rc = -ENOMEM;
			goto done;
		}
		if (unlink(m) < 0 && errno != ENOENT) {
			rc = lmd_errno_path("cannot remove", m);
			free(m);
			goto done;
		}
		free(m);
		if ((rc = lmd_ignore_remove(r, rel[i], &changed)) < 0)
			goto done;
		lmd_statcache_remove(statedir, rel[i]);
		stage[nstage++] = lmd_asprintf("%s.lmd", rel[i]);
		stage[nstage++] = lmd_ignore_file(rel[i]);
		if (!stage[nstage - 1] || !stage[nstage - 2]) {
			rc = -ENOMEM;
			goto done;
		}
	}
	if ((rc = lmd__registry_update(r, NULL, 0, (const char *const *)rel, n)) < 0 ||
	    (rc = lmd_git_stage(r->git, stage, nstage)) < 0)
		goto done;
	for (size_t i = 0; cb && i < n; i++)
		cb(rel[i], payload);
done:
	lmd__repo_unlock(r);
	for (size_t i = 0; rel && i < n; i++)
		free(rel[i]);
	for (size_t i = 0; stage && i < nstage; i++)
		free((char *)stage[i]);
	free(rel);
	free(stage);
	free(statedir);
	return rc;
}
