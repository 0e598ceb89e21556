/*
 * Private parts of the object store shared by store.c, packer.c and
 * block.c.  Not for other modules: they use store.h.
 */
#ifndef LMD_STORE_INT_H
#define LMD_STORE_INT_H

#include <pthread.h>
#include "store.h"

struct lmd_pack {
	lmd_oid id;
	const uint8_t *idx_map;  /* mmap'd index, immutable */
	size_t idx_size;
	uint32_t count;
	int pack_fd;
	uint64_t pack_size, mtime;
};

#define LMD_BLOCK_CACHE 4

struct lmd_cached_block {
	bool valid;
	uint32_t pack;
	uint64_t off;
	lmd_block blk;
};

/* Ids written by the packer that no loaded index lists yet. */
struct lmd_session {
	pthread_mutex_t lock;
	struct lmd_sess_slot { lmd_oid id; uint8_t type; uint8_t used; } *slots;
	size_t n, cap;
};

/* A pack whose index could not be loaded: reported by fsck, rebuilt by
 * fsck --repair (packs describe themselves block by block). */
struct lmd_bad_pack {
	lmd_oid id;
	char msg[256];
};

struct lmd_store {
	char *dir, *packdir;
	lmd_store_opts opts;
	pthread_rwlock_t lock;         /* guards packs/npacks */
	struct lmd_pack *packs;
	uint32_t npacks, apacks;
	pthread_mutex_t cache_lock;    /* guards the block cache */
	struct lmd_cached_block cache[LMD_BLOCK_CACHE];
	unsigned cache_next;
	lmd_zctx *cache_z;
	struct lmd_session *session;   /* set while a packer is open */
	struct lmd_bad_pack *bad;
	uint32_t nbad;
};

int lmd__store_add_pack(lmd_store *s, const lmd_oid *pid);
bool lmd__session_has(lmd_store *s, const lmd_oid *id, int type);

#endif
