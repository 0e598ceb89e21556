/*
 * The two structured object kinds of the store:
 *
 * A tree lists one folder, sorted by name (bytewise):
 *
 *   "lmdtree 1\n" then per entry "<mode> <size> <files> <hex id> <name>\0"
 *
 * mode is octal (100644, 100755, 120000 link, 40000 folder); size is the
 * bytes of the file, link target or whole subfolder; files counts regular
 * files and links (1 for a file, the total for a folder).  A folder's id
 * is the tree's sha256.
 *
 * A file list names the chunks of a file cut into more than one:
 *
 *   "LMDFILE1" u64 size u32 count u32 0  count x { id[32] u32 len }  sha256[32]
 *
 * keyed by the sha256 of the file's whole content, with its own trailer
 * hash since its key is not the hash of its bytes.  A file of one chunk
 * (or none) has no list: its chunk's id is its id.
 */
#ifndef LMD_OBJECTS_H
#define LMD_OBJECTS_H

#include <stdbool.h>
#include <stdint.h>
#include "lmdata/common.h"
#include "util.h"

#define LMD_MODE_FILE 0100644u
#define LMD_MODE_EXEC 0100755u
#define LMD_MODE_LINK 0120000u
#define LMD_MODE_DIR 0040000u

#define LMD_TREE_MAGIC "lmdtree 1\n"
#define LMD_FILE_MAGIC "LMDFILE1"
#define LMD_FILE_HDR 24u
#define LMD_FILE_ENT 36u

typedef struct lmd_tree_entry {
	const char *name;   /* points into the tree's buffer, or owned by the builder */
	uint32_t mode;
	uint64_t size, files;
	lmd_oid id;
} lmd_tree_entry;

typedef struct lmd_tree {
	lmd_tree_entry *entries;
	size_t n;
	lmd_buf raw;        /* the serialized tree the names point into */
} lmd_tree;

/* Is this a name a tree may hold (not empty, ".", ".." and without '/')? */
bool lmd_name_ok(const char *name, size_t len);

/* Serialize sorted entries (the caller sorts) and hash them. */
int lmd_tree_encode(const lmd_tree_entry *e, size_t n, lmd_buf *out, lmd_oid *ret_id);
/* Parse and validate a tree (takes ownership of raw's buffer). */
int lmd_tree_parse(lmd_buf *raw, lmd_tree *ret);
void lmd_tree_release(lmd_tree *t);
/* Binary search by name; NULL when absent. */
const lmd_tree_entry *lmd_tree_find(const lmd_tree *t, const char *name);
int lmd_tree_entry_cmp(const void *a, const void *b);

typedef struct lmd_chunk_ref {
	lmd_oid id;
	uint32_t len;
} lmd_chunk_ref;

int lmd_filelist_encode(uint64_t size, const lmd_chunk_ref *c, uint32_t n, lmd_buf *out);
/* Parse a verified file list; checks counts and that lengths add up to size. */
int lmd_filelist_parse(const uint8_t *p, size_t len, uint64_t *ret_size,
		       lmd_chunk_ref **ret_chunks, uint32_t *ret_n);

#endif
