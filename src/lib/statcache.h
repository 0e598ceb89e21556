/*
 * The stat cache: for each tracked dataset, the (size, mtime, ctime,
 * inode, mode) of every file when it was last hashed, with its id, so that
 * status and re-add skip reading unchanged files (git's index does the
 * same).  One file per dataset under .lmdata/state/, replaced atomically.
 *
 * Racy files: an entry is trusted only when the file's mtime is older than
 * the moment the scan that recorded it began (coarse clock, the one file
 * times come from), so a file modified within the same clock tick as it
 * was hashed is always re-read.
 */
#ifndef LMD_STATCACHE_H
#define LMD_STATCACHE_H

#include <sys/stat.h>
#include "lmdata/common.h"

typedef struct lmd_statcache lmd_statcache;

/* Load the cache of a dataset (missing or damaged: an empty cache). */
int lmd_statcache_load(const char *statedir, const char *dataset, lmd_statcache **ret);
void lmd_statcache_free(lmd_statcache *c);
/* The id recorded for rel if st still matches and the entry is trusted. */
const lmd_oid *lmd_statcache_lookup(const lmd_statcache *c, const char *rel, const struct stat *st);
/* Record an entry for the next save (entries are kept in call order). */
int lmd_statcache_put(lmd_statcache *c, const char *rel, const struct stat *st, const lmd_oid *id);
/* Did the puts differ from what was loaded? */
bool lmd_statcache_changed(const lmd_statcache *c);
/* Save the entries put since load, stamped with scan_start (coarse ns). */
int lmd_statcache_save(lmd_statcache *c, int64_t scan_start);
/* Remove a dataset's cache. */
int lmd_statcache_remove(const char *statedir, const char *dataset);
/* The coarse clock file times come from, in ns. */
int64_t lmd_statcache_now(void);

#endif
