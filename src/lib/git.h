/*
 * What lmdata needs from git, through libgit2.  Only git.c includes
 * <git2.h>; libgit2's errors are translated there into lmdata's.
 */
#ifndef LMD_GIT_H
#define LMD_GIT_H

#include <stddef.h>

typedef struct lmd_git lmd_git;

/* Open the git work tree containing `start`; ret_top gets its top folder
 * (malloc'd, no trailing slash).  LMD_ENOTREPO outside a work tree. */
int lmd_git_open(const char *start, lmd_git **ret, char **ret_top);
void lmd_git_free(lmd_git *g);

/* Stage paths (relative to the top): added when they exist, removed from
 * the index when they do not.  The index is written once, atomically. */
int lmd_git_stage(lmd_git *g, const char *const *paths, size_t n);

/*
 * Take data out of the git index (like `git rm --cached -r`), keeping the
 * files: data lmdata tracks must not also be committed to git.  Sets
 * *ret_removed to the number of index entries removed.
 */
int lmd_git_untrack(lmd_git *g, const char *path, size_t *ret_removed);

/* Every manifest (*.lmd) in the index, sorted, each once (conflicted ones too). */
typedef int (*lmd_git_path_cb)(const char *path, void *payload);
int lmd_git_list_manifests(lmd_git *g, lmd_git_path_cb cb, void *payload);

#define LMD_GIT_UNCOMMITTED 1u  /* index differs from HEAD */
#define LMD_GIT_WT_CHANGED 2u   /* work tree differs from the index */
#define LMD_GIT_CONFLICT 4u     /* unmerged in the index */
int lmd_git_path_state(lmd_git *g, const char *path, unsigned *ret_flags);

#endif

/* ---- history (commits, trees, blobs; see history.c) ---- */

#include <stdbool.h>
#include <stdint.h>
#include "util.h"

/* Room for a hex commit or blob id (sha1 or sha256 repositories). */
#define LMD_GIT_HEXSZ 64

typedef struct lmd_git_commit {
	char id[LMD_GIT_HEXSZ + 1];
	char parent[LMD_GIT_HEXSZ + 1];   /* first parent, "" for a root commit */
	unsigned nparents;
	char (*parents)[LMD_GIT_HEXSZ + 1]; /* all nparents, in order (malloc'd; NULL when none) */
	int64_t time;                     /* committer time (seconds) */
	int64_t author_time;
	int author_tz;                    /* minutes east of UTC */
	char *author, *email, *subject;   /* malloc'd */
} lmd_git_commit;
void lmd_git_commit_release(lmd_git_commit *c);

/*
 * Resolve anything 'git rev-parse' accepts to a commit.  LMD_ENOTFOUND
 * for an unknown revision (with a hint for shallow clones and for a
 * repository without commits).
 */
int lmd_git_rev_parse(lmd_git *g, const char *spec, char ret_id[LMD_GIT_HEXSZ + 1]);
/* The last commit on HEAD's first-parent line at or before `when`. */
int lmd_git_rev_at(lmd_git *g, int64_t when, char ret_id[LMD_GIT_HEXSZ + 1]);
int lmd_git_commit_read(lmd_git *g, const char *id, lmd_git_commit *ret);
bool lmd_git_head_born(lmd_git *g);

/*
 * Manifests (*.lmd blobs) that differ between commits a and b (either
 * NULL: the empty tree), limited to the selections (paths relative to the
 * top, as lmd__path_selects reads them; n == 0: everything).  Equal
 * subtrees are skipped by id.  Sorted by path, each once; a blob id is ""
 * on the side where the manifest does not exist.
 */
typedef int (*lmd_git_change_cb)(const char *path, const char *old_blob, const char *new_blob, void *payload);
int lmd_git_diff_manifests(lmd_git *g, const char *a, const char *b, const char *const *sel, size_t n,
			   lmd_git_change_cb cb, void *payload);
/* Read a blob (capped at max bytes: LMD_ETOOBIG past it). */
int lmd_git_blob_read(lmd_git *g, const char *blob, size_t max, lmd_buf *out);
/* The blob id of a file as git would store it (to compare a work-tree manifest). */
int lmd_git_blob_hash(const void *data, size_t len, char ret_id[LMD_GIT_HEXSZ + 1]);

/* Walk commits from HEAD (newest first, by commit time). */
typedef int (*lmd_git_commit_cb)(const lmd_git_commit *c, void *payload);
int lmd_git_log(lmd_git *g, lmd_git_commit_cb cb, void *payload);
/*
 * Where a walk of the history starts: HEAD's commit (LMD_ENOTFOUND, as
 * lmd_git_log, when there are no commits).  Also lets libgit2 keep the
 * manifest blobs a walk reads twice, as lmd_git_log does.
 */
int lmd_git_log_head(lmd_git *g, char ret_id[LMD_GIT_HEXSZ + 1]);
/*
 * Can a commit's parents here differ from what its id alone says: a
 * shallow clone (its edge commits look parentless), grafts
 * (info/grafts) or replacements (refs/replace/)?  Anything keyed by
 * commit id that depends on parents must then be bypassed.
 */
bool lmd_git_history_altered(lmd_git *g);

/* Commits whose manifests gc keeps (flags: LMD_GC_* scope bits of history.h).
 * A rev of the form A..B stands for every commit it names (see below). */
typedef int (*lmd_git_id_cb)(const char *id, void *payload);
/* Is spec a range "A..B" (either side may be empty: HEAD)? */
bool lmd_git_is_range(const char *spec);
/* Every commit reachable from B and not from A, as 'git rev-list A..B'
 * lists them; "A...B" is refused (LMD_EBADINPUT). */
int lmd_git_range_commits(lmd_git *g, const char *spec, lmd_git_id_cb cb, void *payload);
int lmd_git_scope_commits(lmd_git *g, unsigned scopes, const char *const *revs, size_t nrevs,
			  int64_t since, lmd_git_id_cb cb, void *payload);
/* Every distinct manifest blob in the trees of the given commits. */
int lmd_git_manifest_blobs(lmd_git *g, const char *const *commits, size_t n, lmd_git_change_cb cb,
			   void *payload);

/* ---- commit ---- */
/* Does the index differ from HEAD (or hold anything, before the first commit)? */
int lmd_git_index_changed(lmd_git *g, bool *ret_changed);
/* The repository's state: 0 normal; > 0 a merge, rebase, ... in progress (named in ret_what). */
int lmd_git_state(lmd_git *g, const char **ret_what);
/* Clean up a message as git does (comments, blank lines); "" when empty. */
int lmd_git_message_prettify(const char *msg, lmd_buf *out);
/* Commit the index on HEAD; author/committer from GIT_* variables or config. */
int lmd_git_commit_index(lmd_git *g, const char *message, char ret_id[LMD_GIT_HEXSZ + 1]);
/* A configuration value (malloc'd) or NULL when unset. */
char *lmd_git_config_str(lmd_git *g, const char *key);
/* The .git folder and the hooks folder (core.hooksPath honoured); malloc'd. */
char *lmd_git_dir(lmd_git *g);
char *lmd_git_hooks_dir(lmd_git *g);
bool lmd_git_is_shallow(lmd_git *g);
/* The current branch's short name, or "detached HEAD" (malloc'd). */
char *lmd_git_head_name(lmd_git *g);
