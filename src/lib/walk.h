/*
 * Walking what a manifest records (not the work tree): every file of a
 * dataset with its path, mode, size and id, read from the store's tree
 * objects.  Used by ls, fsck and gc.
 */
#ifndef LMD_WALK_H
#define LMD_WALK_H

#include "objects.h"
#include "repo_int.h"

/*
 * Called for each tree (id) and each file/link entry; return < 0 to stop,
 * or LMD_WALK_SKIP from tree to pass over that tree and all below it
 * (versions share most of their trees: a walk of many needs each once).
 */
#define LMD_WALK_SKIP 1
typedef struct lmd_walk_cbs {
	int (*tree)(const lmd_oid *id, const char *path, void *payload);
	int (*file)(const char *path, const lmd_tree_entry *e, void *payload);
} lmd_walk_cbs;

/* Walk the dataset at path (relative to the top) described by m. */
int lmd_walk_manifest(lmd_store *s, const char *path, const lmd_manifest *m, const lmd_walk_cbs *cbs,
		      void *payload);

/* Listing shared by ls and ls REV: reports each file selected by sel
 * (all when nsel is 0) through cb.  Use lmd__ls_file as walk's file cb. */
typedef struct lmd__ls_walk {
	lmd_ls_cb cb;
	void *payload;
	const char *dataset;
	char *const *sel;
	size_t nsel;
} lmd__ls_walk;
int lmd__ls_file(const char *path, const lmd_tree_entry *e, void *payload);

#endif
