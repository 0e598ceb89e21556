/*
 * The object store: packer -> finish -> reopen -> find/get every object,
 * the block codec, detection of damaged packs and indexes, and pack
 * roll-over.  Each test works in its own temporary folder.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compress.h"
#include "hash.h"
#include "objects.h"
#include "pack.h"
#include "store.h"
#include "testutil.h"

TestSuite(store, .init = t_mktemp, .fini = t_cleanup);
TestSuite(block);

typedef struct obj {
	int type;
	lmd_oid id;
	uint8_t *data;
	size_t len;
} obj;

static const char *store_dir(void)
{
	static char buf[300];
	snprintf(buf, sizeof(buf), "%s/cache", t_dir);
	return buf;
}

static lmd_store *open_store(const lmd_store_opts *o)
{
	lmd_store *s = NULL;
	int r = lmd_store_open(store_dir(), o, &s);
	cr_assert_eq(r, 0, "lmd_store_open: %d %s", r, lmd_error_last());
	cr_assert_not_null(s);
	return s;
}

/* n objects: mixed sizes, half text-like (compressible), half random. */
static obj *make_objs(uint64_t seed, size_t n, size_t min_len, size_t max_len, int text_every)
{
	t_rng r = { seed };
	obj *v = calloc(n, sizeof(*v));
	cr_assert_not_null(v);
	for (size_t i = 0; i < n; i++) {
		v[i].type = LMD_OBJ_DATA;
		v[i].len = min_len + (size_t)(t_rand(&r) % (max_len - min_len + 1));
		v[i].data = malloc(v[i].len ? v[i].len : 1);
		cr_assert_not_null(v[i].data);
		if (text_every && i % (size_t)text_every == 0)
			t_fill_text(&r, v[i].data, v[i].len);
		else
			t_fill(&r, v[i].data, v[i].len);
		cr_assert_eq(lmd_sha256_buf(v[i].data, v[i].len, &v[i].id), 0);
	}
	return v;
}

static void free_objs(obj *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].data);
	free(v);
}

static void put_all(lmd_store *s, obj *v, size_t n)
{
	lmd_packer *p = NULL;
	cr_assert_eq(lmd_packer_new(s, &p), 0, "%s", lmd_error_last());
	for (size_t i = 0; i < n; i++) {
		int r = lmd_packer_put(p, v[i].type, &v[i].id, v[i].data, v[i].len);
		cr_assert_eq(r, 0, "put %zu: %d %s", i, r, lmd_error_last());
		cr_assert(lmd_store_has(s, &v[i].id, v[i].type), "object %zu not visible right after put", i);
	}
	cr_assert_eq(lmd_packer_finish(p), 0, "finish: %s", lmd_error_last());
	lmd_packer_free(p);
}

static void check_all(lmd_store *s, obj *v, size_t n)
{
	lmd_buf out = LMD_BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		lmd_loc loc;
		cr_assert_eq(lmd_store_find(s, &v[i].id, v[i].type, &loc), 0, "object %zu not found", i);
		cr_assert_eq(loc.type, v[i].type);
		cr_assert_eq(loc.len, v[i].len);
		cr_assert_eq(lmd_store_find(s, &v[i].id, 0, NULL), 0, "type 0 matches any type");
		cr_assert(lmd_store_has(s, &v[i].id, v[i].type));
		int r = lmd_store_get(s, &v[i].id, v[i].type, &out);
		cr_assert_eq(r, 0, "get %zu: %d %s", i, r, lmd_error_last());
		cr_assert_eq(out.len, v[i].len, "object %zu: %zu bytes back, %zu put", i, out.len, v[i].len);
		if (v[i].len)
			cr_assert_arr_eq(out.ptr, v[i].data, v[i].len, "object %zu differs", i);
	}
	lmd_buf_release(&out);
}

static int count_cb(const lmd_oid *id, const lmd_loc *loc, void *payload)
{
	(void)id;
	(void)loc;
	(*(size_t *)payload)++;
	return 0;
}

static size_t count_entries(lmd_store *s)
{
	size_t n = 0;
	cr_assert_eq(lmd_store_foreach(s, count_cb, &n), 0);
	return n;
}

Test(store, put_finish_reopen_get_everything)
{
	lmd_store_opts o = { 1, 64u << 10, 32ull << 20 };
	size_t n = 400;
	obj *v = make_objs(1, n, 1, 9000, 2);
	lmd_store *s = open_store(&o);
	lmd_oid absent;

	/* an empty object, a tree and a file list among the data */
	v[0].len = 0;
	cr_assert_eq(lmd_sha256_buf("", 0, &v[0].id), 0);
	{
		lmd_tree_entry e[] = { { "a", LMD_MODE_FILE, 3, 1, v[1].id }, { "b", LMD_MODE_EXEC, 4, 1, v[2].id } };
		lmd_buf raw = LMD_BUF_INIT;
		free(v[3].data);
		cr_assert_eq(lmd_tree_encode(e, 2, &raw, &v[3].id), 0);
		v[3].type = LMD_OBJ_TREE;
		v[3].data = raw.ptr;
		v[3].len = raw.len;
	}
	{
		lmd_chunk_ref c[2] = { { v[1].id, (uint32_t)v[1].len }, { v[2].id, (uint32_t)v[2].len } };
		lmd_buf raw = LMD_BUF_INIT;
		free(v[4].data);
		cr_assert_eq(lmd_filelist_encode(v[1].len + v[2].len, c, 2, &raw), 0);
		cr_assert_eq(lmd_sha256_buf("the file's whole content", 24, &v[4].id), 0);
		v[4].type = LMD_OBJ_FILE;
		v[4].data = raw.ptr;
		v[4].len = raw.len;
	}

	put_all(s, v, n);
	check_all(s, v, n);           /* from the same handle */
	lmd_store_free(s);

	s = open_store(&o);
	cr_assert_geq(lmd_store_pack_count(s), 1);
	check_all(s, v, n);           /* from a fresh one */
	cr_assert_eq(count_entries(s), n);

	/* type matters; absent ids are LMD_EMISSING */
	cr_assert_eq(lmd_store_find(s, &v[3].id, LMD_OBJ_DATA, NULL), LMD_EMISSING);
	cr_assert_eq(lmd_store_find(s, &v[5].id, LMD_OBJ_TREE, NULL), LMD_EMISSING);
	cr_assert_not(lmd_store_has(s, &v[5].id, LMD_OBJ_FILE));
	cr_assert_eq(lmd_sha256_buf("absent", 6, &absent), 0);
	cr_assert_eq(lmd_store_find(s, &absent, 0, NULL), LMD_EMISSING);
	{
		lmd_buf out = LMD_BUF_INIT;
		cr_assert_eq(lmd_store_get(s, &absent, LMD_OBJ_DATA, &out), LMD_EMISSING);
		lmd_buf_release(&out);
	}
	lmd_store_free(s);
	free_objs(v, n);
}

Test(store, duplicates_are_stored_once)
{
	lmd_store_opts o = { 1, 64u << 10, 32ull << 20 };
	size_t n = 50;
	obj *v = make_objs(2, n, 100, 3000, 2);
	lmd_store *s = open_store(&o);
	lmd_packer *p;
	uint32_t packs;

	put_all(s, v, n);
	put_all(s, v, n);             /* again, same handle: all present */
	packs = lmd_store_pack_count(s);
	lmd_store_free(s);

	s = open_store(&o);
	cr_assert_eq(lmd_store_pack_count(s), packs);
	cr_assert_eq(count_entries(s), n);
	/* putting the same object twice in one session writes it once */
	cr_assert_eq(lmd_packer_new(s, &p), 0);
	{
		obj *w = make_objs(3, 1, 500, 500, 0);
		cr_assert_eq(lmd_packer_put(p, w[0].type, &w[0].id, w[0].data, w[0].len), 0);
		cr_assert_eq(lmd_packer_put(p, w[0].type, &w[0].id, w[0].data, w[0].len), 0);
		cr_assert_eq(lmd_packer_finish(p), 0);
		lmd_packer_free(p);
		free_objs(w, 1);
	}
	lmd_store_free(s);
	s = open_store(&o);
	cr_assert_eq(count_entries(s), n + 1);
	lmd_store_free(s);
	free_objs(v, n);
}

Test(store, second_packer_is_refused_and_abandoned_packer_leaves_nothing)
{
	lmd_store *s = open_store(NULL);
	lmd_packer *p, *q = (lmd_packer *)0x1;
	obj *v = make_objs(4, 10, 100, 200, 0);
	char packdir[400];

	cr_assert_eq(lmd_packer_new(s, &p), 0);
	cr_assert_lt(lmd_packer_new(s, &q), 0);
	cr_assert_eq(q, (lmd_packer *)0x1);
	for (size_t i = 0; i < 10; i++)
		cr_assert_eq(lmd_packer_put(p, v[i].type, &v[i].id, v[i].data, v[i].len), 0);
	/* force a block and a temp pack onto disk */
	{
		lmd_blk_entry e = { v[0].id, (uint32_t)v[0].len, LMD_OBJ_DATA };
		lmd_buf enc = LMD_BUF_INIT;
		cr_assert_eq(lmd_block_encode(&e, 1, v[0].data, (uint32_t)v[0].len, NULL, &enc), 0);
		cr_assert_eq(lmd_packer_add_encoded(p, enc.ptr, enc.len), 0);
		lmd_buf_release(&enc);
	}
	lmd_packer_free(p);
	snprintf(packdir, sizeof(packdir), "%s/packs", store_dir());
	cr_assert_eq(t_count_entries(packdir), 0, "an abandoned packer left files in %s", packdir);
	for (size_t i = 0; i < 10; i++)
		cr_assert_not(lmd_store_has(s, &v[i].id, 0), "abandoned object %zu still visible", i);
	lmd_store_free(s);
	free_objs(v, 10);
}

Test(store, refresh_sees_packs_from_another_handle)
{
	lmd_store *a = open_store(NULL), *b = open_store(NULL);
	obj *v = make_objs(5, 20, 10, 5000, 3);
	put_all(b, v, 20);
	cr_assert_eq(lmd_store_find(a, &v[0].id, 0, NULL), LMD_EMISSING);
	cr_assert_eq(lmd_store_refresh(a), 0);
	check_all(a, v, 20);
	cr_assert_eq(lmd_store_refresh(a), 0);
	cr_assert_eq(lmd_store_pack_count(a), lmd_store_pack_count(b));
	lmd_store_free(a);
	lmd_store_free(b);
	free_objs(v, 20);
}

Test(store, packs_roll_over_at_pack_target)
{
	lmd_store_opts o = { 1, 16u << 10, 64u << 10 };
	size_t n = 150, total = 0;
	obj *v = make_objs(6, n, 1000, 5000, 0);   /* incompressible */
	lmd_store *s = open_store(&o);
	lmd_packer *p;
	uint64_t sum = 0, written;
	uint32_t npacks, small = 0;

	for (size_t i = 0; i < n; i++)
		total += v[i].len;
	cr_assert_eq(lmd_packer_new(s, &p), 0);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(lmd_packer_put(p, v[i].type, &v[i].id, v[i].data, v[i].len), 0);
	cr_assert_eq(lmd_packer_finish(p), 0);
	written = lmd_packer_bytes_written(p);
	lmd_packer_free(p);
	lmd_store_free(s);

	s = open_store(&o);
	npacks = lmd_store_pack_count(s);
	cr_assert_geq(npacks, total / o.pack_target, "%u packs for %zu bytes at a %llu-byte target", npacks, total,
		      (unsigned long long)o.pack_target);
	cr_assert_leq(npacks, total / o.pack_target + 2);
	for (uint32_t i = 0; i < npacks; i++) {
		uint64_t sz = lmd_store_pack_size(s, i);
		sum += sz;
		/* a pack is sealed at the first block that reaches the target */
		cr_assert_leq(sz, o.pack_target + 2 * o.block_target + 4096, "pack %u is %llu bytes", i,
			      (unsigned long long)sz);
		if (sz < o.pack_target)
			small++;
	}
	cr_assert_leq(small, 1, "%u packs under the target (only the last may be)", small);
	cr_assert_eq(sum, written, "bytes_written %llu, packs on disk %llu", (unsigned long long)written,
		     (unsigned long long)sum);
	cr_assert_geq(sum, total);
	check_all(s, v, n);
	cr_assert_eq(count_entries(s), n);
	lmd_store_free(s);
	free_objs(v, n);
}

Test(store, object_larger_than_block_target)
{
	lmd_store_opts o = { 1, 16u << 10, 1u << 20 };
	obj *v = make_objs(7, 5, 100, 200, 0);
	lmd_store *s = open_store(&o);
	free(v[2].data);
	v[2].len = 300000;
	v[2].data = malloc(v[2].len);
	{
		t_rng r = { 77 };
		t_fill(&r, v[2].data, v[2].len);
	}
	cr_assert_eq(lmd_sha256_buf(v[2].data, v[2].len, &v[2].id), 0);
	put_all(s, v, 5);
	lmd_store_free(s);
	s = open_store(&o);
	check_all(s, v, 5);
	lmd_store_free(s);
	free_objs(v, 5);
}

/* ---- damage ---- */

static char *pack_file(lmd_store *s, uint32_t i, const char *ext)
{
	char *p = lmd_store_pack_path(s, lmd_store_pack_id(s, i), ext);
	cr_assert_not_null(p);
	return p;
}

static void flip_byte(const char *path, uint64_t off)
{
	uint8_t c;
	int fd;
	cr_assert_eq(chmod(path, 0644), 0);
	fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &c, 1, (off_t)off), 1);
	c ^= 0x40;
	cr_assert_eq(pwrite(fd, &c, 1, (off_t)off), 1);
	close(fd);
}

static void truncate_to(const char *path, off_t len)
{
	cr_assert_eq(chmod(path, 0644), 0);
	cr_assert_eq(truncate(path, len), 0);
}

static uint32_t read_le32_at(const char *path, uint64_t off)
{
	uint8_t b[4];
	int fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, b, 4, (off_t)off), 4);
	close(fd);
	return lmd_get_le32(b);
}

struct bad_log {
	int pack_level, objects;
	lmd_oid last;
	bool saw[64];
	const obj *v;
	size_t n;
};

static void bad_cb(const lmd_oid *pack, const lmd_oid *id, const char *what, void *payload)
{
	struct bad_log *l = payload;
	cr_assert_not_null(pack);
	cr_assert_not_null(what);
	if (!id) {
		l->pack_level++;
		return;
	}
	l->objects++;
	l->last = *id;
	for (size_t i = 0; i < l->n && i < 64; i++)
		if (!lmd_oid_cmp(&l->v[i].id, id))
			l->saw[i] = true;
}

static int verify(lmd_store *s, struct bad_log *log)
{
	lmd_zctx *z;
	uint64_t done = 0;
	int r;
	cr_assert_eq(lmd_zctx_new(1, &z), 0);
	r = lmd_store_verify_pack(s, 0, z, bad_cb, log, &done);
	lmd_zctx_free(z);
	return r;
}

Test(store, verify_pack_clean)
{
	obj *v = make_objs(8, 30, 100, 3000, 2);
	lmd_store *s = open_store(NULL);
	struct bad_log log = { 0 };
	put_all(s, v, 30);
	lmd_store_free(s);
	s = open_store(NULL);
	cr_assert_eq(lmd_store_pack_count(s), 1);
	log.v = v;
	log.n = 30;
	cr_assert_eq(verify(s, &log), 0);
	cr_assert_eq(log.pack_level + log.objects, 0);
	lmd_store_free(s);
	free_objs(v, 30);
}

Test(store, flipped_byte_in_raw_block_is_detected)
{
	size_t n = 20, k = 7;
	obj *v = make_objs(9, n, 3000, 3000, 0);   /* random: stored raw */
	lmd_store *s = open_store(NULL);
	lmd_buf out = LMD_BUF_INIT;
	struct bad_log log = { 0 };
	lmd_loc loc;
	char *pack;
	uint32_t count, flags;

	put_all(s, v, n);
	lmd_store_free(s);
	s = open_store(NULL);
	cr_assert_eq(lmd_store_find(s, &v[k].id, LMD_OBJ_DATA, &loc), 0);
	pack = pack_file(s, loc.pack, "pack");
	flags = read_le32_at(pack, loc.block_off + 4);
	count = read_le32_at(pack, loc.block_off + 8);
	cr_assert_eq(flags & LMD_BLOCK_COMPRESSED, 0, "random bytes should be stored raw");
	flip_byte(pack, loc.block_off + LMD_BLOCK_HDR + (uint64_t)count * LMD_BLOCK_ENTRY + loc.raw_off + loc.len / 2);
	lmd_store_free(s);

	s = open_store(NULL);
	cr_assert_eq(lmd_store_get(s, &v[k].id, LMD_OBJ_DATA, &out), LMD_ECORRUPT, "a flipped byte was not detected");
	cr_assert_neq(lmd_error_last()[0], '\0');
	/* the other objects of the block are still good */
	for (size_t i = 0; i < n; i++)
		if (i != k) {
			cr_assert_eq(lmd_store_get(s, &v[i].id, LMD_OBJ_DATA, &out), 0, "object %zu: %s", i, lmd_error_last());
			cr_assert_arr_eq(out.ptr, v[i].data, v[i].len);
		}
	/* asking again (block now cached) still fails */
	cr_assert_eq(lmd_store_get(s, &v[k].id, LMD_OBJ_DATA, &out), LMD_ECORRUPT);

	log.v = v;
	log.n = n;
	cr_assert_eq(verify(s, &log), 1, "verify_pack did not report damage");
	cr_assert_geq(log.pack_level, 1, "pack checksum mismatch not reported");
	cr_assert_eq(log.objects, 1, "%d objects reported, 1 damaged", log.objects);
	cr_assert(log.saw[k], "the damaged object was not named");
	lmd_buf_release(&out);
	lmd_store_free(s);
	free(pack);
	free_objs(v, n);
}

Test(store, flipped_byte_in_compressed_block_is_detected)
{
	size_t n = 30;
	obj *v = make_objs(10, n, 2000, 4000, 1);  /* text: compressed */
	lmd_store *s = open_store(NULL);
	lmd_buf out = LMD_BUF_INIT;
	struct bad_log log = { 0 };
	lmd_loc loc;
	char *pack;
	uint32_t count, flags, stored;
	int failed = 0;

	put_all(s, v, n);
	lmd_store_free(s);
	s = open_store(NULL);
	cr_assert_eq(lmd_store_find(s, &v[0].id, LMD_OBJ_DATA, &loc), 0);
	pack = pack_file(s, loc.pack, "pack");
	flags = read_le32_at(pack, loc.block_off + 4);
	count = read_le32_at(pack, loc.block_off + 8);
	stored = read_le32_at(pack, loc.block_off + 16);
	cr_assert_eq(flags & LMD_BLOCK_COMPRESSED, LMD_BLOCK_COMPRESSED, "text should be compressed");
	flip_byte(pack, loc.block_off + LMD_BLOCK_HDR + (uint64_t)count * LMD_BLOCK_ENTRY + stored / 2);
	lmd_store_free(s);

	s = open_store(NULL);
	for (size_t i = 0; i < n; i++) {
		int r = lmd_store_get(s, &v[i].id, LMD_OBJ_DATA, &out);
		cr_assert(r == 0 || r == LMD_ECORRUPT, "object %zu: unexpected %d", i, r);
		if (r == 0)
			cr_assert_arr_eq(out.ptr, v[i].data, v[i].len, "object %zu returned with wrong bytes", i);
		else
			failed++;
	}
	cr_assert_geq(failed, 1, "no object of the damaged block failed verification");
	log.v = v;
	log.n = n;
	cr_assert_eq(verify(s, &log), 1);
	cr_assert_geq(log.pack_level, 1);
	cr_assert_geq(log.objects, 1);
	lmd_buf_release(&out);
	lmd_store_free(s);
	free(pack);
	free_objs(v, n);
}

Test(store, flipped_byte_in_pack_trailer_is_reported_by_verify)
{
	obj *v = make_objs(11, 10, 100, 1000, 2);
	lmd_store *s = open_store(NULL);
	struct bad_log log = { 0 };
	char *pack;
	struct stat st;

	put_all(s, v, 10);
	pack = pack_file(s, 0, "pack");
	cr_assert_eq(stat(pack, &st), 0);
	flip_byte(pack, (uint64_t)st.st_size - 40);   /* in the trailer hash */
	lmd_store_free(s);
	s = open_store(NULL);
	check_all(s, v, 10);                         /* objects are intact */
	cr_assert_eq(verify(s, &log), 1);
	cr_assert_eq(log.pack_level, 1);
	cr_assert_eq(log.objects, 0);
	lmd_store_free(s);
	free(pack);
	free_objs(v, 10);
}

Test(store, truncated_pack_is_detected)
{
	obj *v = make_objs(12, 20, 1000, 3000, 0);
	lmd_store *s = open_store(NULL);
	lmd_buf out = LMD_BUF_INIT;
	struct bad_log log = { 0 };
	char *pack;
	struct stat st;
	int bad = 0;

	put_all(s, v, 20);
	pack = pack_file(s, 0, "pack");
	cr_assert_eq(stat(pack, &st), 0);
	truncate_to(pack, st.st_size / 2);
	lmd_store_free(s);

	s = open_store(NULL);   /* may open: the index is intact */
	for (size_t i = 0; i < 20; i++) {
		int r = lmd_store_get(s, &v[i].id, LMD_OBJ_DATA, &out);
		cr_assert(r == 0 || r == LMD_ECORRUPT, "object %zu: %d", i, r);
		bad += r < 0;
	}
	cr_assert_geq(bad, 1);
	cr_assert_eq(verify(s, &log), 1);
	cr_assert_geq(log.pack_level, 1);
	cr_assert_geq(log.objects, 1);
	lmd_buf_release(&out);
	lmd_store_free(s);
	free(pack);
	free_objs(v, 20);
}

Test(store, damaged_index_makes_open_fail_cleanly)
{
	obj *v = make_objs(13, 20, 100, 2000, 2);
	lmd_store *s = open_store(NULL);
	char *idx;
	struct stat st;
	off_t lens[7];

	put_all(s, v, 20);
	idx = pack_file(s, 0, "idx");
	lmd_store_free(s);
	cr_assert_eq(stat(idx, &st), 0);
	cr_assert_eq(st.st_size, LMD_IDX_HDR + LMD_IDX_FANOUT + 20 * LMD_IDX_ENTRY + 32);
	lens[0] = st.st_size - 1;
	lens[1] = st.st_size - LMD_IDX_ENTRY;
	lens[2] = st.st_size / 2;
	lens[3] = LMD_IDX_HDR + LMD_IDX_FANOUT + 32;
	lens[4] = LMD_IDX_HDR + LMD_IDX_FANOUT + 31;
	lens[5] = 10;
	lens[6] = 0;
	for (int i = 0; i < 7; i++) {
		lmd_store *t = NULL;
		const char *msg = NULL;
		uint64_t dropped = 1;
		int r;
		truncate_to(idx, lens[i]);
		lmd_error_clear();
		/* A damaged index is set aside, not fatal: the store opens, the
		 * pack is listed as bad with a message, its objects are absent. */
		r = lmd_store_open(store_dir(), NULL, &t);
		cr_assert_eq(r, 0, "index truncated to %lld bytes: open returned %d", (long long)lens[i], r);
		cr_assert_eq(lmd_store_bad_count(t), 1);
		cr_assert_not_null(lmd_store_bad_pack(t, 0, &msg));
		cr_assert(strstr(msg, "fsck --repair") != NULL, "message: %s", msg);
		cr_assert_eq(lmd_store_pack_count(t), 0);
		cr_assert(!lmd_store_has(t, &v[0].id, 0));
		/* The pack is intact: rebuilding its index brings every object back. */
		cr_assert_eq(lmd_store_reindex_pack(t, lmd_store_bad_pack(t, 0, NULL), &dropped), 0);
		cr_assert_eq(dropped, 0);
		lmd_store_free(t);
		t = open_store(NULL);
		cr_assert_eq(lmd_store_bad_count(t), 0);
		for (int k = 0; k < 20; k++)
			cr_assert(lmd_store_has(t, &v[k].id, 0), "object %d after reindex", k);
		lmd_store_free(t);
	}
	free(idx);
	free_objs(v, 20);
}

Test(store, index_with_bad_magic_or_fanout_is_refused)
{
	obj *v = make_objs(14, 20, 100, 2000, 2);
	lmd_store *s = open_store(NULL), *t = NULL;
	char *idx;

	put_all(s, v, 20);
	idx = pack_file(s, 0, "idx");
	lmd_store_free(s);
	flip_byte(idx, 0);
	cr_assert_eq(lmd_store_open(store_dir(), NULL, &t), 0);
	cr_assert_eq(lmd_store_bad_count(t), 1);
	lmd_store_free(t);
	flip_byte(idx, 0);
	s = open_store(NULL);
	cr_assert_eq(lmd_store_bad_count(s), 0);
	lmd_store_free(s);
	flip_byte(idx, LMD_IDX_HDR + 4 * 255 + 1);    /* last fanout entry != count */
	cr_assert_eq(lmd_store_open(store_dir(), NULL, &t), 0);
	cr_assert_eq(lmd_store_bad_count(t), 1);
	lmd_store_free(t);
	flip_byte(idx, LMD_IDX_HDR + 4 * 255 + 1);
	flip_byte(idx, 20);                            /* pack id in the header */
	cr_assert_eq(lmd_store_open(store_dir(), NULL, &t), 0);
	cr_assert_eq(lmd_store_bad_count(t), 1);
	cr_assert(!lmd_store_has(t, &v[0].id, 0));
	lmd_store_free(t);
	free(idx);
	free_objs(v, 20);
}

Test(store, index_without_pack_is_refused)
{
	obj *v = make_objs(15, 5, 100, 200, 0);
	lmd_store *s = open_store(NULL), *t = NULL;
	char *pack;
	put_all(s, v, 5);
	pack = pack_file(s, 0, "pack");
	lmd_store_free(s);
	cr_assert_eq(unlink(pack), 0);
	/* Set aside as bad (fsck names it); the objects are simply absent. */
	cr_assert_eq(lmd_store_open(store_dir(), NULL, &t), 0);
	cr_assert_eq(lmd_store_bad_count(t), 1);
	cr_assert(!lmd_store_has(t, &v[0].id, 0));
	lmd_store_free(t);
	free(pack);
	free_objs(v, 5);
}

/* ---- the block codec ---- */

static void block_roundtrip(const uint8_t *raw, const uint32_t *lens, uint32_t count, lmd_zctx *z, bool want_compressed)
{
	lmd_blk_entry *e = calloc(count ? count : 1, sizeof(*e));
	lmd_buf enc = LMD_BUF_INIT;
	lmd_block b;
	lmd_zctx *dz;
	uint32_t raw_len = 0;

	cr_assert_not_null(e);
	for (uint32_t i = 0; i < count; i++) {
		cr_assert_eq(lmd_sha256_buf(raw + raw_len, lens[i], &e[i].id), 0);
		e[i].len = lens[i];
		e[i].type = (uint8_t)(1 + i % 3);
		raw_len += lens[i];
	}
	cr_assert_eq(lmd_block_encode(e, count, raw, raw_len, z, &enc), 0, "%s", lmd_error_last());
	cr_assert_eq(memcmp(enc.ptr, LMD_BLOCK_MAGIC, 4), 0);
	cr_assert_eq(lmd_get_le32(enc.ptr + 8), count);
	cr_assert_eq(lmd_get_le32(enc.ptr + 12), raw_len);
	if (want_compressed) {
		cr_assert_eq(lmd_get_le32(enc.ptr + 4), LMD_BLOCK_COMPRESSED);
		cr_assert_lt(lmd_get_le32(enc.ptr + 16), raw_len);
	} else {
		cr_assert_eq(lmd_get_le32(enc.ptr + 4), 0, "incompressible data must be stored raw");
		cr_assert_eq(lmd_get_le32(enc.ptr + 16), raw_len);
		cr_assert_eq(enc.len, LMD_BLOCK_HDR + (size_t)count * LMD_BLOCK_ENTRY + raw_len);
		if (raw_len)
			cr_assert_arr_eq(enc.ptr + LMD_BLOCK_HDR + (size_t)count * LMD_BLOCK_ENTRY, raw, raw_len);
	}
	cr_assert_eq(enc.len, LMD_BLOCK_HDR + (size_t)count * LMD_BLOCK_ENTRY + lmd_get_le32(enc.ptr + 16));

	/* decode with a different context than the encoder's */
	cr_assert_eq(lmd_zctx_new(3, &dz), 0);
	cr_assert_eq(lmd_block_decode(enc.ptr, enc.len, dz, &b), 0, "%s", lmd_error_last());
	cr_assert_eq(b.count, count);
	cr_assert_eq(b.raw_len, raw_len);
	if (raw_len)
		cr_assert_arr_eq(b.raw, raw, raw_len);
	for (uint32_t i = 0, off = 0; i < count; i++) {
		lmd_loc loc = { 0, 0, 0, off, e[i].len, e[i].type };
		cr_assert_eq(lmd_oid_cmp(&b.entries[i].id, &e[i].id), 0);
		cr_assert_eq(b.entries[i].len, e[i].len);
		cr_assert_eq(b.entries[i].type, e[i].type);
		cr_assert_eq(lmd_block_verify_obj(&b, &loc, &e[i].id), 0);
		off += e[i].len;
	}
	lmd_block_release(&b);
	lmd_zctx_free(dz);
	lmd_buf_release(&enc);
	free(e);
}

Test(block, encode_decode_roundtrip)
{
	t_rng r = { 20 };
	size_t len = 300000;
	uint8_t *text = malloc(len), *rnd = malloc(len);
	uint32_t lens[] = { 1000, 0, 50000, 1, 120000, 128999 };
	lmd_zctx *z;

	cr_assert(text && rnd);
	t_fill_text(&r, text, len);
	t_fill(&r, rnd, len);
	cr_assert_eq(lmd_zctx_new(1, &z), 0);

	block_roundtrip(text, lens, 6, z, true);
	block_roundtrip(rnd, lens, 6, z, false);        /* incompressible: raw */
	block_roundtrip(text, lens, 6, NULL, false);    /* no context: raw */
	block_roundtrip(text, lens, 1, z, true);        /* one small object of text */
	block_roundtrip(text, NULL, 0, z, false);       /* empty block */
	{
		uint32_t tiny[] = { 10, 20 };
		block_roundtrip(text, tiny, 2, z, false);   /* under 64 bytes: never compressed */
	}
	lmd_zctx_free(z);
	free(text);
	free(rnd);
}

Test(block, encode_rejects_entries_that_do_not_add_up)
{
	lmd_blk_entry e[2] = { { { { 0 } }, 10, LMD_OBJ_DATA }, { { { 0 } }, 10, LMD_OBJ_DATA } };
	uint8_t raw[30] = { 0 };
	lmd_buf enc = LMD_BUF_INIT;
	cr_assert_lt(lmd_block_encode(e, 2, raw, 30, NULL, &enc), 0);
	cr_assert_lt(lmd_block_encode(e, 2, raw, 19, NULL, &enc), 0);
	cr_assert_eq(lmd_block_encode(e, 2, raw, 20, NULL, &enc), 0);
	lmd_buf_release(&enc);
}

static int decode(const lmd_buf *enc, lmd_zctx *z)
{
	lmd_block b;
	int r = lmd_block_decode(enc->ptr, enc->len, z, &b);
	if (r == 0)
		lmd_block_release(&b);
	return r;
}

Test(block, decode_rejects_damage)
{
	t_rng r = { 21 };
	uint8_t text[20000], rnd[20000];
	lmd_blk_entry e[2];
	lmd_buf enc = LMD_BUF_INIT, rawenc = LMD_BUF_INIT;
	lmd_zctx *z;
	size_t hdr = LMD_BLOCK_HDR + 2 * LMD_BLOCK_ENTRY;

	t_fill_text(&r, text, sizeof(text));
	t_fill(&r, rnd, sizeof(rnd));
	cr_assert_eq(lmd_zctx_new(1, &z), 0);
	e[0] = (lmd_blk_entry){ { { 1 } }, 5000, LMD_OBJ_DATA };
	e[1] = (lmd_blk_entry){ { { 2 } }, 15000, LMD_OBJ_DATA };
	cr_assert_eq(lmd_block_encode(e, 2, text, sizeof(text), z, &enc), 0);
	cr_assert_eq(lmd_block_encode(e, 2, rnd, sizeof(rnd), z, &rawenc), 0);
	cr_assert_eq(lmd_get_le32(enc.ptr + 4), LMD_BLOCK_COMPRESSED);
	cr_assert_eq(lmd_get_le32(rawenc.ptr + 4), 0);
	cr_assert_eq(decode(&enc, z), 0);
	cr_assert_eq(decode(&rawenc, z), 0);

	/* length: short, long, shorter than a header */
	enc.len--;
	cr_assert_eq(decode(&enc, z), LMD_ECORRUPT);
	enc.len++;
	rawenc.len--;
	cr_assert_eq(decode(&rawenc, z), LMD_ECORRUPT);
	rawenc.len++;
	{
		lmd_buf tmp = enc;
		tmp.len = LMD_BLOCK_HDR - 1;
		cr_assert_eq(decode(&tmp, z), LMD_ECORRUPT);
		tmp.len = 0;
		cr_assert_eq(decode(&tmp, z), LMD_ECORRUPT);
	}
	/* magic */
	enc.ptr[0] ^= 1;
	cr_assert_eq(decode(&enc, z), LMD_ECORRUPT);
	enc.ptr[0] ^= 1;
	/* unknown flags */
	lmd_put_le32(enc.ptr + 4, 3);
	cr_assert_eq(decode(&enc, z), LMD_ECORRUPT);
	lmd_put_le32(enc.ptr + 4, LMD_BLOCK_COMPRESSED);
	/* counts and lengths over the caps or inconsistent */
	lmd_put_le32(enc.ptr + 8, UINT32_MAX);
	cr_assert_eq(decode(&enc, z), LMD_ECORRUPT);
	lmd_put_le32(enc.ptr + 8, 3);
	cr_assert_eq(decode(&enc, z), LMD_ECORRUPT);
	lmd_put_le32(enc.ptr + 8, 2);
	lmd_put_le32(enc.ptr + 12, UINT32_MAX);
	cr_assert_eq(decode(&enc, z), LMD_ECORRUPT);
	lmd_put_le32(enc.ptr + 12, 20001);
	cr_assert_eq(decode(&enc, z), LMD_ECORRUPT);
	lmd_put_le32(enc.ptr + 12, 20000);
	lmd_put_le32(enc.ptr + 16, lmd_get_le32(enc.ptr + 16) + 1);
	cr_assert_eq(decode(&enc, z), LMD_ECORRUPT);
	lmd_put_le32(enc.ptr + 16, lmd_get_le32(enc.ptr + 16) - 1);
	/* an entry length that no longer adds up */
	lmd_put_le32(enc.ptr + LMD_BLOCK_HDR + 32, 5001);
	cr_assert_eq(decode(&enc, z), LMD_ECORRUPT);
	lmd_put_le32(enc.ptr + LMD_BLOCK_HDR + 32, 5000);
	/* both lengths changed consistently: raw_len still says 20000 */
	lmd_put_le32(rawenc.ptr + LMD_BLOCK_HDR + 32, 4000);
	cr_assert_eq(decode(&rawenc, z), LMD_ECORRUPT);
	lmd_put_le32(rawenc.ptr + LMD_BLOCK_HDR + 32, 5000);
	/* raw block claiming to be compressed, compressed claiming raw */
	lmd_put_le32(rawenc.ptr + 4, LMD_BLOCK_COMPRESSED);
	cr_assert_eq(decode(&rawenc, z), LMD_ECORRUPT);
	lmd_put_le32(rawenc.ptr + 4, 0);
	lmd_put_le32(enc.ptr + 4, 0);
	cr_assert_eq(decode(&enc, z), LMD_ECORRUPT);
	lmd_put_le32(enc.ptr + 4, LMD_BLOCK_COMPRESSED);
	/* the zstd frame's header */
	enc.ptr[hdr] ^= 0xff;
	cr_assert_eq(decode(&enc, z), LMD_ECORRUPT);
	enc.ptr[hdr] ^= 0xff;
	cr_assert_eq(decode(&enc, z), 0);
	cr_assert_eq(decode(&rawenc, z), 0);

	lmd_zctx_free(z);
	lmd_buf_release(&enc);
	lmd_buf_release(&rawenc);
}

Test(block, compress_contract)
{
	t_rng r = { 22 };
	uint8_t text[8192], rnd[8192], dst[16384], back[8192];
	lmd_zctx *z;
	long n;

	t_fill_text(&r, text, sizeof(text));
	t_fill(&r, rnd, sizeof(rnd));
	cr_assert_eq(lmd_zctx_new(1, &z), 0);
	cr_assert_geq(lmd_compress_bound(sizeof(text)), sizeof(text));
	n = lmd_compress(z, text, sizeof(text), dst, sizeof(dst));
	cr_assert_gt(n, 0);
	cr_assert_lt(n, (long)sizeof(text));
	cr_assert_eq(lmd_decompress(z, dst, (size_t)n, back, sizeof(back)), 0);
	cr_assert_arr_eq(back, text, sizeof(text));
	/* wrong expected length */
	cr_assert_eq(lmd_decompress(z, dst, (size_t)n, back, sizeof(back) - 1), LMD_ECORRUPT);
	/* truncated frame */
	cr_assert_eq(lmd_decompress(z, dst, (size_t)n - 1, back, sizeof(back)), LMD_ECORRUPT);
	/* incompressible: 0, store raw */
	cr_assert_eq(lmd_compress(z, rnd, sizeof(rnd), dst, sizeof(dst)), 0);
	/* random bytes are not a frame */
	cr_assert_eq(lmd_decompress(z, rnd, 100, back, 100), LMD_ECORRUPT);
	lmd_zctx_free(z);
}

/* ---- more damage: index entries pointing to the wrong place ---- */

static uint64_t idx_entry_off(lmd_store *s, const char *idx, const lmd_oid *id)
{
	uint32_t count = read_le32_at(idx, 8);
	uint8_t e[32];
	int fd = open(idx, O_RDONLY);
	(void)s;
	cr_assert_geq(fd, 0);
	for (uint32_t i = 0; i < count; i++) {
		uint64_t off = LMD_IDX_HDR + LMD_IDX_FANOUT + (uint64_t)i * LMD_IDX_ENTRY;
		cr_assert_eq(pread(fd, e, 32, (off_t)off), 32);
		if (!memcmp(e, id->id, 32)) {
			close(fd);
			return off;
		}
	}
	close(fd);
	cr_assert_fail("id not in the index");
	return 0;
}

Test(store, damaged_index_entry_is_detected_by_get)
{
	/* field offsets in an index entry: block_off 32, block_len 40,
	 * raw_off 44, len 48 */
	static const unsigned fields[] = { 32, 33, 40, 44, 48 };
	size_t n = 20, k = 5;
	obj *v = make_objs(16, n, 1000, 3000, 2);
	lmd_store *s = open_store(NULL);
	lmd_buf out = LMD_BUF_INIT;
	char *idx;
	uint64_t eoff;

	put_all(s, v, n);
	idx = pack_file(s, 0, "idx");
	eoff = idx_entry_off(s, idx, &v[k].id);
	lmd_store_free(s);
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		struct bad_log log = { 0 };
		int r;
		flip_byte(idx, eoff + fields[f]);
		s = open_store(NULL);
		r = lmd_store_get(s, &v[k].id, LMD_OBJ_DATA, &out);
		cr_assert_eq(r, LMD_ECORRUPT, "index entry byte %u flipped: get returned %d", fields[f], r);
		r = verify(s, &log);
		cr_expect(r == 1 && log.objects >= 1,
			  "index entry byte %u flipped: verify_pack returned %d and reported %d objects, but get fails",
			  fields[f], r, log.objects);
		lmd_store_free(s);
		flip_byte(idx, eoff + fields[f]);
	}
	/* restored: all good again */
	s = open_store(NULL);
	check_all(s, v, n);
	lmd_store_free(s);
	lmd_buf_release(&out);
	free(idx);
	free_objs(v, n);
}

/*
 * store.h: objects given to the packer "become visible to lmd_store_find
 * at once (from memory, then from the pack's index)", and a put object is
 * "visible to dedup at once, though only written at the next flush".  That
 * must hold while another block rolls the pack over.
 */
Test(store, pending_objects_stay_visible_across_a_pack_rollover)
{
	lmd_store_opts o = { 1, 64u << 10, 32u << 10 };
	obj *small = make_objs(17, 3, 100, 200, 1);
	obj *big = make_objs(18, 1, 50000, 50000, 0);
	lmd_store *s = open_store(&o);
	lmd_packer *p;
	lmd_blk_entry e;
	lmd_buf enc = LMD_BUF_INIT;

	cr_assert_eq(lmd_packer_new(s, &p), 0);
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(lmd_packer_put(p, small[i].type, &small[i].id, small[i].data, small[i].len), 0);
	e = (lmd_blk_entry){ big[0].id, (uint32_t)big[0].len, LMD_OBJ_DATA };
	cr_assert_eq(lmd_block_encode(&e, 1, big[0].data, (uint32_t)big[0].len, NULL, &enc), 0);
	cr_assert_eq(lmd_packer_add_encoded(p, enc.ptr, enc.len), 0);   /* over pack_target: sealed */
	cr_assert_eq(lmd_store_pack_count(s), 1, "the big block should have sealed a pack");
	cr_assert(lmd_store_has(s, &big[0].id, LMD_OBJ_DATA));
	for (size_t i = 0; i < 3; i++)
		cr_assert(lmd_store_has(s, &small[i].id, small[i].type),
			  "object %zu, put but not yet flushed, became invisible when the pack was sealed", i);
	cr_assert_eq(lmd_packer_finish(p), 0);
	lmd_packer_free(p);
	lmd_store_free(s);
	s = open_store(&o);
	check_all(s, small, 3);
	check_all(s, big, 1);
	lmd_store_free(s);
	lmd_buf_release(&enc);
	free_objs(small, 3);
	free_objs(big, 1);
}

/* ---- seeded random damage ---- */

Test(store, random_pack_damage_never_returns_wrong_bytes)
{
	size_t n = 40;
	obj *v = make_objs(19, n, 10, 4000, 2);
	lmd_store_opts o = { 1, 16u << 10, 32ull << 20 };
	lmd_store *s = open_store(&o);
	lmd_buf out = LMD_BUF_INIT;
	t_rng r = { 23 };
	char *pack;
	struct stat st;

	put_all(s, v, n);
	cr_assert_eq(lmd_store_pack_count(s), 1);
	pack = pack_file(s, 0, "pack");
	lmd_store_free(s);
	cr_assert_eq(stat(pack, &st), 0);
	for (int it = 0; it < 60; it++) {
		uint64_t off = t_rand(&r) % (uint64_t)st.st_size;
		struct bad_log log = { 0 };
		int bad = 0, vr;
		flip_byte(pack, off);
		s = open_store(&o);
		for (size_t i = 0; i < n; i++) {
			int rc = lmd_store_get(s, &v[i].id, LMD_OBJ_DATA, &out);
			cr_assert(rc == 0 || rc == LMD_ECORRUPT, "byte %llu flipped, object %zu: %d",
				  (unsigned long long)off, i, rc);
			if (rc == 0) {
				cr_assert_eq(out.len, v[i].len);
				cr_assert_arr_eq(out.ptr, v[i].data, v[i].len, "byte %llu flipped: object %zu returned wrong bytes",
						 (unsigned long long)off, i);
			}
			bad += rc < 0;
		}
		vr = verify(s, &log);
		cr_assert_eq(vr, 1, "byte %llu flipped: verify_pack returned %d", (unsigned long long)off, vr);
		cr_assert_geq(log.pack_level, 1);
		cr_assert_geq(log.objects, bad ? 1 : 0, "byte %llu flipped: %d objects unreadable but none reported",
			      (unsigned long long)off, bad);
		lmd_store_free(s);
		flip_byte(pack, off);
	}
	lmd_buf_release(&out);
	free(pack);
	free_objs(v, n);
}

Test(block, mutated_blocks_decode_or_are_rejected)
{
	t_rng r = { 24 };
	uint8_t raw[6000];
	lmd_blk_entry e[3];
	lmd_buf enc[2] = { LMD_BUF_INIT, LMD_BUF_INIT };
	lmd_zctx *z;

	cr_assert_eq(lmd_zctx_new(1, &z), 0);
	for (int k = 0; k < 2; k++) {
		if (k)
			t_fill(&r, raw, sizeof(raw));
		else
			t_fill_text(&r, raw, sizeof(raw));
		e[0] = (lmd_blk_entry){ { { 1 } }, 1000, LMD_OBJ_DATA };
		e[1] = (lmd_blk_entry){ { { 2 } }, 2000, LMD_OBJ_TREE };
		e[2] = (lmd_blk_entry){ { { 3 } }, 3000, LMD_OBJ_FILE };
		cr_assert_eq(lmd_block_encode(e, 3, raw, sizeof(raw), z, &enc[k]), 0);
	}
	cr_assert_eq(lmd_get_le32(enc[0].ptr + 4), LMD_BLOCK_COMPRESSED);
	cr_assert_eq(lmd_get_le32(enc[1].ptr + 4), 0);
	for (int it = 0; it < 20000; it++) {
		const lmd_buf *src = &enc[it % 2];
		uint8_t *b = malloc(src->len);
		size_t len = src->len;
		lmd_block blk;
		int rc;
		cr_assert_not_null(b);
		memcpy(b, src->ptr, len);
		switch (t_rand(&r) % 3) {
		case 0: b[t_rand(&r) % len] ^= (uint8_t)(1u << (t_rand(&r) % 8)); break;
		case 1: len = (size_t)(t_rand(&r) % len); break;
		default: b[t_rand(&r) % LMD_MIN(len, (size_t)(LMD_BLOCK_HDR + 3 * LMD_BLOCK_ENTRY + 16))] = (uint8_t)t_rand(&r); break;
		}
		rc = lmd_block_decode(b, len, z, &blk);
		cr_assert(rc == 0 || rc == LMD_ECORRUPT, "iteration %d: %d", it, rc);
		if (rc == 0) {
			uint64_t sum = 0;
			for (uint32_t i = 0; i < blk.count; i++)
				sum += blk.entries[i].len;
			cr_assert_eq(sum, blk.raw_len);
			lmd_block_release(&blk);
		}
		free(b);
	}
	lmd_zctx_free(z);
	lmd_buf_release(&enc[0]);
	lmd_buf_release(&enc[1]);
}
