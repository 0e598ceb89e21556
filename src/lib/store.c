/*
 * The object store's read side: loading pack indexes (mmap'd, searched
 * with a 256-entry fanout and binary search), reading and decoding blocks,
 * verified object reads through a small block cache, and full pack
 * verification for fsck.  The write side (packer) is in packer.c; the
 * block codec in block.c.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "objects.h"
#include "store_int.h"

static int load_pack(lmd_store *s, const lmd_oid *pid, struct lmd_pack *ret)
{
	char *ipath = lmd_store_pack_path(s, pid, "idx");
	char *ppath = lmd_store_pack_path(s, pid, "pack");
	struct stat st;
	int r = 0, ifd = -1;
	uint8_t *map = MAP_FAILED;
	uint32_t count;

	memset(ret, 0, sizeof(*ret));
	ret->pack_fd = -1;
	if (!ipath || !ppath) {
		r = -ENOMEM;
		goto done;
	}
	ifd = open(ipath, O_RDONLY | O_CLOEXEC);
	if (ifd < 0 || fstat(ifd, &st) < 0) {
		r = lmd_errno_path("cannot open pack index", ipath);
		goto done;
	}
	if ((uint64_t)st.st_size < LMD_IDX_HDR + LMD_IDX_FANOUT + 32) {
		r = lmd_error_set(LMD_ECORRUPT, "pack index '%s' is truncated; run 'lmdata fsck --repair' to rebuild it", ipath);
		goto done;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, ifd, 0);
	if (map == MAP_FAILED) {
		r = lmd_errno_path("cannot map pack index", ipath);
		goto done;
	}
	if (lmd_idx_validate(map, (size_t)st.st_size, pid, false) < 0) {
		r = lmd_error_set(LMD_ECORRUPT, "pack index '%s' is corrupt; run 'lmdata fsck --repair' to rebuild it", ipath);
		goto done;
	}
	count = lmd_get_le32(map + 8);
	ret->pack_fd = open(ppath, O_RDONLY | O_CLOEXEC);
	if (ret->pack_fd < 0 || fstat(ret->pack_fd, &st) < 0) {
		r = lmd_errno_path("cannot open pack", ppath);
		goto done;
	}
	ret->id = *pid;
	ret->idx_map = map;
	ret->idx_size = (size_t)(LMD_IDX_HDR + LMD_IDX_FANOUT + (uint64_t)count * LMD_IDX_ENTRY + 32);
	ret->count = count;
	ret->pack_size = (uint64_t)st.st_size;
	ret->mtime = (uint64_t)st.st_mtime;
	map = MAP_FAILED;
done:
	if (map != MAP_FAILED)
		munmap(map, (size_t)st.st_size);
	if (ifd >= 0)
		close(ifd);
	if (r < 0 && ret->pack_fd >= 0) {
		close(ret->pack_fd);
		ret->pack_fd = -1;
	}
	free(ipath);
	free(ppath);
	return r;
}

static void unload_pack(struct lmd_pack *p)
{
	if (p->idx_map)
		munmap((void *)p->idx_map, p->idx_size);
	if (p->pack_fd >= 0)
		close(p->pack_fd);
	p->idx_map = NULL;
	p->pack_fd = -1;
}

int lmd__store_add_pack(lmd_store *s, const lmd_oid *pid)
{
	struct lmd_pack p;
	int r;

	pthread_rwlock_rdlock(&s->lock);
	for (uint32_t i = 0; i < s->npacks; i++)
		if (!lmd_oid_cmp(&s->packs[i].id, pid)) {
			pthread_rwlock_unlock(&s->lock);
			return 0;
		}
	pthread_rwlock_unlock(&s->lock);
	r = load_pack(s, pid, &p);
	if (r < 0)
		return r;
	pthread_rwlock_wrlock(&s->lock);
	if (s->npacks == s->apacks) {
		uint32_t n = s->apacks ? s->apacks * 2 : 16;
		struct lmd_pack *np = lmd_reallocarray(s->packs, n, sizeof(*np));
		if (!np) {
			pthread_rwlock_unlock(&s->lock);
			unload_pack(&p);
			return -ENOMEM;
		}
		s->packs = np;
		s->apacks = n;
	}
	s->packs[s->npacks++] = p;
	pthread_rwlock_unlock(&s->lock);
	return 0;
}

static int scan_packs(lmd_store *s)
{
	s->nbad = 0;
	DIR *d = opendir(s->packdir);
	struct dirent *de;
	int r = 0;

	if (!d)
		return lmd_errno_path("cannot open folder", s->packdir);
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		lmd_oid pid;
		if (n != LMD_OID_HEXSZ + 4 || strcmp(de->d_name + LMD_OID_HEXSZ, ".idx") != 0)
			continue;
		if (lmd_oid_parse(&pid, de->d_name, LMD_OID_HEXSZ) < 0)
			continue;
		r = lmd__store_add_pack(s, &pid);
		if (r == LMD_ECORRUPT || r == -ENOENT) {
			/* One damaged index must not make every other pack
			 * unreadable: set it aside for fsck to report and repair. */
			struct lmd_bad_pack *nb = lmd_reallocarray(s->bad, s->nbad + 1, sizeof(*nb));
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			s->bad = nb;
			nb[s->nbad].id = pid;
			snprintf(nb[s->nbad].msg, sizeof(nb[s->nbad].msg), "%s", lmd_error_last());
			s->nbad++;
			lmd_error_clear();
			r = 0;
			continue;
		}
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

int lmd_store_open(const char *dir, const lmd_store_opts *opts, lmd_store **ret)
{
	lmd_store_opts defaults = LMD_STORE_OPTS_INIT;
	lmd_store *s = lmd_calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	pthread_rwlock_init(&s->lock, NULL);
	pthread_mutex_init(&s->cache_lock, NULL);
	s->opts = opts ? *opts : defaults;
	if (!s->opts.part_chunks)
		s->opts.part_chunks = LMD_PART_CHUNKS;
	s->opts.part_chunks = LMD_MIN(LMD_MAX(s->opts.part_chunks, LMD_PART_CHUNKS_MIN), LMD_PART_MAX_ENTRIES);
	s->dir = lmd_strdup(dir);
	s->packdir = lmd_path_join(dir, "packs");
	if (!s->dir || !s->packdir) {
		lmd_store_free(s);
		return -ENOMEM;
	}
	if ((r = lmd_mkdir_p(s->packdir, 0755)) < 0 || (r = scan_packs(s)) < 0) {
		lmd_store_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void lmd_store_free(lmd_store *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->npacks; i++)
		unload_pack(&s->packs[i]);
	for (int i = 0; i < LMD_BLOCK_CACHE; i++)
		lmd_block_release(&s->cache[i].blk);
	lmd_zctx_free(s->cache_z);
	free(s->packs);
	free(s->bad);
	free(s->dir);
	free(s->packdir);
	pthread_rwlock_destroy(&s->lock);
	pthread_mutex_destroy(&s->cache_lock);
	free(s);
}

int lmd_store_refresh(lmd_store *s)
{
	return scan_packs(s);
}

const lmd_store_opts *lmd_store_options(lmd_store *s)
{
	return &s->opts;
}

const char *lmd_store_dir(lmd_store *s)
{
	return s->dir;
}

char *lmd_store_pack_path(lmd_store *s, const lmd_oid *pack_id, const char *ext)
{
	char hex[LMD_OID_HEXSZ + 1];
	lmd_oid_fmt(hex, pack_id);
	return lmd_asprintf("%s/%s.%s", s->packdir, hex, ext);
}

static void entry_to_loc(const uint8_t *e, uint32_t pack, lmd_loc *loc)
{
	loc->pack = pack;
	loc->block_off = lmd_get_le64(e + 32);
	loc->block_len = lmd_get_le32(e + 40);
	loc->raw_off = lmd_get_le32(e + 44);
	loc->len = lmd_get_le32(e + 48);
	loc->type = e[52];
}

/* Binary search of one index; returns the entry or NULL. */
static const uint8_t *idx_find(const struct lmd_pack *p, const lmd_oid *id, int type)
{
	return lmd_idx_find(p->idx_map, p->count, id, type);
}

int lmd_store_find(lmd_store *s, const lmd_oid *id, int type, lmd_loc *ret_loc)
{
	int r = LMD_EMISSING;

	pthread_rwlock_rdlock(&s->lock);
	/* Newest packs first: they are the likeliest hits during a write. */
	for (uint32_t i = s->npacks; i-- > 0;) {
		const uint8_t *e = idx_find(&s->packs[i], id, type);
		if (e) {
			if (ret_loc)
				entry_to_loc(e, i, ret_loc);
			r = 0;
			break;
		}
	}
	pthread_rwlock_unlock(&s->lock);
	return r;
}

bool lmd_store_has(lmd_store *s, const lmd_oid *id, int type)
{
	if (lmd_store_find(s, id, type, NULL) == 0)
		return true;
	return lmd__session_has(s, id, type);
}

uint32_t lmd_store_bad_count(lmd_store *s)
{
	return s->nbad;
}

const lmd_oid *lmd_store_bad_pack(lmd_store *s, uint32_t i, const char **ret_msg)
{
	if (i >= s->nbad)
		return NULL;
	if (ret_msg)
		*ret_msg = s->bad[i].msg;
	return &s->bad[i].id;
}

uint32_t lmd_store_pack_count(lmd_store *s)
{
	return s->npacks;
}

const lmd_oid *lmd_store_pack_id(lmd_store *s, uint32_t pack)
{
	return pack < s->npacks ? &s->packs[pack].id : NULL;
}

uint64_t lmd_store_pack_size(lmd_store *s, uint32_t pack)
{
	return pack < s->npacks ? s->packs[pack].pack_size : 0;
}

uint64_t lmd_store_pack_mtime(lmd_store *s, uint32_t pack)
{
	return pack < s->npacks ? s->packs[pack].mtime : 0;
}

static int pack_fd_size(lmd_store *s, uint32_t pack, int *fd, uint64_t *size, lmd_oid *pid)
{
	pthread_rwlock_rdlock(&s->lock);
	if (pack >= s->npacks) {
		pthread_rwlock_unlock(&s->lock);
		return lmd_error_set(-EINVAL, "no pack number %u", pack);
	}
	*fd = s->packs[pack].pack_fd;
	*size = s->packs[pack].pack_size;
	*pid = s->packs[pack].id;
	pthread_rwlock_unlock(&s->lock);
	return 0;
}

int lmd_store_read_block(lmd_store *s, const lmd_loc *loc, lmd_zctx *z, lmd_block *ret)
{
	char hex[LMD_OID_HEXSZ + 1];
	uint8_t *buf;
	uint64_t size = 0;
	lmd_oid pid;
	ssize_t n;
	int fd = -1, r;

	if ((r = pack_fd_size(s, loc->pack, &fd, &size, &pid)) < 0)
		return r;
	lmd_oid_fmt(hex, &pid);
	if (loc->block_len < LMD_BLOCK_HDR || loc->block_off < LMD_PACK_HDR ||
	    loc->block_off > size || loc->block_len > size - loc->block_off ||
	    loc->block_len > LMD_MAX_BLOB_RAW + LMD_BLOCK_HDR + (uint64_t)LMD_BLOCK_MAX_COUNT * LMD_BLOCK_ENTRY)
		return lmd_error_set(LMD_ECORRUPT, "pack %.12s: index points outside the pack; run 'lmdata fsck'", hex);
	buf = lmd_malloc(loc->block_len);
	if (!buf)
		return -ENOMEM;
	n = lmd_pread_full(fd, buf, loc->block_len, (off_t)loc->block_off);
	if (n != (ssize_t)loc->block_len) {
		free(buf);
		if (n < 0)
			return lmd_error_set((int)n, "cannot read pack %.12s: %s", hex, lmd_strerror((int)n));
		return lmd_error_set(LMD_ECORRUPT, "pack %.12s is truncated; run 'lmdata fsck'", hex);
	}
	r = lmd_block_decode(buf, loc->block_len, z, ret);
	free(buf);
	if (r < 0)
		return lmd_error_wrap(r, "pack %.12s at offset %llu", hex, (unsigned long long)loc->block_off);
	return 0;
}

int lmd_block_verify_obj(const lmd_block *b, const lmd_loc *loc, const lmd_oid *id)
{
	char hex[LMD_OID_HEXSZ + 1];
	lmd_oid got;
	int r;

	if (loc->raw_off > b->raw_len || loc->len > b->raw_len - loc->raw_off) {
		lmd_oid_fmt(hex, id);
		return lmd_error_set(LMD_ECORRUPT, "object %.12s lies outside its block", hex);
	}
	if ((r = lmd_sha256_buf(b->raw + loc->raw_off, loc->len, &got)) < 0)
		return r;
	if (lmd_oid_cmp(&got, id) != 0) {
		lmd_oid_fmt(hex, id);
		return lmd_error_set(LMD_ECORRUPT, "object %s is corrupt (its bytes do not match its hash)", hex);
	}
	return 0;
}

/* Verify a FILE object's own trailer: its last 32 bytes are the sha256 of the rest. */
static int verify_file_obj(const uint8_t *p, size_t n, const lmd_oid *id)
{
	char hex[LMD_OID_HEXSZ + 1];
	lmd_oid got;
	int r;

	if (n < 32)
		goto bad;
	if ((r = lmd_sha256_buf(p, n - 32, &got)) < 0)
		return r;
	if (memcmp(got.id, p + n - 32, 32) != 0)
		goto bad;
	return 0;
bad:
	lmd_oid_fmt(hex, id);
	return lmd_error_set(LMD_ECORRUPT, "file list %s is corrupt", hex);
}

int lmd_store_get(lmd_store *s, const lmd_oid *id, int type, lmd_buf *out)
{
	char hex[LMD_OID_HEXSZ + 1];
	lmd_loc loc;
	struct lmd_cached_block *cb = NULL;
	int r;

	if (lmd_store_find(s, id, type, &loc) < 0) {
		lmd_oid_fmt(hex, id);
		return lmd_error_set(LMD_EMISSING, "object %s is not in the store", hex);
	}
	pthread_mutex_lock(&s->cache_lock);
	if (!s->cache_z && (r = lmd_zctx_new(1, &s->cache_z)) < 0)
		goto done;
	for (int i = 0; i < LMD_BLOCK_CACHE; i++)
		if (s->cache[i].valid && s->cache[i].pack == loc.pack && s->cache[i].off == loc.block_off) {
			cb = &s->cache[i];
			break;
		}
	if (!cb) {
		cb = &s->cache[s->cache_next++ % LMD_BLOCK_CACHE];
		lmd_block_release(&cb->blk);
		cb->valid = false;
		if ((r = lmd_store_read_block(s, &loc, s->cache_z, &cb->blk)) < 0)
			goto done;
		cb->valid = true;
		cb->pack = loc.pack;
		cb->off = loc.block_off;
	}
	if (loc.raw_off > cb->blk.raw_len || loc.len > cb->blk.raw_len - loc.raw_off) {
		lmd_oid_fmt(hex, id);
		r = lmd_error_set(LMD_ECORRUPT, "object %s lies outside its block; run 'lmdata fsck'", hex);
		goto done;
	}
	if (loc.type == LMD_OBJ_FILE)
		r = verify_file_obj(cb->blk.raw + loc.raw_off, loc.len, id);
	else
		r = lmd_block_verify_obj(&cb->blk, &loc, id);
	if (r < 0)
		goto done;
	lmd_buf_clear(out);
	r = lmd_buf_put(out, cb->blk.raw + loc.raw_off, loc.len);
done:
	pthread_mutex_unlock(&s->cache_lock);
	return r;
}

int lmd_store_foreach(lmd_store *s, lmd_store_entry_cb cb, void *payload)
{
	/* The pack list only grows while the store is open; entries are read
	 * from the immutable maps. */
	uint32_t n;
	pthread_rwlock_rdlock(&s->lock);
	n = s->npacks;
	pthread_rwlock_unlock(&s->lock);
	for (uint32_t p = 0; p < n; p++) {
		const struct lmd_pack *pk = &s->packs[p];
		const uint8_t *ents = pk->idx_map + LMD_IDX_HDR + LMD_IDX_FANOUT;
		for (uint32_t i = 0; i < pk->count; i++) {
			const uint8_t *e = ents + (size_t)i * LMD_IDX_ENTRY;
			lmd_oid id;
			lmd_loc loc;
			memcpy(id.id, e, 32);
			entry_to_loc(e, p, &loc);
			int r = cb(&id, &loc, payload);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* The type the block itself records for the object at loc (0 if none). */
static int blk_type_of(const lmd_block *b, const lmd_loc *loc, const lmd_oid *id)
{
	uint64_t off = 0;
	for (uint32_t i = 0; i < b->count; i++) {
		if (off == loc->raw_off && b->entries[i].len == loc->len && !lmd_oid_cmp(&b->entries[i].id, id))
			return b->entries[i].type;
		off += b->entries[i].len;
	}
	return 0;
}

static int cmp_ord(const void *a, const void *b)
{
	const struct { uint64_t off; uint32_t raw_off, i; } *x = a, *y = b;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->raw_off < y->raw_off ? -1 : x->raw_off > y->raw_off;
}

int lmd_store_verify_pack(lmd_store *s, uint32_t pack, lmd_zctx *z, lmd_bad_cb bad_cb, void *payload,
			  uint64_t *bytes_done)
{
	enum { BUF = 1 << 20 };
	lmd_sha256 *h = NULL;
	uint8_t *buf = NULL, tr[LMD_PACK_TRAILER];
	uint64_t size = 0, off;
	lmd_oid pid, got;
	int fd, r, bad = 0;

	if ((r = pack_fd_size(s, pack, &fd, &size, &pid)) < 0)
		return r;
	if ((r = lmd_sha256_new(&h)) < 0)
		return r;
	buf = lmd_malloc(BUF);
	if (!buf) {
		r = -ENOMEM;
		goto done;
	}
	/* 1. The pack's own hash: its name. */
	if (size < LMD_PACK_HDR + LMD_PACK_TRAILER) {
		bad_cb(&pid, NULL, "pack is truncated", payload);
		bad++;
		goto blocks;
	}
	lmd_sha256_init(h);
	for (off = 0; off < size - 32;) {
		size_t want = (size_t)LMD_MIN((uint64_t)BUF, size - 32 - off);
		ssize_t n = lmd_pread_full(fd, buf, want, (off_t)off);
		if (n != (ssize_t)want) {
			bad_cb(&pid, NULL, "pack cannot be read", payload);
			bad++;
			goto blocks;
		}
		lmd_sha256_update(h, buf, want);
		off += want;
		if (bytes_done)
			*bytes_done += want;
	}
	lmd_sha256_final(h, &got);
	if (lmd_pread_full(fd, tr, sizeof(tr), (off_t)(size - LMD_PACK_TRAILER)) != (ssize_t)sizeof(tr) ||
	    memcmp(tr, LMD_PACK_END, 8) != 0 || memcmp(tr + 16, got.id, 32) != 0 ||
	    lmd_oid_cmp(&got, &pid) != 0) {
		bad_cb(&pid, NULL, "pack checksum mismatch", payload);
		bad++;
	}
blocks:
	/* 2. Every indexed object, in pack order so each block is read and
	 * decompressed once (the index is sorted by id, not by offset). */
	{
		const struct lmd_pack *pk = &s->packs[pack];
		const uint8_t *ents = pk->idx_map + LMD_IDX_HDR + LMD_IDX_FANOUT;
		struct ord { uint64_t off; uint32_t raw_off, i; } *ord;
		lmd_block blk = { 0 };
		uint64_t cur_off = UINT64_MAX;
		uint32_t cur_len = 0;
		bool cur_ok = false;

		/* The index's own checksum. */
		if (lmd_sha256_buf(pk->idx_map, pk->idx_size - 32, &got) < 0 ||
		    memcmp(got.id, pk->idx_map + pk->idx_size - 32, 32) != 0) {
			bad_cb(&pid, NULL, "pack index checksum mismatch", payload);
			bad++;
		}
		ord = lmd_reallocarray(NULL, pk->count ? pk->count : 1, sizeof(*ord));
		if (!ord) {
			r = -ENOMEM;
			goto done;
		}
		for (uint32_t i = 0; i < pk->count; i++) {
			const uint8_t *e = ents + (size_t)i * LMD_IDX_ENTRY;
			ord[i].off = lmd_get_le64(e + 32);
			ord[i].raw_off = lmd_get_le32(e + 44);
			ord[i].i = i;
		}
		qsort(ord, pk->count, sizeof(*ord), cmp_ord);
		for (uint32_t k = 0; k < pk->count; k++) {
			const uint8_t *e = ents + (size_t)ord[k].i * LMD_IDX_ENTRY;
			lmd_oid id;
			lmd_loc loc;
			memcpy(id.id, e, 32);
			entry_to_loc(e, pack, &loc);
			if (loc.block_off != cur_off || loc.block_len != cur_len) {
				/* Every entry is checked against the block it names,
				 * including its length: a damaged entry must not hide
				 * behind a good neighbour. */
				lmd_block_release(&blk);
				cur_off = loc.block_off;
				cur_len = loc.block_len;
				cur_ok = lmd_store_read_block(s, &loc, z, &blk) == 0;
			}
			if (!cur_ok || loc.type != blk_type_of(&blk, &loc, &id)) {
				bad_cb(&pid, &id, cur_ok ? "index entry does not match its block" : lmd_error_last(),
				       payload);
				bad++;
				continue;
			}
			int vr = loc.type == LMD_OBJ_FILE
				? (loc.raw_off <= blk.raw_len && loc.len <= blk.raw_len - loc.raw_off
				   ? verify_file_obj(blk.raw + loc.raw_off, loc.len, &id)
				   : LMD_ECORRUPT)
				: lmd_block_verify_obj(&blk, &loc, &id);
			if (vr < 0) {
				bad_cb(&pid, &id, "object bytes do not match their hash", payload);
				bad++;
			}
		}
		lmd_block_release(&blk);
		free(ord);
	}
	r = bad ? 1 : 0;
done:
	free(buf);
	lmd_sha256_free(h);
	return r;
}
