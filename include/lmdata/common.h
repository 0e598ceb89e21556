/*
 * lmdata — common types of the public API: object ids, error codes,
 * the thread-local error message, progress events.
 *
 * Conventions (see STYLE.md): functions return int, >= 0 on success and a
 * negative code on failure; the detail is in lmd_error_last(), a message in
 * git's voice that names the thing involved and the next step.  The library
 * never prints and never exits.  Out-parameters are named ret_*, come last,
 * and are left untouched on failure.  *_free() functions accept NULL.
 */
#ifndef LMDATA_COMMON_H
#define LMDATA_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <errno.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LMD_VERSION_STRING "0.1.0"

/*
 * Error codes.  Plain negative errno values (-ENOENT, -EACCES, -ENOSPC, ...)
 * are used where they say it; these add what errno cannot.  The CLI maps
 * them to exit codes: LMD_EUSAGE/LMD_EBADINPUT/LMD_ENOTREPO -> 2,
 * LMD_EDIRTY/LMD_ECORRUPT found by a check -> 1, everything else -> 3.
 */
enum {
	LMD_EUSAGE = -1000,   /* bad command line */
	LMD_EBADINPUT = -1001, /* a path or argument the command refuses */
	LMD_ENOTREPO = -1002, /* not in a git work tree / no .lmdata */
	LMD_ECORRUPT = -1003, /* an object or pack failed verification */
	LMD_EDIRTY = -1004,   /* local changes that would be lost */
	LMD_ECHANGED = -1005, /* a file changed while it was read */
	LMD_EMISSING = -1006, /* an object needed is not in the store */
	LMD_ELOCKED = -1007,  /* another lmdata process holds the lock */
	LMD_EGIT = -1008,     /* libgit2 failed */
	LMD_EMANIFEST = -1009, /* a manifest is malformed or hostile */
	LMD_ETOOBIG = -1010,  /* a size read from disk is over its cap */
	LMD_EREMOTE = -1011,  /* a remote failed */
	LMD_ENOTFOUND = -1012, /* a named thing does not exist (remote, rev) */
};

/* The message of the last error set on this thread ("" if none). */
const char *lmd_error_last(void);
/* The code that came with it (0 if none). */
int lmd_error_code(void);
/* Set the thread's error; returns code so callers can `return lmd_error_set(...)`. */
int lmd_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the current message with "fmt: " (adds context going up). */
int lmd_error_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lmd_error_clear(void);
/* A short text for an errno-style code ("permission denied"). */
const char *lmd_strerror(int code);

/* A SHA-256 object id. */
#define LMD_OID_RAWSZ 32
#define LMD_OID_HEXSZ 64
typedef struct lmd_oid {
	uint8_t id[LMD_OID_RAWSZ];
} lmd_oid;

void lmd_oid_fmt(char out[LMD_OID_HEXSZ + 1], const lmd_oid *oid);
/* Parse exactly 64 lowercase/uppercase hex digits; -EINVAL otherwise. */
int lmd_oid_parse(lmd_oid *ret_oid, const char *hex, size_t len);
int lmd_oid_cmp(const lmd_oid *a, const lmd_oid *b);
bool lmd_oid_is_zero(const lmd_oid *oid);

/* A path quoted for display as git does (thread-local buffer, 4 slots). */
const char *lmd_quote(const char *path);
/* "1.5 MiB" (thread-local buffer, 4 slots). */
const char *lmd_human_size(uint64_t n);

/* Progress events, emitted by long operations; the CLI draws them. */
typedef struct lmd_progress {
	const char *phase;       /* "adding", "checking out", "verifying", ... */
	uint64_t bytes_done, bytes_total;   /* total 0 when unknown */
	uint64_t files_done, files_total;
} lmd_progress;
/* Called with NULL once the operation's progress is over (clear the bar). */
typedef void (*lmd_progress_cb)(const lmd_progress *p, void *payload);

#ifdef __cplusplus
}
#endif
#endif
