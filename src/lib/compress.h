/*
 * zstd compression of pack blocks.  Only compress.c includes <zstd.h>.
 * A context belongs to one thread and is reused across blocks.
 */
#ifndef LMD_COMPRESS_H
#define LMD_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct lmd_zctx lmd_zctx;

int lmd_zctx_new(int level, lmd_zctx **ret);
void lmd_zctx_free(lmd_zctx *z);
/* Worst-case compressed size of n bytes. */
size_t lmd_compress_bound(size_t n);
/*
 * Compress src into dst (dst_cap >= lmd_compress_bound(n)).  Returns the
 * compressed length, or 0 when compression does not pay (the caller then
 * stores the bytes raw), or a negative code.
 */
long lmd_compress(lmd_zctx *z, const void *src, size_t n, void *dst, size_t dst_cap);
/*
 * Decompress exactly raw_len bytes from src into dst; anything else
 * (corrupt frame, wrong length) is LMD_ECORRUPT.
 */
int lmd_decompress(lmd_zctx *z, const void *src, size_t n, void *dst, size_t raw_len);

#endif
