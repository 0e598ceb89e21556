/*
 * Reading a file's chunk list from the store, whichever form it has (see
 * objects.h): one flat list, or a list of parts, each read, verified and
 * handed over only when its turn comes, so memory holds one part at a
 * time however big the file.  restore, gc, fsck and push planning walk
 * lists through this; fetch, which must fetch parts before it can read
 * them, goes level by level on its own (sync_fetch.c).
 */
#ifndef LMD_CHUNKLIST_H
#define LMD_CHUNKLIST_H

#include "objects.h"
#include "store.h"

/* Callback results besides 0 (go on) and < 0 (fail with that code). */
enum {
	LMD_CHUNKLIST_SKIP = 1,   /* from part: do not read this part */
	LMD_CHUNKLIST_STOP = 2,   /* from either: end the walk, successfully */
};

typedef struct lmd_chunklist_cbs {
	/* Before each part of a two-level list (may be NULL). */
	int (*part)(const lmd_part_ref *p, void *payload);
	/* Each run of chunks in file order: a whole flat list (part NULL), or
	 * one part's. */
	int (*chunks)(const lmd_part_ref *part, const lmd_chunk_ref *c, uint32_t n, void *payload);
} lmd_chunklist_cbs;

/*
 * Walk the chunk list of the file `id` (a FILE object; a file of one chunk
 * has none).  want_size: the file's size as its manifest or tree gives it
 * (UINT64_MAX: not known), checked against the list.  When the list or a
 * part cannot be read or does not add up, returns LMD_EMISSING or
 * LMD_ECORRUPT with a message naming it, and its id in *ret_bad (if not
 * NULL).  A callback's error is returned as it is.
 */
int lmd_chunklist_walk(lmd_store *s, const lmd_oid *id, uint64_t want_size, const lmd_chunklist_cbs *cbs,
		       void *payload, lmd_oid *ret_bad);

#endif
