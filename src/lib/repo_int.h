/*
 * The repository handle's insides, shared by the operation files (add.c,
 * status.c, checkout.c, ...).  Paths inside lmdata are relative to the
 * work tree's top ("data/train.jsonl"); `top` is absolute.
 */
#ifndef LMD_REPO_INT_H
#define LMD_REPO_INT_H

#include "chunker.h"
#include "config.h"
#include "git.h"
#include "lmdata/lmdata.h"
#include "store.h"

struct lmd_repo {
	char *top;        /* work tree top, absolute, no trailing slash */
	char *lmdir;      /* top/.lmdata */
	lmd_git *git;
	lmd_config *cfg, *cfg_local;
	lmd_store *store;
	lmd_chunker chunker;
	int level;
	unsigned jobs;
	int lock_fd;
	lmd_progress_cb progress;
	void *progress_payload;
	lmd_progress prog;
	int64_t prog_last;
};

/* Tests only: chunks per part for the stores repositories open (repo.c). */
extern uint32_t lmd__test_part_chunks;
extern uint64_t lmd__test_pack_target;
extern uint32_t lmd__test_block_target;
extern size_t lmd__test_gc_ids;
extern size_t lmd__test_fetch_batch;
/* The store, opened on first use. */
int lmd__repo_store(lmd_repo *r, lmd_store **ret);
/* Take the writer lock (waits a few seconds for another writer). */
int lmd__repo_lock(lmd_repo *r);
void lmd__repo_unlock(lmd_repo *r);
unsigned lmd__repo_jobs(lmd_repo *r);

/*
 * Resolve a user's path (relative to the current directory) to a path
 * relative to the top.  The last component is not followed if it is a
 * link.  "" is the top itself.  LMD_EBADINPUT outside the work tree.
 */
int lmd__resolve(lmd_repo *r, const char *user, char **ret_rel);
/* top + "/" + rel, malloc'd. */
char *lmd__abs(lmd_repo *r, const char *rel);

/* Progress: set the phase/totals, then report increments (rate-limited). */
void lmd__progress_start(lmd_repo *r, const char *phase, uint64_t bytes_total, uint64_t files_total);
void lmd__progress_add(lmd_repo *r, uint64_t bytes, uint64_t files);
void lmd__progress_end(lmd_repo *r);

/* Datasets: every manifest in the git index, and those lmdata wrote that
 * are not (yet, or any more) staged, as (manifest path, data path). */
typedef struct lmd_dataset {
	char *mpath;   /* "data/train.jsonl.lmd" */
	char *path;    /* "data/train.jsonl" */
} lmd_dataset;
int lmd__datasets(lmd_repo *r, lmd_dataset **ret, size_t *ret_n);
void lmd__datasets_free(lmd_dataset *d, size_t n);
/* Record datasets added (and forget removed ones) in the registry. */
int lmd__registry_update(lmd_repo *r, const char *const *add, size_t nadd, const char *const *del, size_t ndel);
/* Does rel (a path) select dataset d: equal, inside it, or containing it? */
bool lmd__path_selects(const char *sel, const char *dataset);
/*
 * The user's paths as a selection relative to the top ("x.lmd" names the
 * data x).  With ds, every path must select one of them (LMD_EBADINPUT
 * naming it otherwise).  *ret_sel gets n malloc'd strings (free with
 * lmd__selection_free); n == 0 selects everything.
 */
int lmd__selection(lmd_repo *r, const char *const *paths, size_t n, const lmd_dataset *ds, size_t nds,
		   char ***ret_sel);
void lmd__selection_free(char **sel, size_t n);
/* Is dataset path selected by sel[0..n) (everything when n == 0)? */
bool lmd__selected(char *const *sel, size_t n, const char *path);
/* Read and parse the manifest at mpath (relative). */
int lmd__manifest_read(lmd_repo *r, const char *mpath, lmd_manifest *ret);

/*
 * Rewrite the packs listed in bad_packs without the objects in bad_objs
 * (nor any other object that fails its hash), then delete the old packs:
 * the store verifies clean afterwards, minus the dropped objects, which a
 * re-add or a fetch can then store again.  (gc.c)
 */
struct lmd_oidset;
int lmd__store_repair(lmd_repo *r, const struct lmd_oidset *bad_packs, const struct lmd_oidset *bad_objs,
		      uint64_t *ret_dropped);

/* Path checks shared by add/rm: is rel .git/.lmdata or inside them? */
bool lmd__path_reserved(const char *rel);

#endif
