/*
 * SHA-256 (OpenSSL EVP) and object id helpers.  The digest is fetched once
 * per process; each thread keeps one context for the one-shot helper.
 */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "util.h"

struct lmd_sha256 {
	EVP_MD_CTX *ctx;
};

static const EVP_MD *md_sha256;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void fetch_md(void)
{
	/* An explicitly fetched digest skips the per-call provider lookup. */
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!md_sha256)
		md_sha256 = EVP_sha256();
}

static const EVP_MD *sha256_md(void)
{
	pthread_once(&md_once, fetch_md);
	return md_sha256;
}

int lmd_sha256_new(lmd_sha256 **ret)
{
	lmd_sha256 *h = lmd_calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx) {
		free(h);
		return lmd_error_set(-ENOMEM, "out of memory (digest context)");
	}
	*ret = h;
	return 0;
}

void lmd_sha256_free(lmd_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

int lmd_sha256_init(lmd_sha256 *h)
{
	if (EVP_DigestInit_ex(h->ctx, sha256_md(), NULL) != 1)
		return lmd_error_set(-EIO, "sha256 init failed");
	return 0;
}

int lmd_sha256_update(lmd_sha256 *h, const void *data, size_t n)
{
	if (n && EVP_DigestUpdate(h->ctx, data, n) != 1)
		return lmd_error_set(-EIO, "sha256 update failed");
	return 0;
}

int lmd_sha256_final(lmd_sha256 *h, lmd_oid *ret)
{
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(h->ctx, ret->id, &len) != 1 || len != LMD_OID_RAWSZ)
		return lmd_error_set(-EIO, "sha256 final failed");
	return 0;
}

/* One context per thread for the one-shot helper, freed when the thread
 * exits (a key destructor) or, for the main thread, at exit. */
static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static _Thread_local lmd_sha256 *tls_ctx;

static void tls_destroy(void *p)
{
	lmd_sha256_free(p);
}

static void free_main_ctx(void)
{
	lmd_sha256 *h = pthread_getspecific(tls_key);
	pthread_setspecific(tls_key, NULL);
	lmd_sha256_free(h);
	tls_ctx = NULL;
}

static void tls_init(void)
{
	pthread_key_create(&tls_key, tls_destroy);
	atexit(free_main_ctx);
}

int lmd_sha256_buf(const void *data, size_t n, lmd_oid *ret)
{
	int r;
	if (!tls_ctx) {
		pthread_once(&tls_once, tls_init);
		if ((r = lmd_sha256_new(&tls_ctx)) < 0)
			return r;
		pthread_setspecific(tls_key, tls_ctx);
	}
	if ((r = lmd_sha256_init(tls_ctx)) < 0 ||
	    (r = lmd_sha256_update(tls_ctx, data, n)) < 0)
		return r;
	return lmd_sha256_final(tls_ctx, ret);
}

static const char hexdig[] = "0123456789abcdef";

void lmd_oid_fmt(char out[LMD_OID_HEXSZ + 1], const lmd_oid *oid)
{
	for (int i = 0; i < LMD_OID_RAWSZ; i++) {
		out[2 * i] = hexdig[oid->id[i] >> 4];
		out[2 * i + 1] = hexdig[oid->id[i] & 15];
	}
	out[LMD_OID_HEXSZ] = 0;
}

/* Hex digit values plus one; 0 marks a non-hex character. */
static const signed char hexval[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

int lmd_oid_parse(lmd_oid *ret_oid, const char *hex, size_t len)
{
	lmd_oid o;
	if (len != LMD_OID_HEXSZ)
		return -EINVAL;
	/* The table holds value + 1 so that 0 means "not hex". */
	for (int i = 0; i < LMD_OID_RAWSZ; i++) {
		int a = hexval[(unsigned char)hex[2 * i]] - 1, b = hexval[(unsigned char)hex[2 * i + 1]] - 1;
		if (a < 0 || b < 0)
			return -EINVAL;
		o.id[i] = (uint8_t)(a << 4 | b);
	}
	*ret_oid = o;
	return 0;
}

int lmd_oid_cmp(const lmd_oid *a, const lmd_oid *b)
{
	return memcmp(a->id, b->id, LMD_OID_RAWSZ);
}

bool lmd_oid_is_zero(const lmd_oid *oid)
{
	for (int i = 0; i < LMD_OID_RAWSZ; i++)
		if (oid->id[i])
			return false;
	return true;
}
