/*
 * lmdata — configured remotes and syncing the object store with them.
 *
 * Remotes are named sections of .lmdata/config ([remote "NAME"], committed:
 * url, endpoint, region, profile, jobs, ...) and .lmdata/config.local (not
 * committed: the credentials access_key_id, secret_access_key,
 * session_token, and any machine-specific override).  `core.remote` names
 * the default remote.
 *
 * A remote has the local store's layout: packs/<id>.pack and
 * packs/<id>.idx.  An index on the remote means its pack is complete
 * (push uploads the pack first, then its index).  What the remote holds is
 * learnt from one listing of packs/ plus the remote's index files, cached
 * under .lmdata/state/remote-NAME/idx/ (each fetched once: packs never
 * change), never by asking about single objects.
 *
 * Push uploads whole local packs holding objects the remote lacks.  Fetch
 * reads only the blocks holding missing objects, by byte ranges
 * (neighbouring blocks coalesced into one request), checks every object's
 * sha256 before anything is written, and stores the blocks through a
 * packer; what was sealed before an interruption stays, so a rerun
 * resumes.  Neither prints: the CLI draws the repo's progress events.
 */
#ifndef LMDATA_SYNC_H
#define LMDATA_SYNC_H

#include "lmdata/lmdata.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- configured remotes ---- */

/* Is key a remote setting lmdata knows (url, endpoint, region, ...)? */
bool lmd_remote_key_known(const char *key);
/* Is key a secret that belongs only in config.local? */
bool lmd_remote_key_secret(const char *key);

/*
 * Add remote NAME at URL (s3://bucket/prefix, /abs/path, file:///abs/path;
 * a relative folder is made absolute).  make_default also makes it the
 * default; the first remote added becomes the default anyway.
 * LMD_EBADINPUT for a bad name or url, -EEXIST if it exists.
 */
int lmd_remote_add(lmd_repo *r, const char *name, const char *url, bool make_default);
/* Remove the remote from both config files (and its cached state). */
int lmd_remote_remove(lmd_repo *r, const char *name);
int lmd_remote_rename(lmd_repo *r, const char *old_name, const char *new_name);
int lmd_remote_set_default(lmd_repo *r, const char *name);
/*
 * Set (value NULL: unset) one setting of remote NAME in config, or in
 * config.local when local.  A secret without local is refused
 * (LMD_EBADINPUT, pointing to --local).
 */
int lmd_remote_modify(lmd_repo *r, const char *name, const char *key, const char *value, bool local);

/* One remote as listed: secrets are already masked ("****"). */
typedef struct lmd_remote_entry {
	const char *name;
	const char *url;
	bool is_default;
	size_t nsettings;
	const char *const *keys;     /* every setting but url, in file order */
	const char *const *values;   /* masked when secret */
	const bool *local;           /* from config.local */
} lmd_remote_entry;
typedef void (*lmd_remote_entry_cb)(const lmd_remote_entry *e, void *payload);
/* Visit every configured remote, sorted by name; returns how many. */
int lmd_remote_foreach(lmd_repo *r, lmd_remote_entry_cb cb, void *payload);
/* The remote a command uses: name if given, else the default, else the only one. */
int lmd_remote_resolve_name(lmd_repo *r, const char *name, char **ret_name);

/* ---- syncing ---- */

typedef struct lmd_sync_opts {
	const char *remote;          /* NULL: the default remote */
	const char *const *paths;    /* datasets to sync (NULL/0: all) */
	size_t npaths;
	unsigned jobs;               /* parallel transfers (0: the remote's setting) */
	/*
	 * Which versions: the work tree's manifests when both are empty; else
	 * the manifests of these revisions (anything 'git rev-parse' reads)
	 * and of the commits the scopes reach (LMD_GC_ALL_BRANCHES,
	 * LMD_GC_ALL_TAGS, LMD_GC_ALL_COMMITS of lmdata/history.h; with
	 * LMD_GC_WORKSPACE the work tree's too).
	 */
	const char *const *revs;
	size_t nrevs;
	unsigned scopes;
	int64_t since;               /* with LMD_GC_KEEP_SINCE: commits at or after (seconds) */
} lmd_sync_opts;

typedef struct lmd_sync_stats {
	char remote[72];             /* the remote's name */
	uint64_t objects;            /* objects the selected datasets need */
	uint64_t objects_transferred;/* objects sent (in whole packs) or received */
	uint64_t packs;              /* packs uploaded, or ranges downloaded */
	uint64_t bytes;              /* bytes sent or received */
	uint64_t requests;           /* requests made to the remote */
	uint64_t already;            /* objects that were already there */
} lmd_sync_stats;

/* Upload what the remote lacks for the selected datasets. */
int lmd_push(lmd_repo *r, const lmd_sync_opts *o, lmd_sync_stats *ret_stats);
/* Download (verified) what the local store lacks for the selected datasets. */
int lmd_fetch(lmd_repo *r, const lmd_sync_opts *o, lmd_sync_stats *ret_stats);

/* Where a dataset's objects are, for status -c. */
typedef struct lmd_remote_status_entry {
	const char *dataset;
	uint64_t objects;              /* objects it needs (as far as readable) */
	uint64_t not_pushed, not_pushed_bytes;  /* local only */
	uint64_t missing_local;        /* on the remote only */
	uint64_t missing;              /* nowhere (or under an unreadable tree) */
} lmd_remote_status_entry;
typedef void (*lmd_remote_status_cb)(const lmd_remote_status_entry *e, void *payload);
/* Returns the number of datasets not fully pushed or missing objects (0: in sync). */
int lmd_remote_status(lmd_repo *r, const lmd_sync_opts *o, lmd_remote_status_cb cb, void *payload);

/* ---- fsck --remote ---- */

#define LMD_REMOTE_FSCK_READ_DATA 1u  /* read every pack and check its hash */

/*
 * Check that every object the selected datasets need (as the local store
 * describes them) is on the remote; with READ_DATA, also that every pack
 * on the remote hashes to its name.  Problems go to cb (paths name the
 * dataset); returns their number (0: clean) or < 0.  Stats: packs and
 * bytes read, objects listed, missing and damaged counts.
 */
int lmd_remote_fsck(lmd_repo *r, const lmd_sync_opts *o, unsigned flags, lmd_fsck_cb cb, void *payload,
		    lmd_fsck_stats *ret_stats);

/* ---- gc --remote ---- */

#define LMD_REMOTE_GC_DRY_RUN 1u
#define LMD_REMOTE_GC_GRACE_DEFAULT 3600u   /* seconds a pack must have been seen */

typedef struct lmd_remote_gc_stats {
	char remote[72];
	uint64_t packs, packs_removed;
	uint64_t packs_young;       /* unreferenced, but seen for less than the grace period */
	uint64_t packs_partly;      /* holding some garbage: kept */
	uint64_t packs_incomplete;  /* a .pack without its index: left alone */
	uint64_t bytes_before, bytes_removed;
	uint64_t objects_live, requests;
} lmd_remote_gc_stats;

/*
 * Delete the remote's packs that hold nothing the kept versions need: the
 * work tree's manifests always, plus o's revisions and scopes (as local
 * gc: all branches, tags, commits, since a date), once this clone has seen
 * them on the remote for grace_s seconds.  Refuses (LMD_EMISSING, nothing
 * deleted) if any kept dataset's trees or chunk lists are not in the local
 * store.  Packs partly garbage are kept.
 */
int lmd_remote_gc(lmd_repo *r, const lmd_sync_opts *o, unsigned flags, uint64_t grace_s,
		  lmd_remote_gc_stats *ret_stats);

#ifdef __cplusplus
}
#endif
#endif
