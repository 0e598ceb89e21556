/*
 * lmdata and git history: revisions, time travel (checkout/ls/cat at any
 * commit), diff and log of tracked data, commit, git hooks, and the scopes
 * of gc.  Revisions are resolved once to a commit id (lmd_rev) and passed
 * around as such, so a command reads one consistent version.
 */
#ifndef LMDATA_HISTORY_H
#define LMDATA_HISTORY_H

#include "lmdata/lmdata.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- revisions ---- */

#define LMD_REV_HEXSZ 64
/* A resolved commit (hex id of a sha1 or sha256 repository). */
typedef struct lmd_rev {
	char id[LMD_REV_HEXSZ + 1];
} lmd_rev;

/* Anything 'git rev-parse' accepts, peeled to a commit: LMD_ENOTFOUND when unknown. */
int lmd_rev_parse(lmd_repo *r, const char *spec, lmd_rev *ret);
/* The last commit of the current branch (first parents) at or before `date`. */
int lmd_rev_at(lmd_repo *r, const char *date, lmd_rev *ret);
/*
 * Read a date: "2026-11-25", "2026-11-25 14:03[:09]", ISO 8601 with 'T'
 * and "Z" or "+01:00", "@1732543389" (seconds since the epoch), "now",
 * "N seconds|minutes|hours|days|weeks ago".  Without a zone: local time.
 */
int lmd_date_parse(const char *s, int64_t *ret);

/* ---- time travel ---- */

/*
 * Like 'git checkout REV -- PATH': put the manifests of the selected
 * datasets (default: every dataset of REV) from REV into the work tree
 * and the index, ignore their data in git, and make the data match them.
 * Everything is checked first (paths tracked at REV, manifests valid,
 * objects present, local changes stored): on any failure nothing is
 * written.  HEAD does not move.
 */
int lmd_checkout_rev(lmd_repo *r, const lmd_rev *rev, const char *const *paths, size_t n, unsigned flags,
		     lmd_checkout_cb cb, void *payload);
/* List the files of REV's datasets (as lmd_ls does for the work tree). */
int lmd_ls_rev(lmd_repo *r, const lmd_rev *rev, const char *const *paths, size_t n, lmd_ls_cb cb, void *payload);
/* Stream one file's verified bytes at REV (NULL: the work tree's manifests) to fd. */
int lmd_cat(lmd_repo *r, const lmd_rev *rev, const char *path, int fd);

/* ---- diff ---- */

typedef enum lmd_diff_kind {
	LMD_DIFF_ADDED = 1,
	LMD_DIFF_DELETED,
	LMD_DIFF_MODIFIED,
	LMD_DIFF_RENAMED,     /* same content id, new path */
} lmd_diff_kind;

typedef struct lmd_diff_entry {
	lmd_diff_kind kind;
	const char *path;       /* new path (old path for DELETED) */
	const char *old_path;   /* RENAMED: where it was; else == path */
	const char *dataset;
	uint32_t old_mode, new_mode;
	uint64_t old_size, new_size;
	lmd_oid old_id, new_id;
} lmd_diff_entry;
typedef void (*lmd_diff_cb)(const lmd_diff_entry *e, void *payload);

/*
 * Files that differ between two versions of the selected datasets: a and
 * b are revisions, NULL meaning the work tree's manifests.  Equal
 * subtrees are skipped by id.  Returns the number of differences.
 */
int lmd_diff(lmd_repo *r, const lmd_rev *a, const lmd_rev *b, const char *const *paths, size_t n, lmd_diff_cb cb,
	     void *payload);

/* ---- log ---- */

typedef struct lmd_log_dataset {
	const char *path;
	bool existed_before, exists;
	uint64_t size, files;             /* after the commit (0 if removed) */
	uint64_t old_size, old_files;     /* before */
	int64_t added, deleted, modified; /* files; -1 when the store lacks the trees to tell */
} lmd_log_dataset;

typedef struct lmd_log_entry {
	const char *commit;               /* hex id */
	const char *author, *email, *subject;
	int64_t time;                     /* author time */
	int tz;                           /* minutes east of UTC */
	const lmd_log_dataset *datasets;  /* the changed datasets */
	size_t ndatasets;
} lmd_log_entry;
typedef int (*lmd_log_cb)(const lmd_log_entry *e, void *payload);   /* non-zero stops */

typedef struct lmd_log_opts {
	size_t max;                       /* 0: no limit */
	int64_t since, until;             /* commit time bounds; 0: none */
} lmd_log_opts;
/* The commits (from HEAD, newest first) that changed the selected datasets. */
int lmd_log(lmd_repo *r, const lmd_log_opts *o, const char *const *paths, size_t n, lmd_log_cb cb, void *payload);

/* ---- commit ---- */

/* Re-snapshot what changed among the selected datasets (as add would) and stage it. */
int lmd_commit_prepare(lmd_repo *r, const char *const *paths, size_t n, lmd_add_cb cb, void *payload);
/* Is there anything to commit?  (0 no, 1 yes, < 0 error; refuses during a merge/rebase.) */
int lmd_commit_pending(lmd_repo *r);
/* Record the index as a commit on HEAD; message is cleaned up as git does. */
int lmd_commit_create(lmd_repo *r, const char *message, lmd_rev *ret);
/* The path of a git hook if it exists and is executable (malloc'd), else NULL. */
char *lmd_hook_path(lmd_repo *r, const char *name);
/* The editor git would use ($GIT_EDITOR, core.editor, $VISUAL, $EDITOR, vi); malloc'd. */
char *lmd_git_editor(lmd_repo *r);
/* .git (for COMMIT_EDITMSG); malloc'd. */
char *lmd_repo_gitdir(lmd_repo *r);
/* The current branch's short name, or "detached HEAD"; malloc'd. */
char *lmd_repo_head_name(lmd_repo *r);

/* ---- hooks ---- */

#define LMD_HOOK_PRE_COMMIT 1u
#define LMD_HOOK_POST_CHECKOUT 2u
#define LMD_HOOK_PRE_PUSH 4u
#define LMD_HOOK_ALL 7u

typedef void (*lmd_hook_cb)(const char *hook, const char *what, void *payload);
/*
 * Install (or with uninstall, remove) lmdata's git hooks.  A hook that is
 * already there and not lmdata's is kept as HOOK.lmdata-chained and run
 * first; installing twice changes nothing.  `self` is the lmdata binary
 * to fall back on when 'lmdata' is not on PATH (may be NULL).
 */
int lmd_hooks_install(lmd_repo *r, unsigned hooks, bool uninstall, const char *self, lmd_hook_cb cb, void *payload);

/* ---- gc scopes ---- */

#define LMD_GC_WORKSPACE 1u      /* the work tree's (index's) manifests: always kept */
#define LMD_GC_ALL_BRANCHES 2u   /* the tip of every local branch */
#define LMD_GC_ALL_TAGS 4u       /* every tagged commit */
#define LMD_GC_ALL_COMMITS 8u    /* every commit reachable from any ref */
#define LMD_GC_KEEP_SINCE 16u    /* every reachable commit made at or after `since` */

typedef struct lmd_gc_opts {
	unsigned scopes;
	const char *const *revs;     /* --rev: these commits too */
	size_t nrevs;
	int64_t since;
	int64_t grace;               /* packs younger than this (seconds) are never touched; < 0: default */
} lmd_gc_opts;
/* gc keeping what the scopes reach; lmd_gc() is LMD_GC_WORKSPACE. */
int lmd_gc_scoped(lmd_repo *r, const lmd_gc_opts *o, unsigned flags, lmd_gc_stats *ret_stats);
/* Does the repository have commits (gc then wants an explicit scope)? */
bool lmd_repo_has_history(lmd_repo *r);

#ifdef __cplusplus
}
#endif
#endif
