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
