/*
 * Content-defined chunking, FastCDC style (gear rolling hash, normalized
 * chunking with a stricter mask before the average size and a looser one
 * after it).  A boundary depends only on the 64 bytes before it, so an
 * insertion or deletion moves the boundaries around it and no others.
 *
 * The chunker is stateless: the caller keeps the bytes of the pending
 * chunk in a buffer and asks for the next cut point.
 */
#ifndef LMD_CHUNKER_H
#define LMD_CHUNKER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define LMD_CHUNK_MIN_LIMIT 64u
#define LMD_CHUNK_MAX_LIMIT (16u << 20)

typedef struct lmd_chunker {
	uint32_t min, avg, max;
	uint64_t mask_s, mask_l;   /* stricter / looser boundary masks */
} lmd_chunker;

/*
 * Set up sizes: 64 <= min <= avg <= max <= 16 MiB, avg a power of two.
 * Returns -EINVAL (with a message) otherwise.
 */
int lmd_chunker_init(lmd_chunker *c, uint32_t min, uint32_t avg, uint32_t max);

/*
 * Length of the next chunk at the start of buf[0..len).  The caller must
 * pass at least c->max bytes unless this is the end of the input (eof):
 * the result is then always in [1, len] (or 0 when len is 0), and at most
 * c->max.  With eof false and len < max the result is undefined.
 */
size_t lmd_chunker_next(const lmd_chunker *c, const uint8_t *buf, size_t len);

#endif
