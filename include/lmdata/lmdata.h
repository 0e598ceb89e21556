/*
 * lmdata — the public API of the core library.  The command-line tool in
 * src/cli/ uses only this header (and common.h); so can other programs.
 *
 * A repository is a git work tree with a .lmdata/ folder.  Tracked data
 * ("datasets") are files, folders or links with a manifest PATH.lmd next
 * to them; the data itself lives in the object store under
 * .lmdata/cache/ and is kept out of git by a .gitignore entry.
 *
 * Paths given to these functions are relative to the current directory
 * (or absolute); paths handed back are relative to the work tree's top.
 */
#ifndef LMDATA_LMDATA_H
#define LMDATA_LMDATA_H

#include "lmdata/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lmd_repo lmd_repo;

/* ---- manifests ---- */

#define LMD_MANIFEST_VERSION 1
#define LMD_MANIFEST_SUFFIX ".lmd"

typedef enum lmd_kind {
	LMD_KIND_FILE = 1,
	LMD_KIND_DIR = 2,
	LMD_KIND_LINK = 3,
} lmd_kind;

typedef struct lmd_manifest {
	int version;
	lmd_kind kind;
	char *name;       /* the data's name, next to the manifest (malloc'd) */
	uint64_t size;    /* bytes of the file / folder / link target */
	uint64_t files;   /* files in a folder (1 for a file or link) */
	lmd_oid id;       /* file: sha256 of content; dir: tree id; link: sha256 of target */
	bool executable;  /* file mode 755 */
} lmd_manifest;

/*
 * Parse a manifest's text.  `where` names it in errors.  Rejects unknown
 * versions and keys, conflict markers, absurd sizes and any name that is
 * not a plain name (no '/', "..", absolute paths): LMD_EMANIFEST.
 */
int lmd_manifest_parse(const char *text, size_t len, const char *where, lmd_manifest *ret);
/* The manifest's text (malloc'd, NUL-terminated). */
char *lmd_manifest_format(const lmd_manifest *m);
void lmd_manifest_release(lmd_manifest *m);

/* ---- repositories ---- */

/* Create .lmdata/ in the git work tree containing `dir`.  LMD_ENOTREPO outside one. */
int lmd_repo_init(const char *dir, lmd_repo **ret);
/* Open the repository containing `dir` (NULL: the current directory). */
int lmd_repo_open(const char *dir, lmd_repo **ret);
void lmd_repo_free(lmd_repo *r);
/* The work tree's top folder, without a trailing slash. */
const char *lmd_repo_workdir(const lmd_repo *r);
void lmd_repo_set_progress(lmd_repo *r, lmd_progress_cb cb, void *payload);
/* Worker threads for hashing/compression (0: one per core). */
void lmd_repo_set_jobs(lmd_repo *r, unsigned jobs);

/* ---- add ---- */

typedef struct lmd_add_result {
	const char *path;          /* the data, relative to the top */
	const lmd_manifest *manifest;
	bool changed;              /* manifest written (new or different) */
	uint64_t bytes_read;       /* bytes hashed (unchanged files are not read) */
	uint64_t bytes_stored;     /* new bytes written to packs */
	size_t git_untracked;      /* files git tracked there, now removed from its index */
} lmd_add_result;
typedef void (*lmd_add_cb)(const lmd_add_result *res, void *payload);

/*
 * Snapshot each path into the store, write PATH.lmd, ignore PATH in its
 * folder's .gitignore and stage both in git.  All paths are checked before
 * anything is written; a failure leaves earlier manifests as they were.
 */
int lmd_add(lmd_repo *r, const char *const *paths, size_t n, lmd_add_cb cb, void *payload);

/* ---- status ---- */

typedef enum lmd_status_kind {
	LMD_STATUS_MODIFIED = 1,    /* file bytes differ from the manifest */
	LMD_STATUS_DELETED,         /* data (or a file inside) missing */
	LMD_STATUS_NEW,             /* a file inside a tracked folder the manifest lacks */
	LMD_STATUS_TYPECHANGE,      /* file became folder, link, ... */
	LMD_STATUS_UNCOMMITTED,     /* manifest staged or changed but not committed */
	LMD_STATUS_MANIFEST_ERROR,  /* manifest unreadable, hostile or in conflict */
} lmd_status_kind;

typedef struct lmd_status_entry {
	lmd_status_kind kind;
	const char *path;      /* the file concerned, relative to the top */
	const char *dataset;   /* the tracked data it belongs to */
	const char *detail;    /* for MANIFEST_ERROR: the message; else NULL */
} lmd_status_entry;
typedef void (*lmd_status_cb)(const lmd_status_entry *e, void *payload);

/* Report differences; returns the number reported (0: clean) or < 0. */
int lmd_status(lmd_repo *r, const char *const *paths, size_t n, lmd_status_cb cb, void *payload);

/* ---- checkout ---- */

#define LMD_CHECKOUT_FORCE 1u  /* overwrite local changes even if not stored */

typedef enum lmd_checkout_action {
	LMD_CHECKOUT_RESTORED = 1,  /* written from the store */
	LMD_CHECKOUT_REMOVED,       /* a file the manifest lacks was removed */
	LMD_CHECKOUT_UNCHANGED,
	LMD_CHECKOUT_REFUSED,       /* local change not stored anywhere */
} lmd_checkout_action;
typedef void (*lmd_checkout_cb)(lmd_checkout_action a, const char *path, void *payload);

/*
 * Make the data match the work tree's manifests.  Files are replaced
 * atomically (temp + rename) after every byte is verified.  Without FORCE,
 * a local change that is not in the store is not overwritten: LMD_EDIRTY
 * after reporting every such file as REFUSED (nothing is written then).
 */
int lmd_checkout(lmd_repo *r, const char *const *paths, size_t n, unsigned flags,
		 lmd_checkout_cb cb, void *payload);

/* ---- ls ---- */

typedef struct lmd_ls_entry {
	const char *path;      /* relative to the top */
	const char *dataset;
	uint32_t mode;         /* 100644, 100755, 120000 */
	uint64_t size;
	lmd_oid id;
} lmd_ls_entry;
typedef void (*lmd_ls_cb)(const lmd_ls_entry *e, void *payload);
int lmd_ls(lmd_repo *r, const char *const *paths, size_t n, lmd_ls_cb cb, void *payload);

/* ---- rm ---- */

typedef void (*lmd_rm_cb)(const char *path, void *payload);
/* Stop tracking: remove PATH.lmd and its ignore line, stage both; data is kept. */
int lmd_rm(lmd_repo *r, const char *const *paths, size_t n, lmd_rm_cb cb, void *payload);

/* ---- fsck ---- */

typedef struct lmd_fsck_problem {
	const char *pack;        /* pack id (hex), or NULL */
	const char *object;      /* object id (hex), or NULL */
	const char *what;        /* what is wrong */
	const char *const *paths; /* tracked files that use the object (NULL-terminated) */
} lmd_fsck_problem;
typedef void (*lmd_fsck_cb)(const lmd_fsck_problem *p, void *payload);
typedef struct lmd_fsck_stats {
	uint64_t packs, objects, bytes;
	uint64_t damaged, missing;
	uint64_t dropped;        /* with LMD_FSCK_REPAIR: damaged objects removed */
} lmd_fsck_stats;

/* Drop damaged objects (rewriting their packs) so that re-adding the data
 * from a good copy, or fetching it, stores it again. */
#define LMD_FSCK_REPAIR 1u
/* Returns the number of problems (0: clean) or < 0 when fsck itself failed. */
int lmd_fsck(lmd_repo *r, lmd_fsck_cb cb, void *payload, lmd_fsck_stats *ret_stats);
int lmd_fsck_ext(lmd_repo *r, unsigned flags, lmd_fsck_cb cb, void *payload, lmd_fsck_stats *ret_stats);

/* ---- gc ---- */

#define LMD_GC_DRY_RUN 1u

typedef struct lmd_gc_stats {
	uint64_t objects_kept, objects_removed;
	uint64_t bytes_before, bytes_after;   /* pack bytes on disk */
	uint64_t packs_removed, packs_rewritten;
	uint64_t packs_merged;                /* small packs merged into full ones */
} lmd_gc_stats;
/* Remove objects that no manifest in the work tree references. */
int lmd_gc(lmd_repo *r, unsigned flags, lmd_gc_stats *ret_stats);

#ifdef __cplusplus
}
#endif
#endif
