/*
 * The write side of the object store.  A packer appends encoded blocks to
 * a temporary pack file, keeps their index entries in memory, and when the
 * pack reaches its target size (or at finish) seals it:
 *
 *   trailer + fsync + rename to <id>.pack, then the sorted index to a temp
 *   file + fsync + rename to <id>.idx, then fsync of the folder.
 *
 * Only then do the objects count as stored.  Until a pack is sealed, its
 * ids live in the store's session set so that dedup sees them; once
 * sealed, they are dropped from it and found through the new index, which
 * keeps memory bounded by one pack's worth of entries.  Small objects
 * (trees, file lists) are grouped into their own blocks, apart from data,
 * so reading a dataset's metadata touches few blocks.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "store_int.h"

struct idx_ent {
	lmd_oid id;
	uint64_t block_off;
	uint32_t block_len, raw_off, len;
	uint8_t type;
};

struct lmd_packer {
	lmd_store *s;
	lmd_zctx *z;
	/* the open pack */
	int fd;
	char *tmp;
	uint64_t off;
	uint64_t kicked;        /* bytes already handed to writeback */
	uint32_t nblocks;
	lmd_sha256 *h;
	struct idx_ent *ents;
	size_t nents, aents;
	/* small objects waiting for a block */
	lmd_buf meta_raw;
	lmd_blk_entry *meta_ents;
	uint32_t meta_n, meta_a;
	lmd_buf enc;
	uint64_t written;
};

/* ---- session set: open addressing on the id's first 8 bytes ---- */

static size_t slot_of(const lmd_oid *id, size_t cap)
{
	uint64_t h;
	memcpy(&h, id->id, 8);
	return (size_t)(h & (cap - 1));
}

static int session_add(struct lmd_session *ss, const lmd_oid *id, uint8_t type)
{
	int r = 0;
	pthread_mutex_lock(&ss->lock);
	if ((ss->n + 1) * 2 > ss->cap) {
		size_t ncap = ss->cap ? ss->cap * 2 : 1024;
		struct lmd_sess_slot *ns = lmd_calloc(ncap, sizeof(*ns));
		if (!ns) {
			r = -ENOMEM;
			goto done;
		}
		for (size_t i = 0; i < ss->cap; i++)
			if (ss->slots[i].used) {
				size_t j = slot_of(&ss->slots[i].id, ncap);
				while (ns[j].used)
					j = (j + 1) & (ncap - 1);
				ns[j] = ss->slots[i];
			}
		free(ss->slots);
		ss->slots = ns;
		ss->cap = ncap;
	}
	{
		size_t j = slot_of(id, ss->cap);
		while (ss->slots[j].used) {
			if (ss->slots[j].type == type && !lmd_oid_cmp(&ss->slots[j].id, id))
				goto done;
			j = (j + 1) & (ss->cap - 1);
		}
		ss->slots[j].id = *id;
		ss->slots[j].type = type;
		ss->slots[j].used = 1;
		ss->n++;
	}
done:
	pthread_mutex_unlock(&ss->lock);
	return r;
}

bool lmd__session_has(lmd_store *s, const lmd_oid *id, int type)
{
	struct lmd_session *ss = s->session;
	bool found = false;

	if (!ss)
		return false;
	pthread_mutex_lock(&ss->lock);
	if (ss->cap) {
		size_t j = slot_of(id, ss->cap);
		while (ss->slots[j].used) {
			if ((!type || ss->slots[j].type == type) && !lmd_oid_cmp(&ss->slots[j].id, id)) {
				found = true;
				break;
			}
			j = (j + 1) & (ss->cap - 1);
		}
	}
	pthread_mutex_unlock(&ss->lock);
	return found;
}

static void session_clear(struct lmd_session *ss)
{
	pthread_mutex_lock(&ss->lock);
	free(ss->slots);
	ss->slots = NULL;
	ss->n = ss->cap = 0;
	pthread_mutex_unlock(&ss->lock);
}

/* ---- packer ---- */

int lmd_packer_new(lmd_store *s, lmd_packer **ret)
{
	lmd_packer *p;
	int r;

	if (s->session)
		return lmd_error_set(-EBUSY, "a packer is already open on this store");
	p = lmd_calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->s = s;
	p->fd = -1;
	if ((r = lmd_zctx_new(s->opts.level, &p->z)) < 0 || (r = lmd_sha256_new(&p->h)) < 0) {
		lmd_packer_free(p);
		return r;
	}
	s->session = lmd_calloc(1, sizeof(*s->session));
	if (!s->session) {
		lmd_packer_free(p);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->session->lock, NULL);
	*ret = p;
	return 0;
}

static int open_pack(lmd_packer *p)
{
	char *base = lmd_path_join(p->s->packdir, "pack");
	int r;

	if (!base)
		return -ENOMEM;
	r = lmd_tmpfile_near(base, 0444, &p->tmp);
	free(base);
	if (r < 0)
		return r;
	p->fd = r;
	p->off = 0;
	p->kicked = 0;
	p->nblocks = 0;
	p->nents = 0;
	lmd_sha256_init(p->h);
	if ((r = lmd_write_all(p->fd, LMD_PACK_MAGIC, 8)) < 0)
		return lmd_error_set(r, "cannot write pack in '%s': %s", p->s->packdir, lmd_strerror(r));
	lmd_sha256_update(p->h, LMD_PACK_MAGIC, 8);
	p->off = 8;
	return 0;
}

static void discard_pack(lmd_packer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	if (p->tmp)
		unlink(p->tmp);
	free(p->tmp);
	p->tmp = NULL;
	p->fd = -1;
}

static int cmp_ent(const void *a, const void *b)
{
	const struct idx_ent *x = a, *y = b;
	int c = lmd_oid_cmp(&x->id, &y->id);
	if (c)
		return c;
	return (int)x->type - (int)y->type;
}

static int write_index(lmd_packer *p, const lmd_oid *pid)
{
	lmd_buf b = LMD_BUF_INIT;
	uint32_t fan[256] = { 0 };
	size_t n = 0;
	char *path = NULL;
	lmd_oid sum;
	int r;

	qsort(p->ents, p->nents, sizeof(*p->ents), cmp_ent);
	/* Drop exact duplicates (same id and type written twice by racing
	 * workers): the first copy wins. */
	for (size_t i = 0; i < p->nents; i++)
		if (n == 0 || cmp_ent(&p->ents[n - 1], &p->ents[i]) != 0)
			p->ents[n++] = p->ents[i];
	p->nents = n;
	for (size_t i = 0; i < n; i++)
		fan[p->ents[i].id.id[0]]++;
	for (int i = 1; i < 256; i++)
		fan[i] += fan[i - 1];
	if ((r = lmd_buf_grow(&b, LMD_IDX_HDR + LMD_IDX_FANOUT + n * LMD_IDX_ENTRY + 32)) < 0)
		goto done;
	memcpy(b.ptr, LMD_IDX_MAGIC, 8);
	lmd_put_le32(b.ptr + 8, (uint32_t)n);
	lmd_put_le32(b.ptr + 12, 0);
	memcpy(b.ptr + 16, pid->id, 32);
	for (int i = 0; i < 256; i++)
		lmd_put_le32(b.ptr + LMD_IDX_HDR + 4 * i, fan[i]);
	b.len = LMD_IDX_HDR + LMD_IDX_FANOUT;
	for (size_t i = 0; i < n; i++) {
		uint8_t *e = b.ptr + b.len;
		memcpy(e, p->ents[i].id.id, 32);
		lmd_put_le64(e + 32, p->ents[i].block_off);
		lmd_put_le32(e + 40, p->ents[i].block_len);
		lmd_put_le32(e + 44, p->ents[i].raw_off);
		lmd_put_le32(e + 48, p->ents[i].len);
		e[52] = p->ents[i].type;
		e[53] = e[54] = e[55] = 0;
		b.len += LMD_IDX_ENTRY;
	}
	if ((r = lmd_sha256_buf(b.ptr, b.len, &sum)) < 0)
		goto done;
	memcpy(b.ptr + b.len, sum.id, 32);
	b.len += 32;
	path = lmd_store_pack_path(p->s, pid, "idx");
	r = path ? lmd_write_file_atomic(path, b.ptr, b.len, 0444) : -ENOMEM;
done:
	free(path);
	lmd_buf_release(&b);
	return r;
}

static int seal_pack(lmd_packer *p)
{
	uint8_t tr[LMD_PACK_TRAILER];
	char *path = NULL;
	lmd_oid pid;
	int r;

	if (p->fd < 0)
		return 0;
	memcpy(tr, LMD_PACK_END, 8);
	lmd_put_le32(tr + 8, p->nblocks);
	lmd_put_le32(tr + 12, 0);
	lmd_sha256_update(p->h, tr, 16);
	lmd_sha256_final(p->h, &pid);
	memcpy(tr + 16, pid.id, 32);
	if ((r = lmd_write_all(p->fd, tr, sizeof(tr))) < 0) {
		lmd_error_set(r, "cannot write pack in '%s': %s", p->s->packdir, lmd_strerror(r));
		goto fail;
	}
	if (fsync(p->fd) < 0 || close(p->fd) < 0) {
		p->fd = -1;
		r = lmd_errno_path("cannot write pack", p->tmp);
		goto fail;
	}
	p->fd = -1;
	path = lmd_store_pack_path(p->s, &pid, "pack");
	if (!path) {
		r = -ENOMEM;
		goto fail;
	}
	if (rename(p->tmp, path) < 0) {
		r = lmd_errno_path("cannot rename pack into place", path);
		goto fail;
	}
	free(p->tmp);
	p->tmp = NULL;
	if ((r = lmd_fsync_dir(p->s->packdir)) < 0 || (r = write_index(p, &pid)) < 0) {
		/* The pack has no index: invisible, removed by the next gc. */
		unlink(path);
		free(path);
		return r;
	}
	free(path);
	p->written += p->off + sizeof(tr);
	r = lmd__store_add_pack(p->s, &pid);
	if (r < 0)
		return r;
	session_clear(p->s->session);
	/* Small objects still waiting for their block stay visible. */
	for (uint32_t i = 0; i < p->meta_n; i++)
		if ((r = session_add(p->s->session, &p->meta_ents[i].id, p->meta_ents[i].type)) < 0)
			return r;
	p->nents = 0;
	/* A long write seals many packs: index them as it goes. */
	lmd__store_layer_now(p->s);
	return 0;
fail:
	free(path);
	discard_pack(p);
	return r;
}

/*
 * Start writeback of the pack every few MiB, without waiting for it, so
 * the fsync at seal time finds little left to write: the pipeline would
 * otherwise stall on it (about 20 ms per 32 MiB pack here).  Advice only:
 * errors are ignored, and the fsync still decides.
 */
static void kick_writeback(lmd_packer *p)
{
#ifdef SYNC_FILE_RANGE_WRITE
	if (p->off - p->kicked >= (4u << 20)) {
		(void)sync_file_range(p->fd, (off64_t)p->kicked, (off64_t)(p->off - p->kicked), SYNC_FILE_RANGE_WRITE);
		p->kicked = p->off;
	}
#else
	(void)p;
#endif
}

int lmd_packer_add_encoded(lmd_packer *p, const uint8_t *blk, size_t len)
{
	uint32_t count, raw_off = 0;
	int r;

	if (len < LMD_BLOCK_HDR)
		return lmd_error_set(-EINVAL, "short block");
	count = lmd_get_le32(blk + 8);
	if (count == 0)
		return 0;
	if (p->fd < 0 && (r = open_pack(p)) < 0)
		return r;
	if ((r = lmd_write_all(p->fd, blk, len)) < 0) {
		lmd_error_set(r, "cannot write pack in '%s': %s", p->s->packdir, lmd_strerror(r));
		discard_pack(p);
		return r;
	}
	lmd_sha256_update(p->h, blk, len);
	if (p->nents + count > p->aents) {
		size_t n = LMD_MAX(p->aents * 2, p->nents + count + 64);
		struct idx_ent *ne = lmd_reallocarray(p->ents, n, sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		p->ents = ne;
		p->aents = n;
	}
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = blk + LMD_BLOCK_HDR + (size_t)i * LMD_BLOCK_ENTRY;
		struct idx_ent *ie = &p->ents[p->nents++];
		memcpy(ie->id.id, e, 32);
		ie->len = lmd_get_le32(e + 32);
		ie->type = e[36];
		ie->block_off = p->off;
		ie->block_len = (uint32_t)len;
		ie->raw_off = raw_off;
		raw_off += ie->len;
		if ((r = session_add(p->s->session, &ie->id, ie->type)) < 0)
			return r;
	}
	p->off += len;
	p->nblocks++;
	kick_writeback(p);
	if (p->off >= p->s->opts.pack_target)
		return seal_pack(p);
	return 0;
}

static int flush_meta(lmd_packer *p)
{
	int r;

	if (!p->meta_n)
		return 0;
	r = lmd_block_encode(p->meta_ents, p->meta_n, p->meta_raw.ptr, (uint32_t)p->meta_raw.len, p->z, &p->enc);
	if (r < 0)
		return r;
	p->meta_n = 0;
	lmd_buf_clear(&p->meta_raw);
	return lmd_packer_add_encoded(p, p->enc.ptr, p->enc.len);
}

int lmd_packer_put(lmd_packer *p, int type, const lmd_oid *id, const void *data, size_t len)
{
	int r;

	if (len > LMD_MAX_BLOB_RAW)
		return lmd_error_set(LMD_ETOOBIG, "object of %zu bytes is over the limit", len);
	if (lmd_store_has(p->s, id, type))
		return 0;
	if (p->meta_raw.len + len > p->s->opts.block_target || p->meta_n == LMD_BLOCK_MAX_COUNT)
		if ((r = flush_meta(p)) < 0)
			return r;
	if (p->meta_n == p->meta_a) {
		uint32_t n = p->meta_a ? p->meta_a * 2 : 64;
		lmd_blk_entry *ne = lmd_reallocarray(p->meta_ents, n, sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		p->meta_ents = ne;
		p->meta_a = n;
	}
	if ((r = lmd_buf_put(&p->meta_raw, data, len)) < 0)
		return r;
	p->meta_ents[p->meta_n].id = *id;
	p->meta_ents[p->meta_n].len = (uint32_t)len;
	p->meta_ents[p->meta_n].type = (uint8_t)type;
	p->meta_n++;
	/* Visible to dedup at once, though only written at the next flush. */
	return session_add(p->s->session, id, (uint8_t)type);
}

int lmd_packer_finish(lmd_packer *p)
{
	int r;
	if ((r = flush_meta(p)) < 0)
		return r;
	return seal_pack(p);
}

uint64_t lmd_packer_bytes_written(lmd_packer *p)
{
	return p->written + (p->fd >= 0 ? p->off : 0);
}

void lmd_packer_free(lmd_packer *p)
{
	if (!p)
		return;
	discard_pack(p);
	if (p->s->session) {
		session_clear(p->s->session);
		pthread_mutex_destroy(&p->s->session->lock);
		free(p->s->session);
		p->s->session = NULL;
	}
	lmd_zctx_free(p->z);
	lmd_sha256_free(p->h);
	free(p->ents);
	free(p->meta_ents);
	lmd_buf_release(&p->meta_raw);
	lmd_buf_release(&p->enc);
	free(p);
}

int lmd_store_reindex_pack(lmd_store *s, const lmd_oid *pack_id, uint64_t *ret_dropped)
{
	lmd_packer tmp = { .s = s };
	char *path = lmd_store_pack_path(s, pack_id, "pack");
	lmd_zctx *z = NULL;
	uint8_t hdr[LMD_BLOCK_HDR], *buf = NULL;
	uint64_t size, off = LMD_PACK_HDR, dropped = 0;
	struct stat st;
	int fd = -1, r;

	*ret_dropped = 0;
	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = lmd_errno_path("cannot open pack", path);
		goto done;
	}
	size = (uint64_t)st.st_size;
	if ((r = lmd_zctx_new(1, &z)) < 0)
		goto done;
	while (off + LMD_BLOCK_HDR <= size) {
		uint32_t count, stored;
		uint64_t blen;
		lmd_block blk;
		if (lmd_pread_full(fd, hdr, sizeof(hdr), (off_t)off) != (ssize_t)sizeof(hdr) ||
		    memcmp(hdr, LMD_BLOCK_MAGIC, 4) != 0)
			break; /* the trailer, or damage: nothing after it can be found */
		count = lmd_get_le32(hdr + 8);
		stored = lmd_get_le32(hdr + 16);
		blen = LMD_BLOCK_HDR + (uint64_t)count * LMD_BLOCK_ENTRY + stored;
		if (count > LMD_BLOCK_MAX_COUNT || stored > LMD_MAX_BLOB_RAW + 65536u || blen > size - off)
			break;
		free(buf);
		buf = lmd_malloc((size_t)blen);
		if (!buf) {
			r = -ENOMEM;
			goto done;
		}
		if (lmd_pread_full(fd, buf, (size_t)blen, (off_t)off) != (ssize_t)blen)
			break;
		if (lmd_block_decode(buf, (size_t)blen, z, &blk) < 0) {
			lmd_error_clear();
			dropped += count;
			off += blen;
			continue;
		}
		uint32_t raw_off = 0;
		for (uint32_t i = 0; i < blk.count; i++) {
			lmd_blk_entry *e = &blk.entries[i];
			lmd_oid got;
			bool ok = e->type == LMD_OBJ_FILE
				? e->len >= 32 && lmd_sha256_buf(blk.raw + raw_off, e->len - 32, &got) == 0 &&
				  !memcmp(got.id, blk.raw + raw_off + e->len - 32, 32)
				: lmd_sha256_buf(blk.raw + raw_off, e->len, &got) == 0 && !lmd_oid_cmp(&got, &e->id);
			if (ok) {
				if (tmp.nents == tmp.aents) {
					size_t n = tmp.aents ? tmp.aents * 2 : 256;
					struct idx_ent *ne = lmd_reallocarray(tmp.ents, n, sizeof(*ne));
					if (!ne) {
						lmd_block_release(&blk);
						r = -ENOMEM;
						goto done;
					}
					tmp.ents = ne;
					tmp.aents = n;
				}
				tmp.ents[tmp.nents++] = (struct idx_ent){ .id = e->id, .block_off = off,
					.block_len = (uint32_t)blen, .raw_off = raw_off, .len = e->len, .type = e->type };
			} else {
				dropped++;
			}
			raw_off += e->len;
		}
		lmd_block_release(&blk);
		off += blen;
	}
	r = write_index(&tmp, pack_id);
	if (r >= 0)
		r = lmd_fsync_dir(s->packdir);
	*ret_dropped = dropped;
done:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(tmp.ents);
	free(path);
	lmd_zctx_free(z);
	return r;
}
