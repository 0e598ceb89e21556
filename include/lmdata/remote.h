/*
 * lmdata — remotes: where packs are pushed to and fetched from.
 *
 * A remote is opened from its configuration into an lmd_backend (a local
 * folder, or an S3-compatible bucket); every backend offers the same object
 * operations on keys that are relative paths ("packs/ab/<hex>.pack").  The
 * push/fetch commands sit on top of this; the library never prints.
 *
 * Keys: relative, '/'-separated, no empty, "." or ".." segments, no
 * backslash or control characters, at most 1024 bytes.  Anything else is
 * refused with LMD_EBADINPUT before any I/O.
 *
 * Threads: a backend is used by one thread at a time.  Sinks, list
 * callbacks and progress callbacks are called from the calling thread, never
 * concurrently, even by the *_many functions (S3 drives its parallel
 * transfers from one thread with curl's multi interface).
 */
#ifndef LMDATA_REMOTE_H
#define LMDATA_REMOTE_H

#include "lmdata/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lmd_backend lmd_backend;

typedef enum lmd_addressing {
	LMD_ADDRESSING_AUTO = 0, /* path-style for a custom endpoint or a dotted bucket */
	LMD_ADDRESSING_PATH,     /* https://endpoint/bucket/key */
	LMD_ADDRESSING_VIRTUAL,  /* https://bucket.endpoint/key */
} lmd_addressing;

#define LMD_REMOTE_DEFAULT_JOBS 8
#define LMD_REMOTE_DEFAULT_MAX_TRIES 5
#define LMD_REMOTE_DEFAULT_MULTIPART_THRESHOLD (64ull << 20)
#define LMD_REMOTE_DEFAULT_PART_SIZE (16ull << 20)
#define LMD_REMOTE_MAX_KEY 1024
#define LMD_REMOTE_MAX_OBJECT (5ull << 40) /* S3's own limit: 5 TiB */

/*
 * Everything a remote needs.  Strings are borrowed for the duration of
 * lmd_backend_open() only (the backend copies what it keeps).  Zero/NULL
 * means "default" everywhere, so `lmd_remote_config c = { .url = u };` works.
 */
typedef struct lmd_remote_config {
	const char *name;      /* "origin", for messages; NULL: the url is used */
	const char *url;       /* "s3://bucket/prefix", "/abs/path", "file:///abs/path" */
	const char *endpoint;  /* S3 endpoint URL; default AWS_ENDPOINT_URL, profile, AWS */
	const char *region;    /* default AWS_REGION, AWS_DEFAULT_REGION, profile, us-east-1 */
	const char *profile;   /* ~/.aws profile; default AWS_PROFILE, then "default" */
	lmd_addressing addressing;
	bool insecure;         /* skip TLS verification (explicit only) */
	bool anonymous;        /* send unsigned requests, look up no credentials */
	/* Explicit credentials (lmdata's uncommitted config.local); win over all else. */
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;

	unsigned jobs;                 /* parallel transfers; default 8 */
	unsigned max_tries;            /* per request, first try included; default 5 */
	unsigned retry_base_ms;        /* backoff base; default 250 */
	unsigned retry_max_ms;         /* backoff cap; default 20000 */
	unsigned connect_timeout_ms;   /* default 10000 */
	unsigned stall_timeout_s;      /* a transfer with no progress this long fails; default 30 */
	uint64_t multipart_threshold;  /* files above this go multipart; default 64 MiB */
	uint64_t part_size;            /* multipart part size; default 16 MiB */
	size_t buffer_size;            /* network receive buffer; default 64 KiB */
	unsigned list_page_size;       /* max-keys per ListObjectsV2 page; default server's (1000) */
} lmd_remote_config;

/*
 * Called once per key under the prefix, with the key relative to the
 * remote's root.  Return 0 to go on; any other value stops the listing and
 * is returned by lmd_backend_list().
 */
typedef int (*lmd_remote_list_cb)(const char *key, uint64_t size, void *payload);
/* Receives object bytes in order; return < 0 to abort (returned as is). */
typedef int (*lmd_remote_sink_cb)(const void *data, size_t len, void *payload);

/* Choose and open the backend named by cfg->url.  *ret_backend untouched on failure. */
int lmd_backend_open(const lmd_remote_config *cfg, lmd_backend **ret_backend);
void lmd_backend_free(lmd_backend *b);
/* "local" or "s3". */
const char *lmd_backend_type(const lmd_backend *b);

int lmd_backend_list(lmd_backend *b, const char *prefix, lmd_remote_list_cb cb, void *payload);
/* Size of the object; LMD_ENOTFOUND if there is none. */
int lmd_backend_head(lmd_backend *b, const char *key, uint64_t *ret_size);
/*
 * Stream bytes [offset, offset+length) of the object to sink; length
 * UINT64_MAX means "to the end".  Fails (never truncates silently) if fewer
 * bytes arrive than asked for or announced.  LMD_ENOTFOUND if no object.
 */
int lmd_backend_get(lmd_backend *b, const char *key, uint64_t offset, uint64_t length,
		    lmd_remote_sink_cb sink, void *payload);
/* Upload a local file, streaming it; large files go multipart (S3). Atomic. */
int lmd_backend_put_file(lmd_backend *b, const char *key, const char *path);
/* Upload a small object from memory. Atomic. */
int lmd_backend_put_buf(lmd_backend *b, const char *key, const void *data, size_t len);
/* Remove the object; removing a missing object succeeds. */
int lmd_backend_delete(lmd_backend *b, const char *key);

/* One download of a batch; `result` is set to 0 or the request's error. */
typedef struct lmd_remote_get {
	const char *key;
	uint64_t offset, length;   /* length UINT64_MAX: to the end */
	lmd_remote_sink_cb sink;
	void *payload;
	int result;
} lmd_remote_get;

/* One upload of a batch: from `path` if set, else from data/len. */
typedef struct lmd_remote_put {
	const char *key;
	const char *path;
	const void *data;
	size_t len;
	int result;
} lmd_remote_put;

/*
 * Run the requests, up to `jobs` at a time (0: the remote's jobs setting).
 * Every request is attempted; returns 0 if all succeeded, else the first
 * failure's code with its message in lmd_error_last().  progress (may be
 * NULL) gets bytes and objects done, with phase "downloading"/"uploading".
 */
int lmd_backend_get_many(lmd_backend *b, lmd_remote_get *reqs, size_t n, unsigned jobs,
			 lmd_progress_cb progress, void *progress_payload);
int lmd_backend_put_many(lmd_backend *b, lmd_remote_put *reqs, size_t n, unsigned jobs,
			 lmd_progress_cb progress, void *progress_payload);

/* Validate a key (see above); 0 or LMD_EBADINPUT with a message. */
int lmd_remote_key_check(const char *key);

/*
 * Credentials and settings of an S3 remote after resolution, in order:
 * explicit config → AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN
 * → the profile (cfg->profile, else AWS_PROFILE, else "default") in
 * ~/.aws/credentials and ~/.aws/config (AWS_SHARED_CREDENTIALS_FILE,
 * AWS_CONFIG_FILE honoured).  Two explicit settings short-cut the chain:
 * cfg->anonymous (no credentials looked up, requests unsigned) and
 * cfg->profile (the remote's own profile wins over the environment's keys).
 * No credentials at all is an error that says how to provide them.
 * Endpoint: cfg → AWS_ENDPOINT_URL_S3 → AWS_ENDPOINT_URL → profile endpoint_url.
 * Region: cfg → AWS_REGION → AWS_DEFAULT_REGION → profile region → us-east-1.
 */
typedef struct lmd_remote_creds {
	char *access_key_id;      /* NULL when anonymous */
	char *secret_access_key;
	char *session_token;      /* may be NULL */
	char *endpoint;           /* NULL: the AWS default for the region */
	char *region;             /* never NULL after success */
	const char *source;       /* "config", "environment", "profile <name>", "anonymous" */
	bool anonymous;
} lmd_remote_creds;

int lmd_remote_creds_resolve(const lmd_remote_config *cfg, lmd_remote_creds *ret_creds);
/* Free the strings (secrets are wiped first); accepts a zeroed struct. */
void lmd_remote_creds_clear(lmd_remote_creds *c);
/*
 * A credential made safe to show: "AKIA…MPLE" for an id of 12 or more
 * characters, "****" otherwise; secrets should not be shown at all.
 */
void lmd_remote_mask(const char *s, char *buf, size_t bufsz);

#ifdef __cplusplus
}
#endif
#endif
