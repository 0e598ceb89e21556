/*
 * The structured object kinds of the store: trees, file lists and parts.
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
 * A file list names the chunks of a file cut into more than one.  Up to
 * LMD_PART_CHUNKS chunks it is flat:
 *
 *   "LMDFILE1" u64 size u32 count u32 0  count x { id[32] u32 len }  sha256[32]
 *
 * keyed by the sha256 of the file's whole content, with its own trailer
 * hash since its key is not the hash of its bytes.  A file of one chunk
 * (or none) has no list: its chunk's id is its id.
 *
 * A file of more chunks has a two-level list, so that no object and no
 * reader or writer ever holds the list of a whole big file: the file list
 * (same key, same trailer) names parts,
 *
 *   "LMDFILE2" u64 size u32 count u32 0
 *              count x { part_id[32] u64 size u32 chunks }  sha256[32]
 *
 * and each part (an object of type LMD_OBJ_PART, named by the sha256 of
 * its bytes, so verified like a tree and shared by every version of every
 * file that has it) lists a run of the file's chunks:
 *
 *   "LMDPART1" u64 size u32 count u32 0  count x { id[32] u32 len }
 *
 * Where a part ends is content-defined (lmd_part_cut): after a chunk whose
 * id says so, once the part has a quarter of the maximum, or at the
 * maximum.  Chunk ids depend only on content, so an insertion or a
 * deletion in the middle of a big file changes the part around it and no
 * other; the same file always gives the same parts.  With the default
 * maximum of 16384 chunks (a 512 MiB file has a few parts) a part lists
 * about 10,500 chunks on average, 164 MiB of data with 16 KiB chunks, and
 * is itself at most 576 KiB.  A file list of parts is at most 256 MiB
 * like any object: about 6.1 million parts, about 1 PiB for one file
 * with the default chunk sizes (never less than 90 TiB, which would take
 * every part and every chunk at its minimum size).  Readers hold 48 bytes
 * per part (300 KiB per TiB of file) and one part at a time.
 *
 * Every count and length is checked when parsed: the counts against the
 * object's length, the lengths against the size (overflow-checked), a
 * part against what its file list says of it.
 */
#ifndef LMD_OBJECTS_H
#define LMD_OBJECTS_H

#include <stdbool.h>
#include <stdint.h>
#include "lmdata/common.h"
#include "pack.h"
#include "util.h"

#define LMD_MODE_FILE 0100644u
#define LMD_MODE_EXEC 0100755u
#define LMD_MODE_LINK 0120000u
#define LMD_MODE_DIR 0040000u

#define LMD_TREE_MAGIC "lmdtree 1\n"
#define LMD_FILE_MAGIC "LMDFILE1"
#define LMD_FILE_HDR 24u
#define LMD_FILE_ENT 36u
#define LMD_FILEP_MAGIC "LMDFILE2"
#define LMD_FILEP_ENT 44u
#define LMD_PART_MAGIC "LMDPART1"

/*
 * The most chunks a part lists (and a flat list has): the default, and the
 * smallest value tests may set (lmd_store_opts.part_chunks).  It decides
 * which objects a file gives, so real repositories always use the
 * default.
 */
#define LMD_PART_CHUNKS 16384u
#define LMD_PART_CHUNKS_MIN 4u
/* What a reader accepts: a part or flat list no bigger than the object cap. */
#define LMD_PART_MAX_ENTRIES ((LMD_MAX_BLOB_RAW - LMD_FILE_HDR - 32u) / LMD_FILE_ENT)
#define LMD_FILEP_MAX_PARTS ((LMD_MAX_BLOB_RAW - LMD_FILE_HDR - 32u) / LMD_FILEP_ENT)
/* The largest file size any object records (as trees do). */
#define LMD_MAX_FILE_SIZE (1ull << 62)

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

/* A part as its file list names it. */
typedef struct lmd_part_ref {
	lmd_oid id;
	uint64_t size;      /* bytes of the file it covers */
	uint32_t nchunks;
} lmd_part_ref;

int lmd_filelist_encode(uint64_t size, const lmd_chunk_ref *c, uint32_t n, lmd_buf *out);
/*
 * Parse a verified flat file list; checks counts and that lengths add up
 * to size.  *ret_chunks is malloc'd.  Out-parameters are untouched on
 * failure (LMD_ECORRUPT with a message, or -ENOMEM).
 */
int lmd_filelist_parse(const uint8_t *p, size_t len, uint64_t *ret_size,
		       lmd_chunk_ref **ret_chunks, uint32_t *ret_n);

/* Is this file list (already verified) one of parts ("LMDFILE2")? */
bool lmd_filelist_has_parts(const uint8_t *p, size_t len);
int lmd_fileparts_encode(uint64_t size, const lmd_part_ref *parts, uint32_t n, lmd_buf *out);
/*
 * Parse a verified file list of parts: at least one part, each of 1 to
 * LMD_PART_MAX_ENTRIES chunks and a size its chunks can have, sizes
 * adding up to the file's.  *ret_parts is malloc'd.
 */
int lmd_fileparts_parse(const uint8_t *p, size_t len, uint64_t *ret_size, lmd_part_ref **ret_parts,
			uint32_t *ret_n);

/* Serialize a part of n >= 1 chunks; its id is the sha256 of out. */
int lmd_part_encode(const lmd_chunk_ref *c, uint32_t n, lmd_buf *out, lmd_oid *ret_id, uint64_t *ret_size);
/*
 * Parse a part (verified against its id by the store).  With want, the
 * part must have the size and chunk count its file list gives it.
 */
int lmd_part_parse(const uint8_t *p, size_t len, const lmd_part_ref *want, lmd_chunk_ref **ret_chunks,
		   uint32_t *ret_n);

/*
 * Where a part that starts at c[0] ends, given the next n chunks (ids
 * known) and the maximum per part: the number of chunks it takes (1 to
 * max), or 0 when the n chunks do not decide it yet (n < max and no cut
 * among them).  Content-defined and deterministic: see the top.
 */
uint32_t lmd_part_cut(const lmd_chunk_ref *c, uint32_t n, uint32_t max);

#endif
