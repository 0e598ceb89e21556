/*
 * The block codec (format in pack.h): encode a group of objects into one
 * block, compressed as a single zstd frame when that pays, and decode a
 * block read from a pack or a remote, validating every field against the
 * caps before trusting it.
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"

void lmd_block_release(lmd_block *b)
{
	free(b->entries);
	free(b->raw);
	memset(b, 0, sizeof(*b));
}

int lmd_block_encode(const lmd_blk_entry *entries, uint32_t count, const uint8_t *raw,
		     uint32_t raw_len, lmd_zctx *z, lmd_buf *out)
{
	size_t hdr = LMD_BLOCK_HDR + (size_t)count * LMD_BLOCK_ENTRY;
	size_t bound = lmd_compress_bound(raw_len);
	long clen = 0;
	uint8_t *p;
	int r;

	if (count > LMD_BLOCK_MAX_COUNT || raw_len > LMD_MAX_BLOB_RAW)
		return lmd_error_set(LMD_ETOOBIG, "block too large (%u objects, %u bytes)", count, raw_len);
	lmd_buf_clear(out);
	if ((r = lmd_buf_grow(out, hdr + LMD_MAX(bound, (size_t)raw_len))) < 0)
		return r;
	p = out->ptr;
	if (z) {
		clen = lmd_compress(z, raw, raw_len, p + hdr, bound);
		if (clen < 0)
			return (int)clen;
	}
	if (clen == 0 && raw_len)
		memcpy(p + hdr, raw, raw_len);
	memcpy(p, LMD_BLOCK_MAGIC, 4);
	lmd_put_le32(p + 4, clen ? LMD_BLOCK_COMPRESSED : 0);
	lmd_put_le32(p + 8, count);
	lmd_put_le32(p + 12, raw_len);
	lmd_put_le32(p + 16, clen ? (uint32_t)clen : raw_len);
	lmd_put_le32(p + 20, 0);
	{
		uint64_t sum = 0;
		for (uint32_t i = 0; i < count; i++) {
			uint8_t *e = p + LMD_BLOCK_HDR + (size_t)i * LMD_BLOCK_ENTRY;
			memcpy(e, entries[i].id.id, 32);
			lmd_put_le32(e + 32, entries[i].len);
			e[36] = entries[i].type;
			e[37] = e[38] = e[39] = 0;
			sum += entries[i].len;
		}
		if (sum != raw_len)
			return lmd_error_set(-EINVAL, "block entries do not add up to its length");
	}
	out->len = hdr + (clen ? (size_t)clen : raw_len);
	return 0;
}

int lmd_block_decode(const uint8_t *buf, size_t len, lmd_zctx *z, lmd_block *ret)
{
	lmd_block b = { 0 };
	uint64_t hdr, sum = 0;
	int r;

	if (len < LMD_BLOCK_HDR || memcmp(buf, LMD_BLOCK_MAGIC, 4) != 0)
		return lmd_error_set(LMD_ECORRUPT, "bad block header");
	b.flags = lmd_get_le32(buf + 4);
	b.count = lmd_get_le32(buf + 8);
	b.raw_len = lmd_get_le32(buf + 12);
	b.stored_len = lmd_get_le32(buf + 16);
	if ((b.flags & ~LMD_BLOCK_COMPRESSED) || b.count > LMD_BLOCK_MAX_COUNT ||
	    b.raw_len > LMD_MAX_BLOB_RAW || b.stored_len > LMD_MAX_BLOB_RAW + 65536u)
		return lmd_error_set(LMD_ECORRUPT, "bad block header (sizes over limits)");
	hdr = LMD_BLOCK_HDR + (uint64_t)b.count * LMD_BLOCK_ENTRY;
	if (hdr + b.stored_len != len)
		return lmd_error_set(LMD_ECORRUPT, "bad block header (length mismatch)");
	if (!(b.flags & LMD_BLOCK_COMPRESSED) && b.stored_len != b.raw_len)
		return lmd_error_set(LMD_ECORRUPT, "bad block header (raw length mismatch)");
	b.entries = lmd_calloc(b.count ? b.count : 1, sizeof(*b.entries));
	b.raw = lmd_malloc(b.raw_len ? b.raw_len : 1);
	if (!b.entries || !b.raw) {
		lmd_block_release(&b);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < b.count; i++) {
		const uint8_t *e = buf + LMD_BLOCK_HDR + (size_t)i * LMD_BLOCK_ENTRY;
		memcpy(b.entries[i].id.id, e, 32);
		b.entries[i].len = lmd_get_le32(e + 32);
		b.entries[i].type = e[36];
		sum += b.entries[i].len;
	}
	if (sum != b.raw_len) {
		lmd_block_release(&b);
		return lmd_error_set(LMD_ECORRUPT, "bad block header (entries do not add up)");
	}
	if (b.flags & LMD_BLOCK_COMPRESSED) {
		r = lmd_decompress(z, buf + hdr, b.stored_len, b.raw, b.raw_len);
		if (r < 0) {
			lmd_block_release(&b);
			return r;
		}
	} else if (b.raw_len) {
		memcpy(b.raw, buf + hdr, b.raw_len);
	}
	*ret = b;
	return 0;
}
