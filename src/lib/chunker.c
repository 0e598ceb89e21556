/*
 * FastCDC-style chunker (Xia et al., "FastCDC", USENIX ATC'16): a gear
 * table of 256 pseudo-random 64-bit values, hash = (hash << 1) + gear[b],
 * boundary when the masked high bits are zero.  Bytes before `min` are
 * skipped (no boundary can fall there); normalization uses a mask with two
 * more bits below `avg` and two fewer above it, which narrows the size
 * distribution around `avg`.  The gear table is generated from a fixed
 * seed so every build cuts identically: chunk boundaries are part of the
 * store's format.
 */
#include <errno.h>

#include "chunker.h"
#include "lmdata/common.h"

static uint64_t gear[256];

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

__attribute__((constructor)) static void gear_init(void)
{
	uint64_t s = 0x6c6d646174610001ull; /* "lmdata", format 1 */
	for (int i = 0; i < 256; i++)
		gear[i] = splitmix64(&s);
}

/* A mask of `bits` ones in the high part of the word (the hash's high bits
 * depend on the most bytes of the window). */
static uint64_t high_mask(unsigned bits)
{
	if (bits == 0)
		return 0;
	if (bits >= 64)
		return ~0ull;
	return ((1ull << bits) - 1) << (64 - bits);
}

int lmd_chunker_init(lmd_chunker *c, uint32_t min, uint32_t avg, uint32_t max)
{
	unsigned bits = 0;

	if (min < LMD_CHUNK_MIN_LIMIT || min > avg || avg > max || max > LMD_CHUNK_MAX_LIMIT ||
	    (avg & (avg - 1)) != 0)
		return lmd_error_set(-EINVAL,
			"bad chunk sizes min=%u avg=%u max=%u: need 64 <= min <= avg <= max <= 16 MiB "
			"and avg a power of two", min, avg, max);
	while ((1u << bits) < avg)
		bits++;
	c->min = min;
	c->avg = avg;
	c->max = max;
	c->mask_s = high_mask(bits + 2);
	c->mask_l = high_mask(bits >= 2 ? bits - 2 : 0);
	return 0;
}

size_t lmd_chunker_next(const lmd_chunker *c, const uint8_t *buf, size_t len)
{
	uint64_t h = 0;
	size_t i, norm, end;

	if (len <= c->min)
		return len;
	end = len < c->max ? len : c->max;
	norm = c->avg < end ? c->avg : end;
	/* Warm the hash over the 64 bytes before min so the cut after min
	 * depends on a full window. */
	i = c->min >= 64 ? c->min - 64 : 0;
	for (; i < c->min; i++)
		h = (h << 1) + gear[buf[i]];
	for (; i < norm; i++) {
		h = (h << 1) + gear[buf[i]];
		if (!(h & c->mask_s))
			return i + 1;
	}
	for (; i < end; i++) {
		h = (h << 1) + gear[buf[i]];
		if (!(h & c->mask_l))
			return i + 1;
	}
	return end;
}
