/*
 * On-disk formats of the object store: pack files, their blocks and their
 * indexes.  All integers are little-endian.
 *
 * A pack ("<id>.pack") is a sequence of blocks between a header and a
 * trailer:
 *
 *   "LMDPACK1"
 *   block*                      (see below)
 *   "LMDPEND1" u32 nblocks u32 0 sha256[32]
 *
 * where sha256 covers every byte before it and is the pack's id (its file
 * name).  A block groups several objects and is compressed as one zstd
 * frame, so small chunks still compress like the data they came from:
 *
 *   "LMDB" u32 flags u32 count u32 raw_len u32 stored_len u32 0
 *   count x { id[32] u32 len u8 type u8 0 u8 0 u8 0 }
 *   payload[stored_len]        (zstd frame if flags & 1, else raw bytes)
 *
 * The raw payload is the objects' bytes concatenated in entry order, so a
 * block is self-describing: a pack can be re-indexed by scanning it, and a
 * remote reader that fetched one block by byte range can use it alone.
 *
 * The index ("<id>.idx") maps ids to blocks for fast lookup:
 *
 *   "LMDIDX01" u32 count u32 0 pack_id[32]
 *   fanout u32[256]             (entries whose first byte <= i)
 *   count x entry (56 bytes, sorted by id then type)
 *   sha256[32] of everything before it
 *
 * A pack is complete once its index exists: packs are renamed into place
 * first, then their index, so a reader that sees an index sees its pack.
 */
#ifndef LMD_PACK_H
#define LMD_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lmdata/common.h"

/* Object types. */
enum {
	LMD_OBJ_DATA = 1, /* a chunk of file bytes; id = sha256(bytes) */
	LMD_OBJ_FILE = 2, /* a file's chunk list; id = sha256(file bytes) */
	LMD_OBJ_TREE = 3, /* a folder listing; id = sha256(tree bytes) */
	LMD_OBJ_PART = 4, /* a run of a big file's chunk list; id = sha256(part bytes) */
};
/* (the formats of FILE, TREE and PART objects are in objects.h) */

#define LMD_PACK_MAGIC "LMDPACK1"
#define LMD_PACK_END "LMDPEND1"
#define LMD_BLOCK_MAGIC "LMDB"
#define LMD_IDX_MAGIC "LMDIDX01"

#define LMD_PACK_HDR 8u
#define LMD_PACK_TRAILER (8u + 4 + 4 + 32)
#define LMD_BLOCK_HDR 24u
#define LMD_BLOCK_ENTRY 40u
#define LMD_IDX_HDR (8u + 4 + 4 + 32)
#define LMD_IDX_FANOUT (256u * 4)
#define LMD_IDX_ENTRY 56u

#define LMD_BLOCK_COMPRESSED 1u

/* Caps: a block never has more objects or bytes than this. */
#define LMD_BLOCK_MAX_COUNT 65536u
#define LMD_BLOCK_MAX_RAW (LMD_MAX_BLOB_RAW)
#define LMD_MAX_BLOB_RAW (256u << 20)

/* One object inside a block. */
typedef struct lmd_blk_entry {
	lmd_oid id;
	uint32_t len;
	uint8_t type;
} lmd_blk_entry;

/* An index entry: where an object lives. */
typedef struct lmd_loc {
	uint32_t pack;       /* index into the store's pack list */
	uint64_t block_off;  /* offset of the block header in the pack */
	uint32_t block_len;  /* header + entries + payload */
	uint32_t raw_off;    /* offset of the object in the raw payload */
	uint32_t len;        /* object length */
	uint8_t type;
} lmd_loc;

static inline void lmd_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void lmd_put_le64(uint8_t *p, uint64_t v)
{
	lmd_put_le32(p, (uint32_t)v);
	lmd_put_le32(p + 4, (uint32_t)(v >> 32));
}
static inline uint32_t lmd_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t lmd_get_le64(const uint8_t *p)
{
	return (uint64_t)lmd_get_le32(p) | (uint64_t)lmd_get_le32(p + 4) << 32;
}

/*
 * A decoded block: header fields, entries, and the raw payload.  Decoding
 * validates every length against the caps and the buffer; it never trusts
 * a count or size from disk.
 */
typedef struct lmd_block {
	uint32_t flags, count, raw_len, stored_len;
	lmd_blk_entry *entries;   /* count entries, malloc'd */
	uint8_t *raw;             /* raw_len bytes, malloc'd */
} lmd_block;

void lmd_block_release(lmd_block *b);

/*
 * Check an index's layout (magic, size for its count, pack id, monotone
 * fanout ending at count) and, with verify_sum, its trailing sha256.
 * LMD_ECORRUPT (no message) when anything is off.
 */
int lmd_idx_validate(const uint8_t *idx, size_t n, const lmd_oid *pack_id, bool verify_sum);
/* A 256-entry fanout table: non-decreasing, ending at count. */
bool lmd_idx_fanout_ok(const uint8_t *fan, uint32_t count);
/* The entry for id (of type, or any when 0) in a validated index, or NULL. */
const uint8_t *lmd_idx_find(const uint8_t *idx, uint32_t count, const lmd_oid *id, int type);

#endif
