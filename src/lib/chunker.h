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

/*
 * The same cuts as lmd_chunker_next, found faster over a stream.
 *
 * The gear hash at a position depends only on the 64 bytes ending there,
 * not on where the chunk began, so the positions that pass the looser mask
 * ("candidates") can be found ahead of time, four parts of a segment at
 * once (four independent hash chains keep the core busy where one chain
 * waits on each add).  A cut is then the first candidate that the rules of
 * lmd_chunker_next accept.  Candidates are kept for one segment at a time
 * (LMD_CUTTER_SEGMENT bytes): memory is fixed whatever the input.
 * Measured on 512 MiB of chat JSONL: 0.16 s against 0.21-0.26 s for
 * lmd_chunker_next, although it hashes the bytes before `min` too.
 *
 * Usage: lmd_cutter_init once, lmd_cutter_reset before each input, then
 * lmd_cutter_next with `buf` holding the input from offset `off` (the
 * pending chunk's start, which grows by each returned length) for `len`
 * bytes, under the same contract as lmd_chunker_next.
 */
#define LMD_CUTTER_SEGMENT (64u << 10)

typedef struct lmd_cutter {
	const lmd_chunker *c;
	uint64_t scanned;       /* candidates are known up to this input offset */
	uint64_t base;          /* input offset of the current segment */
	uint32_t *cand;         /* offsets from base; top bit: passes the stricter mask too */
	uint32_t ncand, next;
} lmd_cutter;

int lmd_cutter_init(lmd_cutter *k, const lmd_chunker *c);
void lmd_cutter_reset(lmd_cutter *k);
size_t lmd_cutter_next(lmd_cutter *k, const uint8_t *buf, uint64_t off, size_t len);
void lmd_cutter_free(lmd_cutter *k);

#endif
