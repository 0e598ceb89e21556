/*
 * A store of many packs: multi-pack indexes (midx.c) built by
 * lmd__store_maintain, found again after a reopen, retired when a pack
 * they name is removed, ignored when damaged (and found by the check
 * fsck runs); and pack files read under a descriptor limit far below the
 * number of packs.  Each test works in its own temporary folder.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compress.h"
#include "hash.h"
#include "pack.h"
#include "store.h"
#include "testutil.h"

TestSuite(midx, .init = t_mktemp, .fini = t_cleanup);

typedef struct obj {
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

/* Small packs: about one 16 KiB block each. */
static const lmd_store_opts small_packs = { 1, 16u << 10, 8u << 10 };

static lmd_store *open_store(void)
{
	lmd_store *s = NULL;
	int r = lmd_store_open(store_dir(), &small_packs, &s);
	cr_assert_eq(r, 0, "lmd_store_open: %d %s", r, lmd_error_last());
	return s;
}

static obj *make_objs(uint64_t seed, size_t n)
{
	t_rng r = { seed };
	obj *v = calloc(n, sizeof(*v));
	cr_assert_not_null(v);
	for (size_t i = 0; i < n; i++) {
		v[i].len = 3000 + (size_t)(t_rand(&r) % 3000);
		v[i].data = malloc(v[i].len);
		cr_assert_not_null(v[i].data);
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

static void put_all(lmd_store *s, const obj *v, size_t n)
{
	lmd_packer *p = NULL;
	cr_assert_eq(lmd_packer_new(s, &p), 0, "%s", lmd_error_last());
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(lmd_packer_put(p, LMD_OBJ_DATA, &v[i].id, v[i].data, v[i].len), 0, "%s",
			     lmd_error_last());
	cr_assert_eq(lmd_packer_finish(p), 0, "finish: %s", lmd_error_last());
	lmd_packer_free(p);
}

static void check_all(lmd_store *s, const obj *v, size_t n)
{
	lmd_buf out = LMD_BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		int r = lmd_store_get(s, &v[i].id, LMD_OBJ_DATA, &out);
		cr_assert_eq(r, 0, "get %zu: %d %s", i, r, lmd_error_last());
		cr_assert_eq(out.len, v[i].len);
		cr_assert_arr_eq(out.ptr, v[i].data, v[i].len, "object %zu differs", i);
	}
	lmd_buf_release(&out);
}

/* Files in the packs folder ending in ext; the last one's path in *last. */
static unsigned count_files(const char *ext, char *last, size_t lastsz)
{
	char dir[320];
	unsigned n = 0;
	DIR *d;
	struct dirent *de;
	snprintf(dir, sizeof(dir), "%s/packs", store_dir());
	d = opendir(dir);
	cr_assert_not_null(d);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name), e = strlen(ext);
		if (l > e && !strcmp(de->d_name + l - e, ext) && !strstr(de->d_name, ".lmdtmp.")) {
			n++;
			if (last)
				snprintf(last, lastsz, "%s/%s", dir, de->d_name);
		}
	}
	closedir(d);
	return n;
}

static int count_cb(const lmd_oid *id, const lmd_loc *loc, void *payload)
{
	(void)id;
	(void)loc;
	(*(size_t *)payload)++;
	return 0;
}

static void no_bad(const char *path, bool removed, void *payload)
{
	(void)removed;
	(void)payload;
	cr_assert_fail("layer '%s' reported damaged", path);
}

static void count_bad(const char *path, bool removed, void *payload)
{
	(void)path;
	cr_assert(removed);
	(*(int *)payload)++;
}

Test(midx, many_packs_get_few_layers)
{
	enum { ROUNDS = 12, PER = 120 };
	obj *v = make_objs(1, ROUNDS * PER);
	unsigned packs, layers;

	/* Each round is one writer: about 20 new packs, then maintenance. */
	for (int round = 0; round < ROUNDS; round++) {
		lmd_store *s = open_store();
		put_all(s, v + round * PER, PER);
		cr_assert_eq(lmd__store_maintain(s), 0, "maintain: %s", lmd_error_last());
		lmd_store_free(s);
	}
	packs = count_files(".pack", NULL, 0);
	layers = count_files(".midx", NULL, 0);
	cr_assert_geq(packs, 300u, "%u packs: the test wants many", packs);
	/* Sizes double from layer to layer: about log2(rounds) of them. */
	cr_assert(layers >= 1 && layers <= 5, "%u multi-pack indexes for %u packs", layers, packs);

	lmd_store *s = open_store();
	check_all(s, v, ROUNDS * PER);
	cr_assert_eq(lmd_store_pack_count(s), packs);
	/* Walking the packs' entries maps their own indexes on demand. */
	{
		size_t total = 0;
		for (uint32_t p = 0; p < lmd_store_pack_count(s); p++) {
			cr_assert_gt(lmd_store_pack_size(s, p), 0);
			cr_assert_gt(lmd_store_pack_mtime(s, p), 0);
		}
		cr_assert_eq(lmd_store_foreach(s, count_cb, &total), 0, "%s", lmd_error_last());
		cr_assert_eq(total, (size_t)ROUNDS * PER);
	}
	cr_assert_eq(lmd__store_check_midx(s, false, no_bad, NULL), 0, "a fresh layer fails its checksum");
	lmd_store_free(s);
	free_objs(v, ROUNDS * PER);
}

/* Build one layer over `rounds` writers' packs; return the objects. */
static obj *layered_store(size_t n)
{
	obj *v = make_objs(7, n);
	lmd_store *s = open_store();
	put_all(s, v, n);
	cr_assert_eq(lmd__store_maintain(s), 0, "maintain: %s", lmd_error_last());
	lmd_store_free(s);
	cr_assert_eq(count_files(".midx", NULL, 0), 1u);
	return v;
}

Test(midx, removed_pack_retires_its_layer)
{
	enum { N = 150 };
	obj *v = layered_store(N);
	char idx[400], pack[400], layer[400];
	lmd_loc loc;
	lmd_store *s = open_store();
	uint32_t gone;

	/* Remove the pack holding object 0, as gc would. */
	cr_assert_eq(lmd_store_find(s, &v[0].id, LMD_OBJ_DATA, &loc), 0);
	gone = loc.pack;
	{
		char hex[LMD_OID_HEXSZ + 1];
		lmd_oid_fmt(hex, lmd_store_pack_id(s, gone));
		snprintf(idx, sizeof(idx), "%s/packs/%s.idx", store_dir(), hex);
		snprintf(pack, sizeof(pack), "%s/packs/%s.pack", store_dir(), hex);
	}
	lmd_store_free(s);
	cr_assert_eq(unlink(idx), 0);
	cr_assert_eq(unlink(pack), 0);

	/* The layer names a missing pack: not used; every other pack is
	 * searched through its own index. */
	s = open_store();
	cr_assert_neq(lmd_store_find(s, &v[0].id, LMD_OBJ_DATA, NULL), 0, "object of a removed pack still found");
	{
		lmd_buf out = LMD_BUF_INIT;
		size_t found = 0;
		for (size_t i = 0; i < N; i++)
			if (lmd_store_get(s, &v[i].id, LMD_OBJ_DATA, &out) == 0) {
				cr_assert_arr_eq(out.ptr, v[i].data, v[i].len);
				found++;
			}
		lmd_error_clear();
		cr_assert_geq(found, (size_t)N - 6, "%zu of %d objects found", found, N);
		lmd_buf_release(&out);
	}
	/* Maintenance after a removal replaces the layer. */
	count_files(".midx", layer, sizeof(layer));
	lmd__store_packs_removed(s);
	cr_assert_eq(lmd__store_maintain(s), 0, "%s", lmd_error_last());
	lmd_store_free(s);
	{
		char now[400];
		cr_assert_eq(count_files(".midx", now, sizeof(now)), 1u);
		cr_assert_str_neq(now, layer, "the stale layer is still there");
	}
	free_objs(v, N);
}

Test(midx, damaged_layer_is_found_and_removed)
{
	enum { N = 150 };
	obj *v = layered_store(N);
	char layer[400];
	int fd, removed = 0;
	uint8_t b;
	lmd_store *s;

	count_files(".midx", layer, sizeof(layer));
	chmod(layer, 0644);
	fd = open(layer, O_RDWR);
	cr_assert_geq(fd, 0);
	/* A bit of an entry's id: lookups through it go wrong. */
	cr_assert_eq(pread(fd, &b, 1, LMD_IDX_HDR + LMD_IDX_FANOUT + 5), 1);
	b ^= 0x10;
	cr_assert_eq(pwrite(fd, &b, 1, LMD_IDX_HDR + LMD_IDX_FANOUT + 5), 1);
	close(fd);

	s = open_store();
	cr_assert_eq(lmd__store_check_midx(s, true, count_bad, &removed), 1);
	cr_assert_eq(removed, 1);
	lmd_store_free(s);
	cr_assert_eq(count_files(".midx", NULL, 0), 0u);
	s = open_store();
	check_all(s, v, N);
	lmd_store_free(s);
	free_objs(v, N);
}

Test(midx, truncated_layer_is_not_used)
{
	enum { N = 150 };
	obj *v = layered_store(N);
	char layer[400];
	lmd_store *s;

	count_files(".midx", layer, sizeof(layer));
	chmod(layer, 0644);
	cr_assert_eq(truncate(layer, 100), 0);
	s = open_store();
	check_all(s, v, N);
	/* The writer's maintenance deletes it and builds a good one. */
	cr_assert_eq(lmd__store_maintain(s), 0);
	lmd_store_free(s);
	{
		unsigned n = count_files(".midx", layer, sizeof(layer));
		cr_assert_eq(n, 1u, "%u layers, last %s", n, layer);
	}
	s = open_store();
	check_all(s, v, N);
	cr_assert_eq(lmd__store_check_midx(s, false, no_bad, NULL), 0);
	lmd_store_free(s);
	free_objs(v, N);
}

/* More packs than descriptors: packs are opened on demand and the least
 * recently used closed. */
Test(midx, reads_under_a_low_descriptor_limit)
{
	enum { N = 500 };
	obj *v = make_objs(3, N);
	struct rlimit rl;
	lmd_store *s = open_store();
	unsigned packs;

	put_all(s, v, N);
	lmd_store_free(s);
	packs = count_files(".pack", NULL, 0);
	cr_assert_geq(packs, 100u);
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = 48;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	s = open_store();
	/* Twice, out of order, so that closed packs are opened again. */
	check_all(s, v, N);
	for (size_t i = N; i-- > 0;) {
		lmd_buf out = LMD_BUF_INIT;
		cr_assert_eq(lmd_store_get(s, &v[i].id, LMD_OBJ_DATA, &out), 0, "%s", lmd_error_last());
		lmd_buf_release(&out);
	}
	{
		lmd_zctx *z = NULL;
		cr_assert_eq(lmd_zctx_new(1, &z), 0);
		for (uint32_t p = 0; p < lmd_store_pack_count(s); p++)
			cr_assert_eq(lmd_store_verify_pack(s, p, z, NULL, NULL, NULL), 0, "pack %u: %s", p,
				     lmd_error_last());
		lmd_zctx_free(z);
	}
	lmd_store_free(s);
	free_objs(v, N);
}

/*
 * One long write (one packer, hundreds of packs): the store indexes the
 * packs it seals as it goes and uses those layers at once, so at no point
 * are more than a few dozen packs searched one by one; every object is
 * found all along, with its bytes, before and after a reopen.
 */
Test(midx, long_write_indexes_as_it_goes)
{
	enum { N = 900 };
	obj *v = make_objs(21, N);
	lmd_store *s = open_store();
	lmd_packer *p = NULL;
	unsigned layers;

	cr_assert_eq(lmd_packer_new(s, &p), 0, "%s", lmd_error_last());
	for (size_t i = 0; i < N; i++) {
		cr_assert_eq(lmd_packer_put(p, LMD_OBJ_DATA, &v[i].id, v[i].data, v[i].len), 0, "%s",
			     lmd_error_last());
		/* never a backlog of packs without an index */
		cr_assert(!lmd__store_wants_layer(s) || i % 50 != 49, "object %zu: packs not indexed", i);
		if (i % 150 == 149)
			for (size_t k = 0; k <= i; k++)
				cr_assert(lmd_store_has(s, &v[k].id, LMD_OBJ_DATA), "object %zu lost at %zu", k, i);
	}
	cr_assert_eq(lmd_packer_finish(p), 0, "finish: %s", lmd_error_last());
	lmd_packer_free(p);
	cr_assert(!lmd__store_wants_layer(s), "packs left without an index");
	check_all(s, v, N);
	layers = count_files(".midx", NULL, 0);
	cr_assert(layers >= 1 && layers <= 6, "%u multi-pack indexes for %u packs", layers,
		  count_files(".pack", NULL, 0));
	cr_assert_geq(count_files(".pack", NULL, 0), 200u, "the test wants many packs");
	cr_assert_eq(lmd__store_maintain(s), 0, "maintain: %s", lmd_error_last());
	lmd_store_free(s);

	s = open_store();
	check_all(s, v, N);
	cr_assert_eq(lmd__store_check_midx(s, false, no_bad, NULL), 0);
	{
		size_t total = 0;
		cr_assert_eq(lmd_store_foreach(s, count_cb, &total), 0, "%s", lmd_error_last());
		cr_assert_eq(total, (size_t)N);
	}
	lmd_store_free(s);
	free_objs(v, N);
}
