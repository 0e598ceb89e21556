/*
 * Ingest: turning file bytes into stored objects.  The calling thread
 * reads each file, cuts it into content-defined chunks and hashes the
 * whole file (its id); the chunks of many files are gathered into batches
 * of about one block, and worker threads hash each chunk, drop the ones
 * the store already has, and compress the rest as one block.  Batches are
 * handed to the packer in order.  A file cut into several chunks gets a
 * file-list object once all its chunks are known; a big file's list is
 * written a part at a time as its chunks become known (objects.h).
 *
 * Memory is bounded by the batches in flight (a few per worker) and, for
 * a big file, one part of its chunk list.
 */
#ifndef LMD_INGEST_H
#define LMD_INGEST_H

#include <sys/stat.h>

#include "chunker.h"
#include "lmdata/common.h"
#include "store.h"

typedef struct lmd_ingest lmd_ingest;

typedef void (*lmd_ingest_progress)(uint64_t bytes, void *payload);

int lmd_ingest_new(lmd_store *s, lmd_packer *pk, const lmd_chunker *ch, unsigned jobs, int level,
		   lmd_ingest **ret);
void lmd_ingest_set_progress(lmd_ingest *in, lmd_ingest_progress cb, void *payload);
/*
 * Store the file open on fd; st is its lstat from before it was opened.
 * Returns its id (sha256 of the bytes read).  LMD_ECHANGED when the file
 * changed while it was read (size, mtime or ctime moved): its id is then
 * not returned, so no manifest can name bytes that were not stored.
 */
int lmd_ingest_file(lmd_ingest *in, int fd, const struct stat *st, const char *display, lmd_oid *ret_id);
/* Store a small blob (a link target) as a data object. */
int lmd_ingest_blob(lmd_ingest *in, const void *data, size_t len, lmd_oid *ret_id);
/* Wait for every batch and hand it to the packer (does not seal packs). */
int lmd_ingest_finish(lmd_ingest *in);
void lmd_ingest_free(lmd_ingest *in);
uint64_t lmd_ingest_bytes_read(lmd_ingest *in);

/* Hash a file without storing it (status): sha256 of its bytes. */
int lmd_hash_fd(int fd, const struct stat *st, const char *display, lmd_oid *ret_id);

#endif
