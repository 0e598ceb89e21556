/*
 * Private parts of remote syncing shared by sync_remote.c (configured
 * remotes), sync_ridx.c (the cached copy of a remote's pack indexes),
 * sync_need.c (what datasets need) and sync_push.c / sync_fetch.c /
 * sync_status.c.
 */
#ifndef LMD_SYNC_INT_H
#define LMD_SYNC_INT_H

#include "lmdata/remote.h"
#include "lmdata/sync.h"
#include "oidset.h"
#include "repo_int.h"

/* ---- configured remotes (sync_remote.c) ---- */

/*
 * Open the backend of remote `name` (resolved: NULL is the default), with
 * config.local's settings over config's.  jobs 0: the remote's setting.
 * ret_name gets the resolved name (malloc'd).
 */
int lmd__remote_open(lmd_repo *r, const char *name, unsigned jobs, lmd_backend **ret_b, char **ret_name);
/* .lmdata/state/remote-NAME (malloc'd). */
char *lmd__remote_state_dir(lmd_repo *r, const char *name);
/* Its cache of the remote's pack indexes: state/remote-NAME/idx. */
char *lmd__remote_idx_dir(lmd_repo *r, const char *name);

/* ---- a remote's pack indexes (sync_ridx.c) ---- */

typedef struct lmd_ridx_pack {
	lmd_oid id;
	uint8_t *idx;        /* the whole index file: mapped from the cache, or
	                      * malloc'd when the cache cannot keep it */
	size_t idx_len;
	bool mapped;
	uint32_t count;
	uint64_t pack_size;  /* as listed */
	bool damaged;        /* its index failed the checks (during loading only) */
} lmd_ridx_pack;

typedef struct lmd_ridx {
	lmd_ridx_pack *packs;   /* complete packs on the remote (index present) */
	size_t n;
	/* .pack keys seen without an index (interrupted pushes), with sizes */
	lmd_oid *partial;
	uint64_t *partial_size;
	size_t npartial;
	/* packs whose index arrived damaged: moved to the partial ones (their
	 * objects count as absent; gc keeps them; push re-sends the index) */
	lmd_oid *damaged;
	size_t ndamaged;
	uint64_t requests;
	/* Lookups across many packs: once they have cost about as much as
	 * sorting every entry would, one sorted table of all (idspill.h). */
	struct lmd_idspill *merged;
	char *tmpdir;           /* for its runs: the index cache folder */
	uint64_t lookups, entries;
	bool merge_failed;
} lmd_ridx;

/* One listing of packs/: fills the pack ids and sizes, loads no index. */
int lmd__ridx_list(lmd_backend *b, lmd_ridx *ri);
/*
 * Make every listed pack's index available: from the cache folder, else
 * downloaded (in parallel), verified (trailer hash, pack id) and cached.
 * An index that arrives damaged does not stop the caller: its pack moves
 * to the partial ones and is named in ri->damaged.
 */
int lmd__ridx_load(lmd_backend *b, lmd_ridx *ri, const char *cache_dir, unsigned jobs);
bool lmd__ridx_has_pack(const lmd_ridx *ri, const lmd_oid *pack_id);
/*
 * Find an object in the loaded indexes (type 0: any); ret_pack is an index
 * into packs (any pack that holds it).  A search tries each pack in turn
 * until a remote of many packs has had enough lookups to pay for merging
 * their entries into one sorted table; then it is one binary search.
 */
int lmd__ridx_find(lmd_ridx *ri, const lmd_oid *id, int type, size_t *ret_pack, lmd_loc *ret_loc);
/* The same, in one pack only. */
int lmd__ridx_find_in(const lmd_ridx *ri, size_t pack, const lmd_oid *id, int type, lmd_loc *ret_loc);
void lmd__ridx_release(lmd_ridx *ri);
/* Validate an index file's bytes for pack_id (sizes, fanout, trailer). */
int lmd__idx_check(const uint8_t *p, size_t n, const lmd_oid *pack_id);

/* ---- what datasets need (sync_need.c) ---- */

typedef struct lmd_need {
	lmd_oid id;
	uint8_t type;       /* 0 when not in the local store */
	uint32_t len;
	uint32_t lpack;     /* local pack (when type != 0) */
} lmd_need;

/*
 * What datasets need, each object once: trees, file lists and parts (a
 * few per file) are also kept in memory so that what versions share is
 * walked once; the records of all objects, chunks included, go to an
 * external set (idspill.h), so memory does not grow with the corpus.
 */
typedef struct lmd_needs {
	lmd_oidset seen;        /* trees, file lists, parts already walked */
	struct lmd_idspill *objs;
	uint64_t n;             /* distinct objects (after lmd__needs_finish) */
	uint64_t absent;        /* objects found missing locally (repeats counted) */
	uint64_t unreadable;    /* trees/file lists missing locally: not descended */
} lmd_needs;

/* An empty set; its runs, if it spills, go to .lmdata/state (unlinked). */
int lmd__needs_init(lmd_repo *r, lmd_needs *n);
/* Add what the dataset at path (described by m) needs, from the local store. */
int lmd__needs_collect(lmd_store *s, const char *path, const lmd_manifest *m, lmd_needs *n);
/* After the last collect: sets n->n; then get and has may be used. */
int lmd__needs_finish(lmd_needs *n);
/* The i-th object (in order of id), i < n->n. */
void lmd__needs_get(const lmd_needs *n, uint64_t i, lmd_need *ret);
bool lmd__needs_has(const lmd_needs *n, const lmd_oid *id);
void lmd__needs_release(lmd_needs *n);
/* A dataset of a chosen version: where it lives and its manifest. */
typedef struct lmd_sync_root {
	char *path;
	lmd_manifest m;
} lmd_sync_root;

/*
 * The datasets of the versions o chooses (see lmd_sync_opts), limited to
 * o->paths, each distinct manifest id once.
 */
int lmd__sync_roots(lmd_repo *r, const lmd_sync_opts *o, lmd_sync_root **ret, size_t *ret_n);
void lmd__sync_roots_free(lmd_sync_root *v, size_t n);

/* Selected datasets (all when npaths is 0); paths resolved against the top. */
int lmd__selected_datasets(lmd_repo *r, const char *const *paths, size_t npaths, lmd_dataset **ret,
			   size_t *ret_n);

#define LMD_REMOTE_PACK_PREFIX "packs/"

#endif
