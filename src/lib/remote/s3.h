/*
 * Internals shared by s3.c (the backend's operations) and s3_xfer.c (the
 * transfer engine).  Every S3 request, single or batched, is an s3_op run
 * by lmd__s3_run(): it signs each attempt afresh, drives up to `jobs`
 * attempts at once through http.c, retries transient failures with
 * exponential backoff and jitter (resuming a GET where its body stopped),
 * and turns S3's error documents into messages that name the remote, the
 * key and the HTTP status.
 */
#ifndef LMD_REMOTE_S3_H
#define LMD_REMOTE_S3_H

#include "remote/backend.h"
#include "remote/http.h"
#include "remote/sigv4.h"
#include "remote/util.h"

typedef struct s3_backend {
	lmd_backend parent;
	char *remote;     /* name for messages */
	char *bucket;
	char *prefix;     /* "" or ending in '/' */
	char *base_url;   /* scheme://host[:port] */
	char *host;       /* Host header value */
	char *path_base;  /* "/bucket" (path style) or "" (virtual host) */
	lmd_remote_creds creds;
	unsigned jobs, max_tries, retry_base_ms, retry_max_ms, list_page;
	uint64_t threshold, part_size;
	lmd_http_opts hopts;
	lmd_http *http;   /* jobs slots, created on first use */
} s3_backend;

typedef struct s3_progress {
	lmd_progress_cb cb;
	void *payload;
	lmd_progress p;
	uint64_t last_report;
} s3_progress;

typedef struct s3_op {
	/* request */
	const char *method;
	const char *verb;            /* "download", "upload", ... for messages */
	const char *key;             /* relative to the remote's prefix; NULL: bucket */
	lmd_sigv4_kv query[4];
	size_t nquery;
	const char *path;            /* upload this file (opened per attempt) ... */
	uint64_t body_off, body_len; /* ... this range of it (whole file: len UINT64_MAX) */
	const void *mem;             /* or this memory, body_len bytes */
	bool has_body;
	const char *content_type;
	/* GET */
	bool ranged;
	uint64_t range_off, range_len;  /* range_len UINT64_MAX: to the end */
	lmd_remote_sink_cb sink;
	void *sink_payload;
	lmd__rbuf *capture;          /* collect a 2xx body (XML), capped by the rbuf */
	bool count_object;           /* progress counts this op as an object */
	/* results */
	int result;
	long status;
	bool has_length;
	uint64_t content_length;
	char etag[128];
	/* engine state */
	int state;
	unsigned tries;
	int64_t due_ms;
	uint64_t delivered;
	char payload_hash[65];
	int fd;
} s3_op;

/* Run the ops, `jobs` at a time; 0 if all succeeded, else the first error. */
int lmd__s3_run(s3_backend *s3, s3_op *ops, size_t n, unsigned jobs, s3_progress *prog);
/* Fill the common fields of an op. */
void lmd__s3_op_init(s3_op *op, const char *method, const char *verb, const char *key);

#endif
