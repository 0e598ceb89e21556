/*
 * AWS Signature Version 4 for S3 (header-based, single chunk): canonical
 * request, string to sign, signing key, Authorization header.  Pure
 * functions over their inputs, so the published AWS examples are unit
 * tests (tests/remote/test_sigv4.c).  sigv4.c is the only file of the
 * remote layer that includes OpenSSL.
 */
#ifndef LMD_REMOTE_SIGV4_H
#define LMD_REMOTE_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "remote/util.h"

#define LMD_SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define LMD_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

/* A name/value pair; for a query parameter, value NULL means "name=". */
typedef struct lmd_sigv4_kv {
	const char *key;
	const char *value;
} lmd_sigv4_kv;

typedef struct lmd_sigv4_req {
	const char *method;          /* "GET", "PUT", ... */
	const char *path;            /* URI-encoded once, as sent: "/bucket/test%24file.text" */
	const lmd_sigv4_kv *query;   /* raw (not encoded) parameters, any order */
	size_t nquery;
	const lmd_sigv4_kv *headers; /* every header to sign, including host and x-amz-* */
	size_t nheaders;
	const char *payload_hash;    /* hex SHA-256 of the body, or LMD_UNSIGNED_PAYLOAD */
	const char *amz_date;        /* "20130524T000000Z" */
	const char *region;
	const char *service;         /* "s3" */
	const char *access_key_id;
	const char *secret_access_key;
} lmd_sigv4_req;

/* RFC 3986 encoding the way SigV4 wants it: unreserved kept, '/' kept unless encode_slash. */
int lmd_sigv4_uri_encode(lmd__rbuf *out, const char *s, bool encode_slash);
/* The canonical query string (encoded, sorted); also what goes on the wire. */
int lmd_sigv4_query_string(lmd__rbuf *out, const lmd_sigv4_kv *q, size_t n);
/* The canonical request and the signed-headers list (either may be NULL). */
int lmd_sigv4_canonical_request(const lmd_sigv4_req *r, lmd__rbuf *ret_creq, lmd__rbuf *ret_signed);
/* The whole Authorization header value. */
int lmd_sigv4_authorization(const lmd_sigv4_req *r, lmd__rbuf *ret_auth);

void lmd_sha256_hex(const void *data, size_t len, char out[65]);
/* "YYYYMMDDTHHMMSSZ" for t (UTC). */
void lmd_sigv4_amz_date(time_t t, char out[17]);

#endif
