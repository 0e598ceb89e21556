/*
 * Keeping tracked data out of git: one "/NAME" line per dataset in the
 * .gitignore of the dataset's folder, escaped so git matches exactly that
 * name (wildcards, a leading '#' or '!', trailing spaces).  A newline
 * cannot be written in a .gitignore, so it becomes '?' (matching any one
 * character there).
 */
#ifndef LMD_IGNORE_H
#define LMD_IGNORE_H

#include <stdbool.h>
#include "repo_int.h"

/* Make sure `dataset` (relative to the top) is ignored; sets *ret_changed. */
int lmd_ignore_add(lmd_repo *r, const char *dataset, bool *ret_changed);
/* Remove its line (if present). */
int lmd_ignore_remove(lmd_repo *r, const char *dataset, bool *ret_changed);
/* The .gitignore path (relative to the top) that holds a dataset's line. */
char *lmd_ignore_file(const char *dataset);

#endif
