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
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "objects.h"
#include "oidset.h"
#include "store_int.h"

static uint32_t fd_cap(void);

static int load_pack(lmd_store *s, const lmd_oid *pid, struct lmd_pack *ret)
{
	char *ipath = lmd_store_pack_path(s, pid, "idx");
	char *ppath = lmd_store_pack_path(s, pid, "pack");
	struct stat st;
	size_t map_len = 0;
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
	map_len = (size_t)st.st_size;
	map = mmap(NULL, map_len, PROT_READ, MAP_SHARED, ifd, 0);
	if (map == MAP_FAILED) {
		r = lmd_errno_path("cannot map pack index", ipath);
		goto done;
	}
	if (lmd_idx_validate(map, map_len, pid, false) < 0) {
		r = lmd_error_set(LMD_ECORRUPT, "pack index '%s' is corrupt; run 'lmdata fsck --repair' to rebuild it", ipath);
		goto done;
	}
	count = lmd_get_le32(map + 8);
	/* The pack itself is opened on first read (pack_pin). */
	if (stat(ppath, &st) < 0) {
		r = lmd_errno_path("cannot open pack", ppath);
		goto done;
	}
	ret->id = *pid;
	ret->idx_map = map;
	ret->idx_size = (size_t)(LMD_IDX_HDR + LMD_IDX_FANOUT + (uint64_t)count * LMD_IDX_ENTRY + 32);
	ret->count = count;
	ret->pack_size = (uint64_t)st.st_size;
	ret->mtime = (uint64_t)st.st_mtime;
	ret->lru_prev = ret->lru_next = LMD_NO_PACK;
	ret->mtime_known = true;
	map = MAP_FAILED;
done:
	if (map != MAP_FAILED)
		munmap(map, map_len);
	if (ifd >= 0)
		close(ifd);
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

static int add_loaded(lmd_store *s, const lmd_oid *pid)
{
	struct lmd_pack p;
	int r = load_pack(s, pid, &p);

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
	if (s->nindiv == s->aindiv) {
		uint32_t n = s->aindiv ? s->aindiv * 2 : 16;
		uint32_t *ni = lmd_reallocarray(s->indiv, n, sizeof(*ni));
		if (!ni) {
			pthread_rwlock_unlock(&s->lock);
			unload_pack(&p);
			return -ENOMEM;
		}
		s->indiv = ni;
		s->aindiv = n;
	}
	s->indiv[s->nindiv++] = s->npacks;
	s->packs[s->npacks++] = p;
	pthread_rwlock_unlock(&s->lock);
	return 0;
}

/* Take the usable multi-pack indexes of a first scan: their packs join
 * the store without loading their own indexes. */
static int adopt_layers(lmd_store *s, struct lmd_midx_scan *sc)
{
	uint32_t total = 0;
	for (uint32_t i = 0; i < sc->nlayers; i++)
		total += sc->layers[i].npacks;
	s->midx = lmd_calloc(sc->nlayers + 1, sizeof(*s->midx));
	s->packs = lmd_reallocarray(NULL, (size_t)total + 16, sizeof(*s->packs));
	if (!s->midx || !s->packs)
		return -ENOMEM;
	s->apacks = total + 16;
	for (uint32_t i = 0; i < sc->nlayers; i++) {
		struct lmd_midx *m = &sc->layers[i];
		m->gpack = lmd_calloc(m->npacks, sizeof(*m->gpack));
		if (!m->gpack)
			return -ENOMEM;
		for (uint32_t k = 0; k < m->npacks; k++) {
			const uint8_t *pe = lmd__midx_pack(m, k);
			struct lmd_pack *p = &s->packs[s->npacks];
			memset(p, 0, sizeof(*p));
			memcpy(p->id.id, pe, 32);
			p->pack_size = lmd_get_le64(pe + 32);
			p->pack_fd = -1;
			p->lru_prev = p->lru_next = LMD_NO_PACK;
			p->covered = true;
			m->gpack[k] = s->npacks++;
		}
		s->midx[s->nmidx++] = *m;
		memset(m, 0, sizeof(*m));
	}
	sc->nlayers = 0;
	return 0;
}

int lmd__store_add_pack(lmd_store *s, const lmd_oid *pid)
{
	pthread_rwlock_rdlock(&s->lock);
	for (uint32_t i = 0; i < s->npacks; i++)
		if (!lmd_oid_cmp(&s->packs[i].id, pid)) {
			pthread_rwlock_unlock(&s->lock);
			return 0;
		}
	pthread_rwlock_unlock(&s->lock);
	return add_loaded(s, pid);
}

/* Load the packs named (skipping those in `known`); a damaged index is
 * set aside, not fatal. */
static int load_list(lmd_store *s, const lmd_oid *ids, uint32_t n, const lmd_oidset *known)
{
	int r = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (lmd_oidset_has(known, &ids[i]))
			continue;
		r = add_loaded(s, &ids[i]);
		if (r == LMD_ECORRUPT || r == -ENOENT) {
			/* One damaged index must not make every other pack
			 * unreadable: set it aside for fsck to report and repair. */
			struct lmd_bad_pack *nb = lmd_reallocarray(s->bad, s->nbad + 1, sizeof(*nb));
			if (!nb)
				return -ENOMEM;
			s->bad = nb;
			nb[s->nbad].id = ids[i];
			snprintf(nb[s->nbad].msg, sizeof(nb[s->nbad].msg), "%s", lmd_error_last());
			s->nbad++;
			lmd_error_clear();
			r = 0;
			continue;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int scan_packs(lmd_store *s)
{
	struct lmd_midx_scan sc;
	lmd_oidset known = { 0 };
	lmd_oid *ids = NULL;
	uint32_t nids = 0;
	int r;

	s->nbad = 0;
	if (s->npacks == 0 && !s->midx) {
		/* First scan: multi-pack indexes cover most packs. */
		if ((r = lmd__midx_scan(s->packdir, &sc)) < 0)
			return r;
		if ((r = adopt_layers(s, &sc)) == 0)
			r = load_list(s, sc.packs, sc.npacks, &sc.covered);
		lmd__midx_scan_release(&sc);
		return r;
	}
	/* A refresh: packs that appeared since (a set of those loaded, not a
	 * scan per entry, so thousands of packs stay linear). */
	for (uint32_t i = 0; i < s->npacks; i++)
		if (lmd_oidset_add(&known, &s->packs[i].id) < 0) {
			lmd_oidset_release(&known);
			return -ENOMEM;
		}
	{
		DIR *d = opendir(s->packdir);
		struct dirent *de;
		r = 0;
		if (!d) {
			lmd_oidset_release(&known);
			return lmd_errno_path("cannot open folder", s->packdir);
		}
		while ((de = readdir(d))) {
			size_t n = strlen(de->d_name);
			lmd_oid pid;
			if (n != LMD_OID_HEXSZ + 4 || strcmp(de->d_name + LMD_OID_HEXSZ, ".idx") != 0 ||
			    lmd_oid_parse(&pid, de->d_name, LMD_OID_HEXSZ) < 0)
				continue;
			if (nids == 0 || (nids >= 16 && (nids & (nids - 1)) == 0)) {
				lmd_oid *ni = lmd_reallocarray(ids, nids < 16 ? 16 : (size_t)nids * 2, sizeof(*ni));
				if (!ni) {
					r = -ENOMEM;
					break;
				}
				ids = ni;
			}
			ids[nids++] = pid;
		}
		closedir(d);
	}
	if (r == 0)
		r = load_list(s, ids, nids, &known);
	free(ids);
	lmd_oidset_release(&known);
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
	pthread_mutex_init(&s->fd_lock, NULL);
	s->lru_head = s->lru_tail = LMD_NO_PACK;
	s->fd_cap = fd_cap();
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
	for (uint32_t i = 0; i < s->nmidx; i++)
		lmd__midx_unmap(&s->midx[i]);
	free(s->midx);
	free(s->indiv);
	for (int i = 0; i < LMD_BLOCK_CACHE; i++)
		lmd_block_release(&s->cache[i].blk);
	lmd_zctx_free(s->cache_z);
	free(s->packs);
	free(s->bad);
	free(s->dir);
	free(s->packdir);
	pthread_rwlock_destroy(&s->lock);
	pthread_mutex_destroy(&s->cache_lock);
	pthread_mutex_destroy(&s->fd_lock);
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
	/* One binary search per multi-pack index... */
	for (uint32_t i = 0; i < s->nmidx && r; i++) {
		const struct lmd_midx *m = &s->midx[i];
		const uint8_t *e = lmd_idx_find(m->map, m->count, id, type);
		uint32_t o;
		if (e && (o = lmd__midx_ordinal(e)) < m->npacks) {
			if (ret_loc)
				entry_to_loc(e, m->gpack[o], ret_loc);
			r = 0;
		}
	}
	/* ...then the packs without one, newest first: the likeliest hits
	 * during a write. */
	for (uint32_t i = s->nindiv; r && i-- > 0;) {
		uint32_t p = s->indiv[i];
		const uint8_t *e = idx_find(&s->packs[p], id, type);
		if (e) {
			if (ret_loc)
				entry_to_loc(e, p, ret_loc);
			r = 0;
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
	struct lmd_pack *p;
	if (pack >= s->npacks)
		return 0;
	p = &s->packs[pack];
	if (p->covered && !p->mtime_known) {
		char *path = lmd_store_pack_path(s, &p->id, "pack");
		struct stat st;
		/* Unknown counts as new: gc then keeps the pack. */
		p->mtime = path && stat(path, &st) == 0 ? (uint64_t)st.st_mtime : UINT64_MAX / 2;
		p->mtime_known = true;
		free(path);
	}
	return p->mtime;
}

/*
 * Open pack files: at most fd_cap at once, least recently used closed
 * first.  A quarter of the soft RLIMIT_NOFILE, so that git, a remote and
 * the files being written keep the rest; 8 to 512.
 */
static uint32_t fd_cap(void)
{
	struct rlimit rl;
	uint64_t n = 256;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		n = rl.rlim_cur == RLIM_INFINITY ? 512 : (uint64_t)rl.rlim_cur / 4;
	return (uint32_t)LMD_MIN(LMD_MAX(n, 8u), 512u);
}

/* The LRU list of open packs (under fd_lock). */
static void lru_unlink(lmd_store *s, uint32_t i)
{
	struct lmd_pack *p = &s->packs[i];
	if (p->lru_prev != LMD_NO_PACK)
		s->packs[p->lru_prev].lru_next = p->lru_next;
	else
		s->lru_head = p->lru_next;
	if (p->lru_next != LMD_NO_PACK)
		s->packs[p->lru_next].lru_prev = p->lru_prev;
	else
		s->lru_tail = p->lru_prev;
	p->lru_prev = p->lru_next = LMD_NO_PACK;
}

static void lru_push_front(lmd_store *s, uint32_t i)
{
	struct lmd_pack *p = &s->packs[i];
	p->lru_prev = LMD_NO_PACK;
	p->lru_next = s->lru_head;
	if (s->lru_head != LMD_NO_PACK)
		s->packs[s->lru_head].lru_prev = i;
	else
		s->lru_tail = i;
	s->lru_head = i;
}

/* Close the least recently used pack no read is using; false if none. */
static bool lru_close_one(lmd_store *s)
{
	for (uint32_t i = s->lru_tail; i != LMD_NO_PACK; i = s->packs[i].lru_prev) {
		struct lmd_pack *p = &s->packs[i];
		if (p->pins)
			continue;
		lru_unlink(s, i);
		close(p->pack_fd);
		p->pack_fd = -1;
		s->nopen--;
		return true;
	}
	return false;
}

/*
 * The open descriptor of a pack, its size and id, for reading until
 * pack_unpin.  A pack that has gone since the store was opened was
 * removed by a concurrent gc (which moved what it still needed).
 */
static int pack_pin(lmd_store *s, uint32_t pack, int *fd, uint64_t *size, lmd_oid *pid)
{
	struct lmd_pack *p;
	int r = 0;

	pthread_rwlock_rdlock(&s->lock);
	if (pack >= s->npacks) {
		pthread_rwlock_unlock(&s->lock);
		return lmd_error_set(-EINVAL, "no pack number %u", pack);
	}
	pthread_mutex_lock(&s->fd_lock);
	p = &s->packs[pack];
	if (p->pack_fd < 0) {
		char *path = lmd_store_pack_path(s, &p->id, "pack");
		int nfd = -1;
		if (!path) {
			r = -ENOMEM;
			goto done;
		}
		while (s->nopen >= s->fd_cap && lru_close_one(s))
			;
		while ((nfd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && (errno == EMFILE || errno == ENFILE) &&
		       lru_close_one(s))
			;
		if (nfd < 0) {
			if (errno == ENOENT)
				r = lmd_error_set(LMD_EMISSING,
					"pack '%s' was removed while this command ran (by a concurrent 'lmdata gc'?); "
					"run the command again", path);
			else
				r = lmd_errno_path("cannot open pack", path);
			free(path);
			goto done;
		}
		free(path);
		p->pack_fd = nfd;
		s->nopen++;
	} else {
		lru_unlink(s, pack);
	}
	lru_push_front(s, pack);
	p->pins++;
	*fd = p->pack_fd;
	*size = p->pack_size;
	*pid = p->id;
done:
	pthread_mutex_unlock(&s->fd_lock);
	pthread_rwlock_unlock(&s->lock);
	return r;
}

static void pack_unpin(lmd_store *s, uint32_t pack)
{
	pthread_rwlock_rdlock(&s->lock);
	pthread_mutex_lock(&s->fd_lock);
	if (pack < s->npacks && s->packs[pack].pins)
		s->packs[pack].pins--;
	pthread_mutex_unlock(&s->fd_lock);
	pthread_rwlock_unlock(&s->lock);
}

int lmd_store_read_block(lmd_store *s, const lmd_loc *loc, lmd_zctx *z, lmd_block *ret)
{
	char hex[LMD_OID_HEXSZ + 1];
	uint8_t *buf;
	uint64_t size = 0;
	lmd_oid pid;
	ssize_t n;
	int fd = -1, r;

	if ((r = pack_pin(s, loc->pack, &fd, &size, &pid)) < 0)
		return r;
	lmd_oid_fmt(hex, &pid);
	if (loc->block_len < LMD_BLOCK_HDR || loc->block_off < LMD_PACK_HDR ||
	    loc->block_off > size || loc->block_len > size - loc->block_off ||
	    loc->block_len > LMD_MAX_BLOB_RAW + LMD_BLOCK_HDR + (uint64_t)LMD_BLOCK_MAX_COUNT * LMD_BLOCK_ENTRY) {
		pack_unpin(s, loc->pack);
		return lmd_error_set(LMD_ECORRUPT, "pack %.12s: index points outside the pack; run 'lmdata fsck'", hex);
	}
	buf = lmd_malloc(loc->block_len);
	if (!buf) {
		pack_unpin(s, loc->pack);
		return -ENOMEM;
	}
	n = lmd_pread_full(fd, buf, loc->block_len, (off_t)loc->block_off);
	pack_unpin(s, loc->pack);
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

/*
 * A pack's own index (immutable once mapped).  A pack in a multi-pack
 * index has its own mapped only here, when a command walks its entries.
 * The array of packs may move when a pack is added, so callers keep the
 * map, not the struct.
 */
static int pack_index(lmd_store *s, uint32_t pack, const uint8_t **map, size_t *size, uint32_t *count)
{
	struct lmd_pack *p;
	int r = 0;

	pthread_rwlock_rdlock(&s->lock);
	if (pack >= s->npacks) {
		pthread_rwlock_unlock(&s->lock);
		return lmd_error_set(-EINVAL, "no pack number %u", pack);
	}
	pthread_mutex_lock(&s->fd_lock);
	p = &s->packs[pack];
	if (!p->idx_map) {
		struct lmd_pack t;
		if ((r = load_pack(s, &p->id, &t)) == 0) {
			p->idx_map = t.idx_map;
			p->idx_size = t.idx_size;
			p->count = t.count;
			if (!p->mtime_known) {
				p->mtime = t.mtime;
				p->mtime_known = true;
			}
		}
	}
	if (r == 0) {
		*map = p->idx_map;
		*size = p->idx_size;
		*count = p->count;
	}
	pthread_mutex_unlock(&s->fd_lock);
	pthread_rwlock_unlock(&s->lock);
	return r;
}

int lmd_store_foreach_pack(lmd_store *s, uint32_t pack, lmd_store_entry_cb cb, void *payload)
{
	const uint8_t *map, *ents;
	size_t size;
	uint32_t count;
	int r;

	if ((r = pack_index(s, pack, &map, &size, &count)) < 0)
		return r;
	ents = map + LMD_IDX_HDR + LMD_IDX_FANOUT;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = ents + (size_t)i * LMD_IDX_ENTRY;
		lmd_oid id;
		lmd_loc loc;
		memcpy(id.id, e, 32);
		entry_to_loc(e, pack, &loc);
		if ((r = cb(&id, &loc, payload)) < 0)
			return r;
	}
	return 0;
}

int lmd_store_foreach(lmd_store *s, lmd_store_entry_cb cb, void *payload)
{
	/* The pack list only grows while the store is open. */
	uint32_t n = lmd_store_pack_count(s);
	for (uint32_t p = 0; p < n; p++) {
		int r = lmd_store_foreach_pack(s, p, cb, payload);
		if (r < 0)
			return r;
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

	if ((r = pack_pin(s, pack, &fd, &size, &pid)) < 0) {
		if (r == -ENOMEM || pack >= lmd_store_pack_count(s))
			return r;
		bad_cb(lmd_store_pack_id(s, pack), NULL, lmd_error_last(), payload);
		lmd_error_clear();
		return 1;
	}
	if ((r = lmd_sha256_new(&h)) < 0) {
		pack_unpin(s, pack);
		return r;
	}
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
		const uint8_t *imap, *ents;
		size_t isize;
		uint32_t icount;
		struct ord { uint64_t off; uint32_t raw_off, i; } *ord;
		lmd_block blk = { 0 };
		uint64_t cur_off = UINT64_MAX;
		uint32_t cur_len = 0;
		bool cur_ok = false;

		if ((r = pack_index(s, pack, &imap, &isize, &icount)) < 0) {
			if (r == -ENOMEM)
				goto done;
			bad_cb(&pid, NULL, lmd_error_last(), payload);
			lmd_error_clear();
			bad++;
			goto verified;
		}
		ents = imap + LMD_IDX_HDR + LMD_IDX_FANOUT;
		/* The index's own checksum. */
		if (lmd_sha256_buf(imap, isize - 32, &got) < 0 || memcmp(got.id, imap + isize - 32, 32) != 0) {
			bad_cb(&pid, NULL, "pack index checksum mismatch", payload);
			bad++;
		}
		ord = lmd_reallocarray(NULL, icount ? icount : 1, sizeof(*ord));
		if (!ord) {
			r = -ENOMEM;
			goto done;
		}
		for (uint32_t i = 0; i < icount; i++) {
			const uint8_t *e = ents + (size_t)i * LMD_IDX_ENTRY;
			ord[i].off = lmd_get_le64(e + 32);
			ord[i].raw_off = lmd_get_le32(e + 44);
			ord[i].i = i;
		}
		qsort(ord, icount, sizeof(*ord), cmp_ord);
		for (uint32_t k = 0; k < icount; k++) {
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
verified:
	r = bad ? 1 : 0;
done:
	pack_unpin(s, pack);
	free(buf);
	lmd_sha256_free(h);
	return r;
}
