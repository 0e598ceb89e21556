/*
 * SHA-256 through OpenSSL's EVP interface.  Only hash.c includes OpenSSL
 * for hashing; everything else uses these wrappers.  A context is reused
 * across many digests (EVP_MD_CTX allocation is the costly part for small
 * inputs) and belongs to one thread.
 */
#ifndef LMD_HASH_H
#define LMD_HASH_H

#include <stddef.h>
#include "lmdata/common.h"

typedef struct lmd_sha256 lmd_sha256;

int lmd_sha256_new(lmd_sha256 **ret);
void lmd_sha256_free(lmd_sha256 *h);
int lmd_sha256_init(lmd_sha256 *h);
int lmd_sha256_update(lmd_sha256 *h, const void *data, size_t n);
int lmd_sha256_final(lmd_sha256 *h, lmd_oid *ret);
/* One-shot digest with a thread-local context. */
int lmd_sha256_buf(const void *data, size_t n, lmd_oid *ret);

#endif
