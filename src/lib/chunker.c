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
#include <stdlib.h>
#include <string.h>

#include "chunker.h"
#include "lmdata/common.h"
#include "util.h"

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

int lmd_cutter_init(lmd_cutter *k, const lmd_chunker *c)
{
	memset(k, 0, sizeof(*k));
	k->c = c;
	k->cand = lmd_malloc(LMD_CUTTER_SEGMENT * sizeof(*k->cand));
	return k->cand ? 0 : -ENOMEM;
}

void lmd_cutter_reset(lmd_cutter *k)
{
	k->scanned = k->base = 0;
	k->ncand = k->next = 0;
}

void lmd_cutter_free(lmd_cutter *k)
{
	free(k->cand);
	k->cand = NULL;
}

#define CAND_STRICT 0x80000000u

/* The hash at the position before `p`, from the 64 bytes ending there. */
static uint64_t warm(const uint8_t *p)
{
	uint64_t h = 0;
	for (int i = -64; i < 0; i++)
		h = (h << 1) + gear[p[i]];
	return h;
}

/*
 * Record the candidates among positions [0, n) of p (p[-64..-1] readable):
 * positions whose hash is at most `lim` pass the looser mask (it is a mask
 * of high bits, so h & mask == 0 exactly when h <= ~mask).
 */
static uint32_t scan(const lmd_chunker *c, const uint8_t *p, uint32_t n, uint32_t *out)
{
	const uint64_t lim = ~c->mask_l, ms = c->mask_s;
	uint32_t q = n / 4, cnt = 0, j = 0;

	if (q >= 64) {
		const uint8_t *p0 = p, *p1 = p + q, *p2 = p + 2 * q, *p3 = p + 3 * q;
		uint64_t h0 = warm(p0), h1 = warm(p1), h2 = warm(p2), h3 = warm(p3);
		/* Lane l's candidates are written from out + l*q: they cannot
		 * overflow their quarter, and compacting them keeps the order. */
		uint32_t n0 = 0, n1 = 0, n2 = 0, n3 = 0;
		uint32_t *o1 = out + q, *o2 = out + 2 * q, *o3 = out + 3 * q;

		for (; j < q; j++) {
			h0 = (h0 << 1) + gear[p0[j]];
			h1 = (h1 << 1) + gear[p1[j]];
			h2 = (h2 << 1) + gear[p2[j]];
			h3 = (h3 << 1) + gear[p3[j]];
			uint64_t m01 = h0 < h1 ? h0 : h1, m23 = h2 < h3 ? h2 : h3;
			if (__builtin_expect((m01 < m23 ? m01 : m23) <= lim, 0)) {
				if (h0 <= lim)
					out[n0++] = j | (h0 & ms ? 0 : CAND_STRICT);
				if (h1 <= lim)
					o1[n1++] = (q + j) | (h1 & ms ? 0 : CAND_STRICT);
				if (h2 <= lim)
					o2[n2++] = (2 * q + j) | (h2 & ms ? 0 : CAND_STRICT);
				if (h3 <= lim)
					o3[n3++] = (3 * q + j) | (h3 & ms ? 0 : CAND_STRICT);
			}
		}
		memmove(out + n0, o1, n1 * sizeof(*out));
		memmove(out + n0 + n1, o2, n2 * sizeof(*out));
		memmove(out + n0 + n1 + n2, o3, n3 * sizeof(*out));
		cnt = n0 + n1 + n2 + n3;
		j = 4 * q;
	}
	if (j < n) {
		uint64_t h = warm(p + j);
		for (; j < n; j++) {
			h = (h << 1) + gear[p[j]];
			if (h <= lim)
				out[cnt++] = j | (h & ms ? 0 : CAND_STRICT);
		}
	}
	return cnt;
}

size_t lmd_cutter_next(lmd_cutter *k, const uint8_t *buf, uint64_t off, size_t len)
{
	const lmd_chunker *c = k->c;
	size_t end, norm;

	if (len <= c->min)
		return len;
	end = len < c->max ? len : c->max;
	norm = c->avg < end ? c->avg : end;
	for (;;) {
		while (k->next < k->ncand) {
			uint32_t v = k->cand[k->next];
			uint64_t p = k->base + (v & ~CAND_STRICT);
			if (p < off + c->min) {
				k->next++;
				continue;
			}
			if (p >= off + end)
				return end;     /* keep it: the next chunk may cut there */
			k->next++;
			if (p >= off + norm || (v & CAND_STRICT))
				return (size_t)(p - off + 1);
		}
		/* Every candidate found so far is used up: scan the next segment,
		 * from where scanning stopped or from the first position this
		 * chunk can cut at, whichever is later.  Its 64 bytes before are
		 * in buf, since that position is at least off + min. */
		uint64_t x = k->scanned > off + c->min ? k->scanned : off + c->min;
		if (x >= off + end)
			return end;
		uint64_t stop = off + len;
		if (stop - x > LMD_CUTTER_SEGMENT)
			stop = x + LMD_CUTTER_SEGMENT;
		k->base = x;
		k->ncand = scan(c, buf + (x - off), (uint32_t)(stop - x), k->cand);
		k->next = 0;
		k->scanned = stop;
	}
}
