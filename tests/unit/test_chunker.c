/*
 * Content-defined chunking invariants (casync/FastCDC style), on data from
 * a deterministic seeded generator: size bounds, reassembly, locality of
 * an edit (boundaries before it unchanged, re-synchronised after it), and
 * validation of the size parameters.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chunker.h"
#include "hash.h"
#include "lmdata/common.h"
#include "testutil.h"

#define MIN 2048u
#define AVG 8192u
#define MAX 65536u

/* Cut the whole buffer; returns the number of chunks, lengths in *ret. */
static size_t chunk_all(const lmd_chunker *c, const uint8_t *data, size_t len, size_t **ret)
{
	size_t n = 0, cap = 64, off = 0;
	size_t *v = malloc(cap * sizeof(*v));
	cr_assert_not_null(v);
	while (off < len) {
		size_t rest = len - off;
		size_t k = lmd_chunker_next(c, data + off, rest);
		cr_assert(k >= 1 && k <= rest, "chunk length %zu out of [1, %zu] at offset %zu", k, rest, off);
		if (n == cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof(*v));
			cr_assert_not_null(v);
		}
		v[n++] = k;
		off += k;
	}
	*ret = v;
	return n;
}

static uint8_t *gen(uint64_t seed, size_t n)
{
	t_rng r = { seed };
	uint8_t *p = malloc(n);
	cr_assert_not_null(p);
	t_fill(&r, p, n);
	return p;
}

static void check_bounds(const lmd_chunker *c, const size_t *v, size_t n, size_t len)
{
	size_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		cr_assert_leq(v[i], c->max, "chunk %zu of %zu is %zu bytes, over max %u", i, n, v[i], c->max);
		if (i + 1 < n)
			cr_assert_geq(v[i], c->min, "chunk %zu of %zu is %zu bytes, under min %u", i, n, v[i], c->min);
		else
			cr_assert_geq(v[i], 1);
		sum += v[i];
	}
	cr_assert_eq(sum, len, "chunks add up to %zu bytes, input is %zu", sum, len);
}

Test(chunker, init_accepts_valid_sizes)
{
	lmd_chunker c;
	cr_assert_eq(lmd_chunker_init(&c, MIN, AVG, MAX), 0);
	cr_assert_eq(c.min, MIN);
	cr_assert_eq(c.avg, AVG);
	cr_assert_eq(c.max, MAX);
	cr_assert_eq(lmd_chunker_init(&c, 64, 64, 64), 0);
	cr_assert_eq(lmd_chunker_init(&c, 64, 1u << 24, 1u << 24), 0);
	cr_assert_eq(lmd_chunker_init(&c, 1u << 24, 1u << 24, 1u << 24), 0);
	cr_assert_eq(lmd_chunker_init(&c, 100, 128, 129), 0);
}

Test(chunker, init_rejects_bad_sizes)
{
	static const uint32_t bad[][3] = {
		{ 0, 0, 0 },
		{ 63, 1024, 4096 },               /* min below 64 */
		{ 2048, 1024, 4096 },             /* min > avg */
		{ 1024, 8192, 4096 },             /* avg > max */
		{ 1024, 3000, 8192 },             /* avg not a power of two */
		{ 1024, 6144, 8192 },
		{ 1024, 4096, (16u << 20) + 1 },  /* max over 16 MiB */
		{ 64, 1u << 25, 1u << 25 },
		{ 1024, 0, 8192 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lmd_chunker c;
		memset(&c, 0xa5, sizeof(c));
		lmd_error_clear();
		int r = lmd_chunker_init(&c, bad[i][0], bad[i][1], bad[i][2]);
		cr_assert_eq(r, -EINVAL, "sizes %u/%u/%u: got %d, want -EINVAL", bad[i][0], bad[i][1], bad[i][2], r);
		cr_assert_neq(lmd_error_last()[0], '\0', "no error message for %u/%u/%u", bad[i][0], bad[i][1], bad[i][2]);
	}
}

Test(chunker, chunks_within_bounds_and_reassemble)
{
	static const uint32_t sizes[][3] = {
		{ MIN, AVG, MAX },
		{ 64, 64, 64 },
		{ 64, 256, 1024 },
		{ 512, 4096, 4096 },
		{ 16384, 65536, 262144 },
	};
	size_t len = 3u << 20;
	uint8_t *data = gen(1, len);

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		lmd_chunker c;
		size_t *v, n, off = 0;
		lmd_sha256 *h;
		lmd_oid whole, joined;

		cr_assert_eq(lmd_chunker_init(&c, sizes[s][0], sizes[s][1], sizes[s][2]), 0);
		n = chunk_all(&c, data, len, &v);
		check_bounds(&c, v, n, len);

		/* Reassembling the chunks gives the input back. */
		cr_assert_eq(lmd_sha256_new(&h), 0);
		cr_assert_eq(lmd_sha256_init(h), 0);
		for (size_t i = 0; i < n; i++) {
			cr_assert_eq(lmd_sha256_update(h, data + off, v[i]), 0);
			off += v[i];
		}
		cr_assert_eq(lmd_sha256_final(h, &joined), 0);
		cr_assert_eq(lmd_sha256_buf(data, len, &whole), 0);
		cr_assert_eq(lmd_oid_cmp(&whole, &joined), 0);
		lmd_sha256_free(h);

		/* The mean is near avg: not degenerate (all min or all max). */
		if (c.min < c.avg && c.avg < c.max) {
			size_t mean = len / n;
			cr_assert(mean >= c.avg / 2 && mean <= 2 * c.avg,
				  "mean chunk %zu bytes for min/avg/max %u/%u/%u", mean, c.min, c.avg, c.max);
		}
		free(v);
	}
	free(data);
}

Test(chunker, deterministic_and_streaming_window_independent)
{
	lmd_chunker c;
	size_t len = 1u << 20, *v1, *v2, n1, n2, off = 0;
	uint8_t *data = gen(7, len);

	cr_assert_eq(lmd_chunker_init(&c, MIN, AVG, MAX), 0);
	n1 = chunk_all(&c, data, len, &v1);
	n2 = chunk_all(&c, data, len, &v2);
	cr_assert_eq(n1, n2);
	cr_assert_arr_eq(v1, v2, n1 * sizeof(*v1));

	/* A caller that streams (passes exactly max bytes while not at the
	 * end) gets the same cuts as one that passes everything. */
	for (size_t i = 0; i < n1; i++) {
		size_t rest = len - off;
		size_t win = rest > c.max ? c.max : rest;
		cr_assert_eq(lmd_chunker_next(&c, data + off, win), v1[i], "chunk %zu differs with a max-sized window", i);
		off += v1[i];
	}
	free(v1);
	free(v2);
	free(data);
}

Test(chunker, tiny_and_empty_inputs)
{
	lmd_chunker c;
	uint8_t buf[100] = { 0 };
	cr_assert_eq(lmd_chunker_init(&c, MIN, AVG, MAX), 0);
	cr_assert_eq(lmd_chunker_next(&c, buf, 0), 0);
	cr_assert_eq(lmd_chunker_next(&c, buf, 1), 1);
	cr_assert_eq(lmd_chunker_next(&c, buf, sizeof(buf)), sizeof(buf));
}

Test(chunker, constant_data_stays_in_bounds)
{
	lmd_chunker c;
	size_t len = 1u << 20, *v, n;
	uint8_t *data = malloc(len);
	cr_assert_not_null(data);
	for (int b = 0; b < 256; b += 85) {
		memset(data, b, len);
		cr_assert_eq(lmd_chunker_init(&c, MIN, AVG, MAX), 0);
		n = chunk_all(&c, data, len, &v);
		check_bounds(&c, v, n, len);
		free(v);
	}
	free(data);
}

/*
 * Cut with lmd_cutter the way ingest does: the bytes from the pending
 * chunk's start to what has been "read" so far, refilled in steps of
 * pseudo-random size (or all at once when step is 0) until at least max
 * bytes are there or the input ends.  Every cut must equal
 * lmd_chunker_next's on the same window.
 */
static void cutter_matches(const lmd_chunker *c, const uint8_t *data, size_t len, uint64_t step_seed,
			   const char *what)
{
	lmd_cutter k;
	t_rng r = { step_seed };
	size_t off = 0, avail = 0, n = 0;

	cr_assert_eq(lmd_cutter_init(&k, c), 0);
	/* A cutter is reused across inputs: leave state behind first. */
	if (len > 2 * (size_t)c->max)
		(void)lmd_cutter_next(&k, data + 1, 1, len - 1);
	lmd_cutter_reset(&k);
	while (off < len) {
		while (avail < len && avail - off < c->max) {
			size_t add = step_seed ? 1 + t_rand(&r) % (2 * (size_t)c->max) : len;
			avail = add > len - avail ? len : avail + add;
		}
		size_t want = lmd_chunker_next(c, data + off, avail - off);
		size_t got = lmd_cutter_next(&k, data + off, off, avail - off);
		cr_assert_eq(got, want, "%s, sizes %u/%u/%u: chunk %zu at offset %zu is %zu bytes, want %zu",
			     what, c->min, c->avg, c->max, n, off, got, want);
		off += got;
		n++;
	}
	lmd_cutter_free(&k);
}

Test(chunker, cutter_cuts_like_chunker_next)
{
	static const uint32_t sizes[][3] = {
		{ MIN, AVG, MAX },
		{ 4096, 16384, 65536 },
		{ 64, 64, 64 },
		{ 64, 128, 4096 },
		{ 64, 256, 1024 },
		{ 100, 128, 129 },
		{ 512, 4096, 4096 },
		{ 16384, 65536, 262144 },
		{ 65536, 1u << 20, 4u << 20 },
	};
	size_t len = 5u << 20;
	uint8_t *rnd = gen(11, len);
	uint8_t *text = malloc(len), *per = malloc(len);
	cr_assert(text && per);
	/* Low-entropy, line-structured bytes, and a short period (whose
	 * hashes repeat, so either no position or very many are candidates). */
	for (size_t i = 0; i < len; i++) {
		text[i] = "{\"role\": \"user\", \"content\": \"abcdefgh\"}\n"[(i * 7 + (rnd[i] & 3)) % 41];
		per[i] = (uint8_t)(i % 37 * 11);
	}
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		lmd_chunker c;
		cr_assert_eq(lmd_chunker_init(&c, sizes[s][0], sizes[s][1], sizes[s][2]), 0);
		cutter_matches(&c, rnd, len, 0, "random bytes, one window");
		cutter_matches(&c, rnd, len, 3 + s, "random bytes, refilled");
		cutter_matches(&c, rnd, 3 * (size_t)c.min + 5, 1, "short random input");
		cutter_matches(&c, text, len, 5 + s, "text");
		cutter_matches(&c, per, len, 7 + s, "period 37");
	}
	free(rnd);
	free(text);
	free(per);
}

Test(chunker, cutter_on_every_constant_byte)
{
	/* Some byte values make every position a candidate, others none. */
	size_t len = 300000;
	uint8_t *data = malloc(len);
	lmd_chunker c;
	cr_assert_not_null(data);
	cr_assert_eq(lmd_chunker_init(&c, 64, 128, 4096), 0);
	for (int b = 0; b < 256; b++) {
		memset(data, b, len);
		cutter_matches(&c, data, len, (uint64_t)b + 1, "constant bytes");
	}
	free(data);
}

/* Content hashes of the chunks of data. */
static lmd_oid *chunk_ids(const uint8_t *data, const size_t *v, size_t n)
{
	lmd_oid *ids = calloc(n ? n : 1, sizeof(*ids));
	size_t off = 0;
	cr_assert_not_null(ids);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(lmd_sha256_buf(data + off, v[i], &ids[i]), 0);
		off += v[i];
	}
	return ids;
}

static bool has_id(const lmd_oid *ids, size_t n, const lmd_oid *id)
{
	for (size_t i = 0; i < n; i++)
		if (!lmd_oid_cmp(&ids[i], id))
			return true;
	return false;
}

/*
 * Edit `len` bytes at `at` (insert `ins` new bytes after deleting `del`)
 * and check locality: every cut before the edit is unchanged, the cuts
 * re-synchronise after it (shifted by the size change), and only a few
 * chunks have content the original does not.
 */
static void check_edit(uint64_t seed, size_t len, size_t at, size_t del, size_t ins)
{
	lmd_chunker c;
	uint8_t *a = gen(seed, len);
	size_t blen = len - del + ins;
	uint8_t *b = malloc(blen);
	size_t *va, *vb, na, nb, i, j, oa, ob, prefix = 0, new_chunks = 0;
	lmd_oid *ida, *idb;
	t_rng r = { seed ^ 0xfeed };

	cr_assert_not_null(b);
	memcpy(b, a, at);
	t_fill(&r, b + at, ins);
	memcpy(b + at + ins, a + at + del, len - at - del);

	cr_assert_eq(lmd_chunker_init(&c, MIN, AVG, MAX), 0);
	na = chunk_all(&c, a, len, &va);
	nb = chunk_all(&c, b, blen, &vb);
	check_bounds(&c, vb, nb, blen);

	/* Cuts at or before the edit point are identical. */
	for (i = 0, oa = 0; i < na && oa + va[i] <= at; i++) {
		cr_assert(i < nb, "edited input has fewer chunks before the edit");
		cr_assert_eq(vb[i], va[i], "chunk %zu (ending at %zu, edit at %zu) changed: %zu -> %zu bytes",
			     i, oa + va[i], at, va[i], vb[i]);
		oa += va[i];
		prefix++;
	}
	cr_assert_gt(prefix, 0, "test data too small: no chunk before the edit");

	/* Re-synchronisation: after the edit, cuts of b are the cuts of a
	 * shifted by the size change, from some chunk on. */
	{
		size_t *cuts_a = malloc(na * sizeof(size_t)), *cuts_b = malloc(nb * sizeof(size_t));
		size_t resync = 0, common_after = 0, after_b = 0;
		cr_assert(cuts_a && cuts_b);
		for (i = 0, oa = 0; i < na; i++)
			cuts_a[i] = oa += va[i];
		for (j = 0, ob = 0; j < nb; j++)
			cuts_b[j] = ob += vb[j];
		for (j = 0; j < nb; j++) {
			if (cuts_b[j] <= at + ins)
				continue;
			after_b++;
			for (i = 0; i < na; i++)
				if (cuts_a[i] > at + del && cuts_a[i] - del + ins == cuts_b[j]) {
					if (!resync)
						resync = cuts_b[j];
					common_after++;
					break;
				}
		}
		cr_assert_neq(resync, 0, "cuts never re-synchronised after an edit at %zu", at);
		cr_assert_lt(resync - at, 4 * (size_t)MAX, "re-synchronised only %zu bytes after the edit", resync - at);
		cr_assert_geq(common_after + 3, after_b, "%zu of %zu cuts after the edit are not shared", after_b - common_after,
			      after_b);
		free(cuts_a);
		free(cuts_b);
	}

	/* Content: only a handful of b's chunks are new. */
	ida = chunk_ids(a, va, na);
	idb = chunk_ids(b, vb, nb);
	for (j = 0; j < nb; j++)
		if (!has_id(ida, na, &idb[j]))
			new_chunks++;
	cr_assert_geq(new_chunks, 1, "the edit produced no new chunk");
	cr_assert_leq(new_chunks, 3, "an edit of %zu bytes made %zu of %zu chunks new", ins + del, new_chunks, nb);
	cr_assert_geq(nb - new_chunks, nb * 9 / 10);

	free(ida);
	free(idb);
	free(va);
	free(vb);
	free(a);
	free(b);
}

Test(chunker, insertion_in_the_middle_resynchronises)
{
	size_t len = 2u << 20;
	check_edit(11, len, len / 2, 0, 5);
	check_edit(12, len, len / 2 + 12345, 0, 1);
	check_edit(13, len, len / 3, 0, 64);
}

Test(chunker, deletion_and_overwrite_resynchronise)
{
	size_t len = 2u << 20;
	check_edit(21, len, len / 2, 7, 0);
	check_edit(22, len, len / 2, 100, 100);
}
