/*
 * Internals shared by the history operations (history.c, diff.c, log.c,
 * commit.c, hooks.c) and the parts of the core they build on.
 */
#ifndef LMD_HISTORY_INT_H
#define LMD_HISTORY_INT_H

#include "lmdata/history.h"
#include "repo_int.h"

/* A dataset to check out: its path (relative to the top) and its manifest. */
typedef struct lmd__co_item {
	const char *path;
	lmd_manifest m;
} lmd__co_item;

/*
 * Check out items (checkout.c), limited to the selected paths (relative
 * to the top; nsel 0: all of each item).  Pass one plans every dataset and refuses
 * (nothing written) on local changes stored nowhere or data missing from
 * the store; then before_write (if any) runs with the lock held, then the
 * plan is carried out.
 */
int lmd__checkout_items(lmd_repo *r, const lmd__co_item *items, size_t nitems, char *const *sel, size_t nsel,
			unsigned flags, lmd_checkout_cb cb, void *payload, int (*before_write)(lmd_repo *, void *),
			void *bw_payload);

/* A manifest as recorded in a commit (or the work tree). */
typedef struct lmd__rev_manifest {
	char *mpath, *path;      /* "d/x.lmd", "d/x" */
	char blob[65];           /* git blob id ("" for none) */
	lmd_buf text;
	lmd_manifest m;
	bool parsed;
} lmd__rev_manifest;

/*
 * The manifests of the datasets the selections reach at rev (NULL: the
 * work tree's), parsed and validated.  Each selection must reach at least
 * one dataset (LMD_EBADINPUT naming it otherwise).
 */
int lmd__rev_manifests(lmd_repo *r, const lmd_rev *rev, char *const *sel, const char *const *user, size_t n,
		       lmd__rev_manifest **ret, size_t *ret_n);
void lmd__rev_manifests_free(lmd__rev_manifest *v, size_t n);
/* Parse a manifest's text read from git, checking it names the data next to it. */
int lmd__manifest_parse_at(const char *mpath, const lmd_buf *text, const char *where, lmd_manifest *ret);
/*
 * Resolve a user's path to one relative to the top without touching the
 * disk beyond the current folder (it may name something only a past
 * version has).  A trailing ".lmd" is dropped.
 */
int lmd__resolve_lexical(lmd_repo *r, const char *user, char **ret_rel);

/* Count files added, deleted and modified (renames count as modified) between two manifests (diff.c). */
int lmd__diff_count(lmd_repo *r, const char *path, const lmd_manifest *o, const lmd_manifest *n,
		    int64_t *ret_added, int64_t *ret_deleted, int64_t *ret_modified);

#endif
