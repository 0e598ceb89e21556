/*
 * The log cache (.lmdata/state/log-cache): for each commit `lmdata log`
 * has looked at, what log needs of it, so that a later log reads neither
 * the commit, nor its trees, nor its manifests from git:
 *
 *   its parents, committer time, author (name, email, time, zone) and
 *   subject, and every manifest (*.lmd) that differs from its first
 *   parent's, with the blob ids on both sides and, once known for good,
 *   the sizes, file counts and files added/deleted/modified.
 *
 * Git commits are immutable and named by their content, so a record keyed
 * by commit id never goes stale (the caller bypasses the cache where
 * parents can be rewritten: shallow clones, grafts, replace refs).  One
 * record serves every path selection: log filters the changes as it reads
 * them.
 *
 * It is only a cache.  A missing, short, damaged, oversized or
 * foreign-version file reads as empty; a damaged record reads as absent;
 * nothing here is ever an error for the reader, and a failed save leaves
 * the previous file as it was (temp file + rename).
 */
#ifndef LMD_LOGCACHE_H
#define LMD_LOGCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LMD_LOGCACHE_NAME "log-cache"
/* The file's format; bump it when what a record means changes (how
 * manifests are parsed or files counted), so old records are dropped. */
#define LMD_LOGCACHE_VERSION 1u
#define LMD_LOGCACHE_MAX_ID 32u            /* sha256 repositories */
#define LMD_LOGCACHE_MAX_FILE (64u << 20)   /* larger files are not read */
#define LMD_LOGCACHE_MAX_RECORD (1u << 20)  /* larger commits are not cached */

/* One manifest that changed in a commit. */
typedef struct lmd_logcache_change {
	const char *path;                   /* the dataset: "d/x" for "d/x.lmd" */
	bool has_old, has_new;              /* the manifest exists before / after */
	uint8_t old_id[LMD_LOGCACHE_MAX_ID], new_id[LMD_LOGCACHE_MAX_ID]; /* blob ids (when it exists) */
	bool known;                         /* the figures below are final */
	uint64_t size, files, old_size, old_files;
	int64_t added, deleted, modified;   /* >= 0 when known */
} lmd_logcache_change;

/* One commit.  Strings are NUL-terminated; parents are nparents ids of
 * idlen bytes back to back; changes are sorted by manifest path. */
typedef struct lmd_logcache_commit {
	uint8_t id[LMD_LOGCACHE_MAX_ID];
	int64_t time;                       /* committer time */
	int64_t author_time;
	int tz;                             /* author's zone, minutes east of UTC */
	const char *author, *email, *subject;
	size_t nparents;
	const uint8_t *parents;
	size_t nchanges;
	lmd_logcache_change *changes;
} lmd_logcache_commit;

typedef struct lmd_logcache lmd_logcache;

/*
 * Load the cache at path for a repository whose ids have idlen bytes.
 * Fails only for lack of memory; whatever is wrong with the file gives
 * an empty cache.  max_file caps the file (0: LMD_LOGCACHE_MAX_FILE).
 */
int lmd_logcache_open(const char *path, size_t idlen, size_t max_file, lmd_logcache **ret);
void lmd_logcache_free(lmd_logcache *lc);

/* The record of a commit: its index (>= 0), or -1 when absent or damaged. */
long lmd_logcache_find(lmd_logcache *lc, const uint8_t *id);
/* The committer time of a record found. */
int64_t lmd_logcache_time(const lmd_logcache *lc, long i);
/*
 * Decode a record found.  Strings and parents point into the cache (valid
 * until it is freed); ret->changes points to storage the cache reuses at
 * the next read.
 */
int lmd_logcache_read(lmd_logcache *lc, long i, lmd_logcache_commit *ret);

/*
 * Add or replace a commit's record for the next save (the commit is
 * copied).  A record over LMD_LOGCACHE_MAX_RECORD, or one that would take
 * the file over its cap, is left out: that commit is just not cached.
 */
int lmd_logcache_put(lmd_logcache *lc, const lmd_logcache_commit *c);
/* Records put since open? */
bool lmd_logcache_dirty(const lmd_logcache *lc);
/*
 * Write the loaded records plus those put (a put one wins over a loaded
 * one) to a temp file next to the cache, then rename it over the cache:
 * readers see the old file or the new one, never a mix.  Creates the
 * folder if it is missing.  Nothing put: nothing written.
 */
int lmd_logcache_save(lmd_logcache *lc);

/* The file's check function: the first 8 bytes of the SHA-256 (tests use
 * it to forge files whose checks pass). */
uint64_t lmd_logcache_hash(const void *data, size_t n);

/* Hex id <-> bytes.  Parse returns the length in bytes, or -1. */
int lmd_logcache_id_parse(const char *hex, uint8_t out[LMD_LOGCACHE_MAX_ID]);
void lmd_logcache_id_fmt(const uint8_t *id, size_t idlen, char *hex);

#endif
