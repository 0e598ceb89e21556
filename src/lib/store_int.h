/*
 * Private parts of the object store shared by store.c, packer.c and
 * block.c.  Not for other modules: they use store.h.
 */
#ifndef LMD_STORE_INT_H
#define LMD_STORE_INT_H

#include <pthread.h>
#include "oidset.h"
#include "store.h"

struct lmd_pack {
	lmd_oid id;
	const uint8_t *idx_map;  /* mmap'd index, immutable */
	size_t idx_size;
	uint32_t count;
	uint64_t pack_size, mtime;
	/* The pack file is opened on first read and kept in an LRU of open
	 * descriptors (fd_lock): a store of thousands of packs must not need
	 * a descriptor per pack.  pins > 0 while a read uses it. */
	int pack_fd;
	uint32_t pins;
	uint32_t lru_prev, lru_next;  /* pack numbers; LMD_NO_PACK ends */
	/* In a multi-pack index (midx.c): its own index is mapped only when
	 * a command needs its entries (idx_map NULL until then), and its
	 * mtime read only when asked. */
	bool covered, mtime_known;
};

/* A multi-pack index in use (midx.c). */
struct lmd_midx {
	lmd_oid id;
	const uint8_t *map;
	size_t size;
	uint32_t count, npacks;
	uint32_t *gpack;         /* its ordinal -> the store's pack number */
};

/* Packs with no multi-pack index: when a writer leaves this many, they
 * get one. */
#define LMD_MIDX_MIN_PACKS 32u

struct lmd_midx_scan {
	lmd_oid *packs;          /* every .idx in the folder */
	uint32_t npacks;
	lmd_oidset present, covered;
	struct lmd_midx *layers; /* usable, biggest first */
	uint32_t nlayers;
	lmd_oid *unused;         /* layer files not to use */
	uint32_t nunused;
};

#define LMD_NO_PACK UINT32_MAX

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
	pthread_mutex_t fd_lock;       /* guards pack_fd, pins, the LRU (taken inside lock) */
	uint32_t lru_head, lru_tail;   /* open packs, most recently used first */
	uint32_t nopen, fd_cap;
	struct lmd_midx *midx;         /* multi-pack indexes, biggest first */
	uint32_t nmidx;
	uint32_t *indiv;               /* packs searched one by one, oldest first */
	uint32_t nindiv, aindiv;
	bool midx_dirty;               /* packs were removed: rescan at maintenance */
	pthread_mutex_t cache_lock;    /* guards the block cache */
	struct lmd_cached_block cache[LMD_BLOCK_CACHE];
	unsigned cache_next;
	lmd_zctx *cache_z;
	struct lmd_session *session;   /* set while a packer is open */
	struct lmd_bad_pack *bad;
	uint32_t nbad;
};

int lmd__store_add_pack(lmd_store *s, const lmd_oid *pid);

/* midx.c */
int lmd__midx_map(const char *path, const lmd_oid *name, struct lmd_midx *ret);
void lmd__midx_unmap(struct lmd_midx *m);
int lmd__midx_verify(const struct lmd_midx *m);
uint32_t lmd__midx_ordinal(const uint8_t *entry);
const uint8_t *lmd__midx_pack(const struct lmd_midx *m, uint32_t i);   /* id, then le64 size */
int lmd__midx_scan(const char *packdir, struct lmd_midx_scan *sc);
void lmd__midx_scan_release(struct lmd_midx_scan *sc);

bool lmd__session_has(lmd_store *s, const lmd_oid *id, int type);

#endif
