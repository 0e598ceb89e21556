/*
 * Scanning tracked data in the work tree: walk a file, link or folder,
 * get each file's id (from the stat cache, or by reading it), build the
 * folder's tree objects, and optionally compare with what a manifest
 * recorded (status) or store everything (add).  One walk serves both, so
 * status and add can never disagree about what changed.
 *
 * Links are recorded as links (their target), never followed; fifos,
 * sockets and devices are refused.
 */
#ifndef LMD_SCAN_H
#define LMD_SCAN_H

#include "ingest.h"
#include "objects.h"
#include "repo_int.h"
#include "statcache.h"

typedef struct lmd_scan {
	lmd_repo *r;
	lmd_store *store;      /* for expected trees; NULL: no comparison */
	lmd_ingest *ing;       /* add: store bytes; NULL: only hash */
	lmd_packer *pk;        /* add: store trees */
	lmd_statcache *sc;
	const char *dataset;   /* relative to the top */
	lmd_status_cb cb;      /* differences, when comparing */
	void *payload;
	int ndiff;
	uint64_t files;        /* files seen */
} lmd_scan;

/*
 * Scan the dataset's data (at top/dataset, lstat'd into st) and fill ret
 * (mode, size, files, id).  With `expect` (the manifest) and s->cb set,
 * differences are reported through s->cb.
 */
int lmd_scan_dataset(lmd_scan *s, const struct stat *st, const lmd_manifest *expect, lmd_tree_entry *ret);

/* The kind of a stat'd path as a word for messages ("fifo", "socket", ...). */
const char *lmd_file_kind(mode_t m);

#endif
