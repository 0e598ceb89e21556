/*
 * The HTTP client of the remote layer, a thin shell over libcurl's multi
 * interface (http.c is the only file that includes <curl/curl.h>; curl's
 * errors are translated there into LMD_HTTP_E* kinds).  A lmd_http runs up
 * to `max_parallel` requests at once from the calling thread, reusing
 * connections between them; one request is one attempt: retries, signing
 * and S3 semantics are the caller's (s3.c).
 *
 * Response bodies stream: a 2xx body goes to req->on_body as it arrives;
 * the start of any other body (capped at sizeof(errbody)) is kept in the
 * response for the caller to parse the error XML.  Request bodies stream
 * from a file descriptor (pread, so a retry re-reads from the start) or
 * come from memory.
 */
#ifndef LMD_REMOTE_HTTP_H
#define LMD_REMOTE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lmd_http lmd_http;

typedef int (*lmd_http_body_cb)(const void *data, size_t len, void *payload);

typedef struct lmd_http_opts {
	unsigned connect_timeout_ms;
	unsigned stall_timeout_s;  /* abort after this long below 1 byte/s */
	size_t buffer_size;        /* curl receive buffer */
	bool insecure;             /* no TLS peer/host verification */
} lmd_http_opts;

typedef struct lmd_http_req {
	const char *method;            /* GET, HEAD, PUT, POST, DELETE */
	const char *url;               /* already encoded */
	const char *const *headers;    /* "Name: value" lines */
	size_t nheaders;
	bool has_body;
	int body_fd;                   /* >= 0: body is body_len bytes at body_off */
	uint64_t body_off, body_len;
	const void *body_mem;          /* body_fd < 0: body_len bytes here */
	lmd_http_body_cb on_body;      /* 2xx response body; may be NULL (discarded) */
	void *payload;
} lmd_http_req;

enum {
	LMD_HTTP_OK = 0,
	LMD_HTTP_ECONNECT,   /* could not connect / resolve */
	LMD_HTTP_ETIMEOUT,   /* stalled past the timeout */
	LMD_HTTP_ETRANSFER,  /* connection broke mid-request, short body */
	LMD_HTTP_EABORT,     /* on_body returned < 0 (see cb_error) */
	LMD_HTTP_ETLS,       /* certificate or handshake failure */
	LMD_HTTP_EOTHER,
};

typedef struct lmd_http_resp {
	long status;               /* 0 if no response */
	int error;                 /* LMD_HTTP_* */
	int cb_error;              /* on_body's error when error == LMD_HTTP_EABORT */
	char errmsg[256];          /* curl's text for a transport error */
	bool has_length;
	uint64_t content_length;   /* capped at LMD_REMOTE_MAX_OBJECT */
	char etag[128];
	char content_range[128];
	uint64_t body_bytes;       /* 2xx body bytes handed to on_body */
	char errbody[8192];        /* start of a non-2xx body, NUL-terminated */
	size_t errbody_len;
} lmd_http_resp;

int lmd_http_new(const lmd_http_opts *o, unsigned max_parallel, lmd_http **ret);
void lmd_http_free(lmd_http *h);
/* Number of requests started and not yet returned by lmd_http_wait(). */
unsigned lmd_http_active(const lmd_http *h);
/*
 * Start a request; req and resp must stay valid until lmd_http_wait()
 * returns its `user`.  -EBUSY if max_parallel requests are running.
 */
int lmd_http_start(lmd_http *h, const lmd_http_req *req, lmd_http_resp *resp, void *user);
/*
 * Drive the transfers up to timeout_ms; returns 1 with the `user` of a
 * finished request (its resp filled in), 0 if none finished in time.
 */
int lmd_http_wait(lmd_http *h, long timeout_ms, void **ret_user);

#endif
