/*
 * A set of object ids that may be much bigger than memory (gc's live
 * chunks: 32 bytes each, tens of millions for a few TiB of data), or of
 * fixed-size records that begin with an id (what push needs: id, type,
 * length, local pack), one record per id.
 *
 * Ids are added to a buffer of a fixed size; a full buffer is sorted,
 * deduplicated and written out as a run to an anonymous temp file (created
 * and unlinked at once, so nothing is left behind even by kill -9).
 * lmd_idspill_finish merges the runs into one sorted file and maps it;
 * membership is then a binary search through a 64 Ki-entry table of the
 * ids' first two bytes.  A set that never filled its buffer stays in
 * memory.  Runs are read back 64 KiB at a time, never mapped, and once
 * there are 64 of them they are merged into one, so open files stay few.
 * Memory: the buffer, plus 64 KiB per run (at most 64) while merging, and
 * 256 KiB for the table; after finish, lookups read the mapped merged file
 * (page cache, paged in as used).
 */
#ifndef LMD_IDSPILL_H
#define LMD_IDSPILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lmdata/common.h"

typedef struct lmd_idspill lmd_idspill;

/* tmpdir holds the runs; buf_ids ids are kept in memory (0: a default,
 * 256 Ki ids = 8 MiB). */
int lmd_idspill_new(const char *tmpdir, size_t buf_ids, lmd_idspill **ret);
int lmd_idspill_add(lmd_idspill *s, const lmd_oid *id);
/*
 * A set of records of rec_size bytes (32 to 4096), each beginning with its
 * id; buf_recs records are kept in memory (0: as many as fill 8 MiB).  Of
 * records added with the same id one is kept, which one is unspecified:
 * give equal ids equal records.
 */
int lmd_idspill_new_rec(const char *tmpdir, size_t buf_recs, size_t rec_size, lmd_idspill **ret);
int lmd_idspill_add_rec(lmd_idspill *s, const void *rec);
/* After the last add; before any lookup. */
int lmd_idspill_finish(lmd_idspill *s);
bool lmd_idspill_has(const lmd_idspill *s, const lmd_oid *id);
/* The record of id, or NULL (after finish). */
const void *lmd_idspill_find(const lmd_idspill *s, const lmd_oid *id);
/*
 * Call cb once per distinct id added so far, in increasing order (in a set
 * of records, with the record, which the id begins); a negative return
 * from cb stops the walk and is returned.  Before finish
 * it merges the runs as it goes (nothing mapped: memory stays the
 * buffer's plus 64 KiB per run) and leaves the set as it was, so ids may
 * still be added; after finish it walks the merged ids.
 */
typedef int (*lmd_idspill_cb)(const lmd_oid *id, void *payload);
int lmd_idspill_foreach(lmd_idspill *s, lmd_idspill_cb cb, void *payload);
/* Distinct ids (after finish). */
uint64_t lmd_idspill_count(const lmd_idspill *s);
/* The i-th record in order of id, i < count (after finish); valid until free. */
const void *lmd_idspill_at(const lmd_idspill *s, uint64_t i);
/* Runs written so far (tests). */
unsigned lmd_idspill_runs(const lmd_idspill *s);
void lmd_idspill_free(lmd_idspill *s);

#endif
