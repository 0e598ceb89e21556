/*
 * Tree, file-list and part objects (formats in objects.h): encoding, the
 * content-defined cut of big files' lists into parts, and parsing that
 * treats every byte as hostile (it may come from a damaged pack or
 * another machine).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "objects.h"
#include "pack.h"

bool lmd_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > 4095)
		return false;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == '\0')
			return false;
	return true;
}

int lmd_tree_entry_cmp(const void *a, const void *b)
{
	const lmd_tree_entry *x = a, *y = b;
	return strcmp(x->name, y->name);
}

static char *put_u64(char *p, uint64_t v, unsigned base)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % base);
		v /= base;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

int lmd_tree_encode(const lmd_tree_entry *e, size_t n, lmd_buf *out, lmd_oid *ret_id)
{
	int r;

	/* Hand-formatted: this runs for every folder on every status. */
	lmd_buf_clear(out);
	if ((r = lmd_buf_puts(out, LMD_TREE_MAGIC)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(e[i].name);
		char *p;
		if ((r = lmd_buf_grow(out, 3 * 24 + LMD_OID_HEXSZ + 4 + nl + 1)) < 0)
			return r;
		p = (char *)out->ptr + out->len;
		p = put_u64(p, e[i].mode, 8);
		*p++ = ' ';
		p = put_u64(p, e[i].size, 10);
		*p++ = ' ';
		p = put_u64(p, e[i].files, 10);
		*p++ = ' ';
		lmd_oid_fmt(p, &e[i].id);
		p += LMD_OID_HEXSZ;
		*p++ = ' ';
		memcpy(p, e[i].name, nl + 1); /* with its NUL: the entry terminator */
		p += nl + 1;
		out->len = (size_t)(p - (char *)out->ptr);
	}
	return lmd_sha256_buf(out->ptr, out->len, ret_id);
}

static int parse_u64(const char **pp, const char *end, int base, uint64_t *ret)
{
	const char *p = *pp;
	uint64_t v = 0;
	if (p >= end || *p == ' ')
		return -1;
	if (*p == '0' && p + 1 < end && p[1] != ' ')
		return -1; /* no leading zeros: one listing, one id */
	while (p < end && *p != ' ') {
		int d = *p - '0';
		if (d < 0 || d >= base)
			return -1;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)d;
		p++;
	}
	if (p >= end)
		return -1;
	*pp = p + 1;
	*ret = v;
	return 0;
}

int lmd_tree_parse(lmd_buf *raw, lmd_tree *ret)
{
	lmd_tree t = { 0 };
	const char *p, *end;
	size_t cap = 0;

	t.raw = *raw;
	*raw = (lmd_buf)LMD_BUF_INIT;
	p = (const char *)t.raw.ptr;
	end = p + t.raw.len;
	if (t.raw.len < strlen(LMD_TREE_MAGIC) || memcmp(p, LMD_TREE_MAGIC, strlen(LMD_TREE_MAGIC)) != 0)
		goto bad;
	p += strlen(LMD_TREE_MAGIC);
	while (p < end) {
		lmd_tree_entry e;
		uint64_t mode;
		const char *nul;
		if (parse_u64(&p, end, 8, &mode) < 0 || parse_u64(&p, end, 10, &e.size) < 0 ||
		    parse_u64(&p, end, 10, &e.files) < 0)
			goto bad;
		if (mode != LMD_MODE_FILE && mode != LMD_MODE_EXEC && mode != LMD_MODE_LINK && mode != LMD_MODE_DIR)
			goto bad;
		if (e.size > (1ull << 62) || e.files > (1ull << 40))
			goto bad;
		if (end - p < LMD_OID_HEXSZ + 1 || lmd_oid_parse(&e.id, p, LMD_OID_HEXSZ) < 0 ||
		    p[LMD_OID_HEXSZ] != ' ')
			goto bad;
		p += LMD_OID_HEXSZ + 1;
		nul = memchr(p, '\0', (size_t)(end - p));
		if (!nul || !lmd_name_ok(p, (size_t)(nul - p)))
			goto bad;
		e.mode = (uint32_t)mode;
		e.name = p;
		if (mode != LMD_MODE_DIR && e.files != 1)
			goto bad;
		if (t.n && strcmp(t.entries[t.n - 1].name, e.name) >= 0)
			goto bad; /* unsorted or duplicate */
		if (t.n == cap) {
			cap = cap ? cap * 2 : 16;
			lmd_tree_entry *ne = lmd_reallocarray(t.entries, cap, sizeof(*ne));
			if (!ne) {
				lmd_tree_release(&t);
				return -ENOMEM;
			}
			t.entries = ne;
		}
		t.entries[t.n++] = e;
		p = nul + 1;
	}
	*ret = t;
	return 0;
bad:
	lmd_tree_release(&t);
	return lmd_error_set(LMD_ECORRUPT, "a tree object is malformed");
}

void lmd_tree_release(lmd_tree *t)
{
	free(t->entries);
	lmd_buf_release(&t->raw);
	memset(t, 0, sizeof(*t));
}

const lmd_tree_entry *lmd_tree_find(const lmd_tree *t, const char *name)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->entries[mid].name, name);
		if (c == 0)
			return &t->entries[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * The three list objects (a flat chunk list, a file list of parts, a part)
 * share a header: magic, total size, entry count, a zero word.  Flat lists
 * and parts share their entries too: chunk id and length.
 */
static uint8_t *put_list_header(uint8_t *p, const char *magic, uint64_t size, uint32_t n)
{
	memcpy(p, magic, 8);
	lmd_put_le64(p + 8, size);
	lmd_put_le32(p + 16, n);
	lmd_put_le32(p + 20, 0);
	return p + LMD_FILE_HDR;
}

static uint8_t *put_chunk_refs(uint8_t *p, const lmd_chunk_ref *c, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++, p += LMD_FILE_ENT) {
		memcpy(p, c[i].id.id, 32);
		lmd_put_le32(p + 32, c[i].len);
	}
	return p;
}

/* Read n chunk entries into a new array; NULL with *bad set when a length
 * is zero or the lengths do not add up to size (n < 2^32 lengths under
 * 2^32 each: the sum cannot overflow). */
static lmd_chunk_ref *get_chunk_refs(const uint8_t *e, uint32_t n, uint64_t size, bool *bad)
{
	lmd_chunk_ref *c = lmd_reallocarray(NULL, n ? n : 1, sizeof(*c));
	uint64_t sum = 0;

	*bad = false;
	if (!c)
		return NULL;
	for (uint32_t i = 0; i < n; i++, e += LMD_FILE_ENT) {
		memcpy(c[i].id.id, e, 32);
		c[i].len = lmd_get_le32(e + 32);
		if (c[i].len == 0)
			goto bad;
		sum += c[i].len;
	}
	if (sum == size)
		return c;
bad:
	free(c);
	*bad = true;
	return NULL;
}

int lmd_filelist_encode(uint64_t size, const lmd_chunk_ref *c, uint32_t n, lmd_buf *out)
{
	size_t need = LMD_FILE_HDR + (size_t)n * LMD_FILE_ENT + 32;
	lmd_oid sum;
	uint8_t *p;
	int r;

	lmd_buf_clear(out);
	if ((r = lmd_buf_grow(out, need)) < 0)
		return r;
	p = put_chunk_refs(put_list_header(out->ptr, LMD_FILE_MAGIC, size, n), c, n);
	if ((r = lmd_sha256_buf(out->ptr, need - 32, &sum)) < 0)
		return r;
	memcpy(p, sum.id, 32);
	out->len = need;
	return 0;
}

int lmd_filelist_parse(const uint8_t *p, size_t len, uint64_t *ret_size,
		       lmd_chunk_ref **ret_chunks, uint32_t *ret_n)
{
	uint64_t size;
	uint32_t n;
	lmd_chunk_ref *c;
	bool bad;

	if (len < LMD_FILE_HDR + 32 || memcmp(p, LMD_FILE_MAGIC, 8) != 0)
		goto bad;
	size = lmd_get_le64(p + 8);
	n = lmd_get_le32(p + 16);
	if ((uint64_t)LMD_FILE_HDR + (uint64_t)n * LMD_FILE_ENT + 32 != len)
		goto bad;
	if (!(c = get_chunk_refs(p + LMD_FILE_HDR, n, size, &bad)))
		return bad ? lmd_error_set(LMD_ECORRUPT, "a file list object is malformed") : -ENOMEM;
	*ret_size = size;
	*ret_chunks = c;
	*ret_n = n;
	return 0;
bad:
	return lmd_error_set(LMD_ECORRUPT, "a file list object is malformed");
}

bool lmd_filelist_has_parts(const uint8_t *p, size_t len)
{
	return len >= 8 && memcmp(p, LMD_FILEP_MAGIC, 8) == 0;
}

int lmd_fileparts_encode(uint64_t size, const lmd_part_ref *parts, uint32_t n, lmd_buf *out)
{
	size_t need;
	lmd_oid sum;
	uint8_t *p;
	int r;

	if (n == 0 || n > LMD_FILEP_MAX_PARTS)
		return lmd_error_set(LMD_ETOOBIG, "a file of %u parts is over the limit", n);
	need = LMD_FILE_HDR + (size_t)n * LMD_FILEP_ENT + 32;
	lmd_buf_clear(out);
	if ((r = lmd_buf_grow(out, need)) < 0)
		return r;
	p = put_list_header(out->ptr, LMD_FILEP_MAGIC, size, n);
	for (uint32_t i = 0; i < n; i++, p += LMD_FILEP_ENT) {
		memcpy(p, parts[i].id.id, 32);
		lmd_put_le64(p + 32, parts[i].size);
		lmd_put_le32(p + 40, parts[i].nchunks);
	}
	if ((r = lmd_sha256_buf(out->ptr, need - 32, &sum)) < 0)
		return r;
	memcpy(p, sum.id, 32);
	out->len = need;
	return 0;
}

int lmd_fileparts_parse(const uint8_t *p, size_t len, uint64_t *ret_size, lmd_part_ref **ret_parts,
			uint32_t *ret_n)
{
	uint64_t size, sum = 0;
	uint32_t n;
	lmd_part_ref *v;

	if (len < LMD_FILE_HDR + 32 || memcmp(p, LMD_FILEP_MAGIC, 8) != 0 || lmd_get_le32(p + 20) != 0)
		goto bad;
	size = lmd_get_le64(p + 8);
	n = lmd_get_le32(p + 16);
	if (n == 0 || n > LMD_FILEP_MAX_PARTS || size > LMD_MAX_FILE_SIZE ||
	    (uint64_t)LMD_FILE_HDR + (uint64_t)n * LMD_FILEP_ENT + 32 != len)
		goto bad;
	v = lmd_reallocarray(NULL, n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = p + LMD_FILE_HDR + (size_t)i * LMD_FILEP_ENT;
		memcpy(v[i].id.id, e, 32);
		v[i].size = lmd_get_le64(e + 32);
		v[i].nchunks = lmd_get_le32(e + 40);
		/* Every chunk has 1 to UINT32_MAX bytes. */
		if (v[i].nchunks == 0 || v[i].nchunks > LMD_PART_MAX_ENTRIES || v[i].size < v[i].nchunks ||
		    v[i].size > (uint64_t)v[i].nchunks * UINT32_MAX || v[i].size > size - sum) {
			free(v);
			goto bad;
		}
		sum += v[i].size;
	}
	if (sum != size) {
		free(v);
		goto bad;
	}
	*ret_size = size;
	*ret_parts = v;
	*ret_n = n;
	return 0;
bad:
	return lmd_error_set(LMD_ECORRUPT, "a file list object (of parts) is malformed");
}

int lmd_part_encode(const lmd_chunk_ref *c, uint32_t n, lmd_buf *out, lmd_oid *ret_id, uint64_t *ret_size)
{
	size_t need;
	uint64_t size = 0;
	int r;

	if (n == 0 || n > LMD_PART_MAX_ENTRIES)
		return lmd_error_set(-EINVAL, "a part of %u chunks is outside the limits", n);
	need = LMD_FILE_HDR + (size_t)n * LMD_FILE_ENT;
	lmd_buf_clear(out);
	if ((r = lmd_buf_grow(out, need)) < 0)
		return r;
	for (uint32_t i = 0; i < n; i++)
		size += c[i].len;
	put_chunk_refs(put_list_header(out->ptr, LMD_PART_MAGIC, size, n), c, n);
	out->len = need;
	if ((r = lmd_sha256_buf(out->ptr, need, ret_id)) < 0)
		return r;
	*ret_size = size;
	return 0;
}

int lmd_part_parse(const uint8_t *p, size_t len, const lmd_part_ref *want, lmd_chunk_ref **ret_chunks,
		   uint32_t *ret_n)
{
	uint64_t size;
	uint32_t n;
	lmd_chunk_ref *c;
	bool bad;

	if (len < LMD_FILE_HDR || memcmp(p, LMD_PART_MAGIC, 8) != 0 || lmd_get_le32(p + 20) != 0)
		goto bad;
	size = lmd_get_le64(p + 8);
	n = lmd_get_le32(p + 16);
	if (n == 0 || n > LMD_PART_MAX_ENTRIES || (uint64_t)LMD_FILE_HDR + (uint64_t)n * LMD_FILE_ENT != len)
		goto bad;
	if (want && (want->nchunks != n || want->size != size))
		goto bad;
	if (!(c = get_chunk_refs(p + LMD_FILE_HDR, n, size, &bad)))
		return bad ? lmd_error_set(LMD_ECORRUPT, "a part of a file list is malformed") : -ENOMEM;
	*ret_chunks = c;
	*ret_n = n;
	return 0;
bad:
	return lmd_error_set(LMD_ECORRUPT, "a part of a file list is malformed");
}

uint32_t lmd_part_cut(const lmd_chunk_ref *c, uint32_t n, uint32_t max)
{
	/* A cut after a chunk whose id (uniform: a sha256) is 0 modulo max/2,
	 * once the part has max/4 chunks: parts of about 0.64 x max chunks on
	 * average, never more than max. */
	uint32_t min = max / 4 ? max / 4 : 1, div = max / 2 ? max / 2 : 1;
	if (n > max)
		n = max;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t count = i + 1;
		if (count == max || (count >= min && lmd_get_le64(c[i].id.id) % div == 0))
			return count;
	}
	return 0;
}
