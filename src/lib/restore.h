/*
 * Restore: writing files back from the store.  The calling thread queues
 * files; their chunks are grouped by the block that holds them, worker
 * threads read, decompress and verify each block once (every chunk against
 * its sha256), and the calling thread writes the bytes in order into a
 * temp file next to the target, checks the whole file's sha256, and
 * renames it into place.  A reader sees the old file or the new one,
 * never a partial or unverified one.
 */
#ifndef LMD_RESTORE_H
#define LMD_RESTORE_H

#include <stdbool.h>
#include <sys/stat.h>

#include "store.h"

typedef struct lmd_restore lmd_restore;

/* Called after a file is in place, with its new stat. */
typedef void (*lmd_restore_done)(const char *rel, const lmd_oid *id, const struct stat *st, void *payload);

int lmd_restore_new(lmd_store *s, unsigned jobs, lmd_restore_done done, void *payload, lmd_restore **ret);
/*
 * Queue a file: `abs` is where it goes, `rel` how it is named in messages
 * and passed to done.  Fails at once (LMD_EMISSING) if an object it needs
 * is not in the store.  fd_out >= 0: write to that descriptor instead
 * (streaming to stdout), no temp file or rename.
 */
int lmd_restore_file(lmd_restore *rs, const char *abs, const char *rel, const lmd_oid *id, uint64_t size,
		     bool exec, int fd_out);
/* Write everything queued. */
int lmd_restore_finish(lmd_restore *rs);
/* Abandon: temp files of unfinished files are removed. */
void lmd_restore_free(lmd_restore *rs);
void lmd_restore_set_progress(lmd_restore *rs, void (*cb)(uint64_t bytes, uint64_t files, void *), void *payload);

#endif
