/*
 * Pack index helpers shared by the local store (mmap'd indexes) and the
 * remote index cache (downloaded ones): layout validation and lookup.
 * Format in pack.h.
 */
#include <string.h>

#include "hash.h"
#include "pack.h"

bool lmd_idx_fanout_ok(const uint8_t *fan, uint32_t count)
{
	uint32_t prev = 0;
	for (int i = 0; i < 256; i++) {
		uint32_t v = lmd_get_le32(fan + 4 * i);
		if (v < prev || v > count)
			return false;
		prev = v;
	}
	return prev == count;
}

int lmd_idx_validate(const uint8_t *p, size_t n, const lmd_oid *pack_id, bool verify_sum)
{
	uint32_t count;
	lmd_oid sum;

	if (n < LMD_IDX_HDR + LMD_IDX_FANOUT + 32 || memcmp(p, LMD_IDX_MAGIC, 8) != 0)
		return LMD_ECORRUPT;
	count = lmd_get_le32(p + 8);
	if ((uint64_t)n != LMD_IDX_HDR + LMD_IDX_FANOUT + (uint64_t)count * LMD_IDX_ENTRY + 32 ||
	    memcmp(p + 16, pack_id->id, 32) != 0)
		return LMD_ECORRUPT;
	if (!lmd_idx_fanout_ok(p + LMD_IDX_HDR, count))
		return LMD_ECORRUPT;
	if (verify_sum && (lmd_sha256_buf(p, n - 32, &sum) < 0 || memcmp(sum.id, p + n - 32, 32) != 0))
		return LMD_ECORRUPT;
	return 0;
}

const uint8_t *lmd_idx_find(const uint8_t *idx, uint32_t count, const lmd_oid *id, int type)
{
	const uint8_t *fan = idx + LMD_IDX_HDR, *ents = fan + LMD_IDX_FANOUT;
	uint8_t b = id->id[0];
	uint32_t lo = b ? lmd_get_le32(fan + 4 * (b - 1)) : 0;
	uint32_t hi = lmd_get_le32(fan + 4 * b);

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (memcmp(ents + (size_t)mid * LMD_IDX_ENTRY, id->id, 32) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* lo is the first entry >= id; entries of equal id are adjacent. */
	for (uint32_t i = lo; i < count; i++) {
		const uint8_t *e = ents + (size_t)i * LMD_IDX_ENTRY;
		if (memcmp(e, id->id, 32) != 0)
			break;
		if (!type || e[52] == type)
			return e;
	}
	return NULL;
}
