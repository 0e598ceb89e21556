/*
 * The object store: packs and indexes under .lmdata/cache/packs (formats in
 * pack.h).  Readers need no lock: they see the packs whose index existed
 * when the store was opened (or refreshed), and every index they see has a
 * complete pack.  Writers hold the repository lock and go through a packer,
 * which groups objects into blocks and blocks into packs of tens of MiB.
 *
 * Thread safety: lookups (lmd_store_find/has) and block reads may run on
 * any number of threads while one thread drives the packer.
 */
#ifndef LMD_STORE_H
#define LMD_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "compress.h"
#include "lmdata/common.h"
#include "pack.h"
#include "util.h"

typedef struct lmd_store lmd_store;
typedef struct lmd_packer lmd_packer;

typedef struct lmd_store_opts {
	int level;              /* zstd level for new blocks */
	uint32_t block_target;  /* raw bytes per block (about) */
	uint64_t pack_target;   /* stored bytes per pack (about) */
	/*
	 * Most chunks per part of a big file's chunk list (objects.h); 0 is
	 * LMD_PART_CHUNKS.  It decides the objects a file gives: only tests
	 * set it, to get many parts from a small file.
	 */
	uint32_t part_chunks;
} lmd_store_opts;

#define LMD_STORE_OPTS_INIT { 2, 1u << 20, 32ull << 20, 0 }

/* Open (creating folders if needed) the store rooted at `dir`. */
int lmd_store_open(const char *dir, const lmd_store_opts *opts, lmd_store **ret);
void lmd_store_free(lmd_store *s);
/* Pick up packs written since open (by this or another process). */
int lmd_store_refresh(lmd_store *s);
const lmd_store_opts *lmd_store_options(lmd_store *s);
const char *lmd_store_dir(lmd_store *s);

/*
 * Find an object.  type 0 matches any type.  Returns 0 and fills ret_loc,
 * or LMD_EMISSING (no message set: absence is not an error by itself).
 */
int lmd_store_find(lmd_store *s, const lmd_oid *id, int type, lmd_loc *ret_loc);
bool lmd_store_has(lmd_store *s, const lmd_oid *id, int type);

/*
 * Read and decode the block at loc (its pack, offset and length) with the
 * caller's zstd context.  Validates the header against the caps; does not
 * verify object hashes (lmd_block_verify does).
 */
int lmd_store_read_block(lmd_store *s, const lmd_loc *loc, lmd_zctx *z, lmd_block *ret);
/* Check that the object at raw_off/len in the block hashes to id. */
int lmd_block_verify_obj(const lmd_block *b, const lmd_loc *loc, const lmd_oid *id);

/*
 * Read one whole object (a tree, a file list, a small chunk) into out,
 * verified: DATA and TREE against their id, FILE against its own trailer.
 * Uses a small block cache, so reading neighbouring objects is cheap.
 */
int lmd_store_get(lmd_store *s, const lmd_oid *id, int type, lmd_buf *out);

/* Iterate every index entry of every pack (fsck, gc), or of one pack.
 * cb returns <0 to stop. */
typedef int (*lmd_store_entry_cb)(const lmd_oid *id, const lmd_loc *loc, void *payload);
int lmd_store_foreach(lmd_store *s, lmd_store_entry_cb cb, void *payload);
int lmd_store_foreach_pack(lmd_store *s, uint32_t pack, lmd_store_entry_cb cb, void *payload);

/* Packs whose index could not be loaded (set aside at open). */
uint32_t lmd_store_bad_count(lmd_store *s);
const lmd_oid *lmd_store_bad_pack(lmd_store *s, uint32_t i, const char **ret_msg);
/*
 * Rebuild a pack's index by reading the pack block by block; objects that
 * fail their hash (and blocks that cannot be decoded) are left out and
 * counted in *ret_dropped.  The store must be refreshed afterwards.
 */
int lmd_store_reindex_pack(lmd_store *s, const lmd_oid *pack_id, uint64_t *ret_dropped);

/* Packs known to the store. */
uint32_t lmd_store_pack_count(lmd_store *s);
const lmd_oid *lmd_store_pack_id(lmd_store *s, uint32_t pack);
char *lmd_store_pack_path(lmd_store *s, const lmd_oid *pack_id, const char *ext);
uint64_t lmd_store_pack_size(lmd_store *s, uint32_t pack);
uint64_t lmd_store_pack_mtime(lmd_store *s, uint32_t pack);

/*
 * Verify one pack completely: its trailer hash, every block's header and
 * every object's hash.  bad_cb is called for each damaged object (or once
 * with id NULL when the pack itself is unreadable).
 */
typedef void (*lmd_bad_cb)(const lmd_oid *pack, const lmd_oid *id, const char *what, void *payload);
int lmd_store_verify_pack(lmd_store *s, uint32_t pack, lmd_zctx *z, lmd_bad_cb bad_cb, void *payload,
			  uint64_t *bytes_done);

/* ---- writing ---- */

/*
 * Under the writer lock, before it is released: give the packs searched
 * one by one a multi-pack index once there are enough of them (midx.c),
 * and delete unusable ones.  A cache: callers may ignore its errors.
 * This store does not use a new index: a store opened after it does.
 * lmd__store_packs_removed: packs were deleted, so check every index.
 */
int lmd__store_maintain(lmd_store *s);
/* Would lmd__store_maintain write an index (enough packs searched one by one)? */
bool lmd__store_wants_layer(lmd_store *s);
/*
 * During a write, under the writer lock: when enough packs sealed so far
 * are searched one by one, write their multi-pack index and use it in
 * this store at once, so that lookups stay cheap however many packs a
 * long add or fetch seals.  Errors only leave lookups slower.
 */
void lmd__store_layer_now(lmd_store *s);
/* fsck: check the multi-pack indexes in use against their checksum;
 * cb gets each damaged one's path (and whether it was removed). */
typedef void (*lmd_midx_bad_cb)(const char *path, bool removed, void *payload);
int lmd__store_check_midx(lmd_store *s, bool remove_bad, lmd_midx_bad_cb cb, void *payload);
void lmd__store_packs_removed(lmd_store *s);

int lmd_packer_new(lmd_store *s, lmd_packer **ret);
/*
 * Append an encoded block (lmd_block_encode) to the current pack.  The
 * packer takes the entries' locations; objects become visible to
 * lmd_store_find at once (from memory, then from the pack's index).
 */
int lmd_packer_add_encoded(lmd_packer *p, const uint8_t *blk, size_t len);
/* Add one small object, grouped with others into a block (skipped if present). */
int lmd_packer_put(lmd_packer *p, int type, const lmd_oid *id, const void *data, size_t len);
/* Flush everything, make it durable (fsync, rename) and visible. */
int lmd_packer_finish(lmd_packer *p);
/* Abandon: temp files are removed; finished packs stay (they are valid). */
void lmd_packer_free(lmd_packer *p);
uint64_t lmd_packer_bytes_written(lmd_packer *p);

/*
 * Encode a block of `count` objects whose raw bytes are concatenated in
 * raw[0..raw_len).  Compresses with z (or stores raw when it does not
 * pay) into out, replacing its contents.
 */
int lmd_block_encode(const lmd_blk_entry *entries, uint32_t count, const uint8_t *raw,
		     uint32_t raw_len, lmd_zctx *z, lmd_buf *out);
/* Decode a block held in memory (header + entries + payload). */
int lmd_block_decode(const uint8_t *buf, size_t len, lmd_zctx *z, lmd_block *ret);

#endif
