/*
 * The remote pack index (sync_ridx.c): listing complete and partial packs,
 * loading, verifying and caching index files, finding objects; and the
 * index checks that keep a damaged index from being used.
 */
#include "testutil.h"

#include "hash.h"
#include "sync_int.h"

static void setup(void) { t_mktemp(); }

/* "<t_dir>/<name>", malloc'd. */
static char *tpath(const char *name)
{
	char *s = lmd_asprintf("%s/%s", t_dir, name);
	cr_assert_not_null(s);
	return s;
}
static void teardown(void)
{
	char *cmd = lmd_asprintf("rm -rf '%s'", t_dir);
	if (cmd && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", t_dir);
	free(cmd);
}
TestSuite(ridx, .init = setup, .fini = teardown);

/* A store with n small DATA objects in one sealed pack; returns the pack id. */
static lmd_oid make_store(const char *dir, lmd_oid *ids, int n)
{
	lmd_store *s;
	lmd_packer *p;
	t_rng rng = { 7 };
	cr_assert_eq(lmd_store_open(dir, NULL, &s), 0, "%s", lmd_error_last());
	cr_assert_eq(lmd_packer_new(s, &p), 0);
	for (int i = 0; i < n; i++) {
		uint8_t buf[1000];
		t_fill(&rng, buf, sizeof(buf));
		cr_assert_eq(lmd_sha256_buf(buf, sizeof(buf), &ids[i]), 0);
		cr_assert_eq(lmd_packer_put(p, LMD_OBJ_DATA, &ids[i], buf, sizeof(buf)), 0);
	}
	cr_assert_eq(lmd_packer_finish(p), 0, "%s", lmd_error_last());
	lmd_packer_free(p);
	cr_assert_eq(lmd_store_pack_count(s), 1);
	lmd_oid pid = *lmd_store_pack_id(s, 0);
	lmd_store_free(s);
	return pid;
}

static lmd_backend *open_remote(const char *dir)
{
	lmd_remote_config c = { .url = dir };
	lmd_backend *b;
	mkdir(dir, 0755);
	cr_assert_eq(lmd_backend_open(&c, &b), 0, "%s", lmd_error_last());
	return b;
}

static void upload(lmd_backend *b, const char *store, const lmd_oid *pid, const char *ext)
{
	char hex[LMD_OID_HEXSZ + 1], key[128], path[4096];
	lmd_oid_fmt(hex, pid);
	snprintf(key, sizeof(key), "packs/%s.%s", hex, ext);
	snprintf(path, sizeof(path), "%s/packs/%s.%s", store, hex, ext);
	cr_assert_eq(lmd_backend_put_file(b, key, path), 0, "%s", lmd_error_last());
}

Test(ridx, list_load_find)
{
	char *store = tpath("store"), *remote = tpath("remote"), *cache = tpath("cache");
	lmd_oid ids[50], other;
	lmd_ridx ri = { 0 };
	lmd_loc loc;
	size_t rp;

	lmd_oid pid = make_store(store, ids, 50);
	lmd_backend *b = open_remote(remote);
	upload(b, store, &pid, "pack");

	/* A pack without its index is an interrupted push, not a complete pack. */
	cr_assert_eq(lmd__ridx_list(b, &ri), 0, "%s", lmd_error_last());
	cr_assert_eq(ri.n, 0);
	cr_assert_eq(ri.npartial, 1);
	lmd__ridx_release(&ri);

	upload(b, store, &pid, "idx");
	cr_assert_eq(lmd__ridx_list(b, &ri), 0);
	cr_assert_eq(ri.n, 1);
	cr_assert(lmd__ridx_has_pack(&ri, &pid));
	cr_assert_eq(lmd__ridx_load(b, &ri, cache, 2), 0, "%s", lmd_error_last());
	for (int i = 0; i < 50; i++) {
		cr_assert_eq(lmd__ridx_find(&ri, &ids[i], LMD_OBJ_DATA, &rp, &loc), 0);
		cr_assert_eq(rp, 0);
		cr_assert_eq(loc.len, 1000);
		cr_assert_eq(lmd__ridx_find_in(&ri, 0, &ids[i], 0, &loc), 0);
	}
	cr_assert_eq(lmd__ridx_find(&ri, &ids[0], LMD_OBJ_TREE, NULL, NULL), LMD_EMISSING);
	memset(&other, 0xab, sizeof(other));
	cr_assert_eq(lmd__ridx_find(&ri, &other, 0, NULL, NULL), LMD_EMISSING);
	lmd__ridx_release(&ri);

	/* The index is cached: loading again works with the remote's copy gone. */
	char hex[LMD_OID_HEXSZ + 1], key[128];
	lmd_oid_fmt(hex, &pid);
	snprintf(key, sizeof(key), "packs/%s.idx", hex);
	cr_assert_eq(lmd__ridx_list(b, &ri), 0);
	cr_assert_eq(lmd_backend_delete(b, key), 0);
	cr_assert_eq(lmd__ridx_load(b, &ri, cache, 2), 0, "%s", lmd_error_last());
	cr_assert_eq(ri.requests, 1, "only the listing was asked for");
	cr_assert_eq(lmd__ridx_find(&ri, &ids[7], 0, NULL, NULL), 0);
	lmd__ridx_release(&ri);
	lmd_backend_free(b);
	free(store);
	free(remote);
	free(cache);
}

Test(ridx, damaged_index_is_refused)
{
	char *store = tpath("store"), path[4096], hex[LMD_OID_HEXSZ + 1];
	lmd_oid ids[10], wrong;
	lmd_buf buf = LMD_BUF_INIT;

	lmd_oid pid = make_store(store, ids, 10);
	lmd_oid_fmt(hex, &pid);
	snprintf(path, sizeof(path), "%s/packs/%s.idx", store, hex);
	cr_assert_eq(lmd_read_file(path, 1 << 20, &buf), 0);
	cr_assert_eq(lmd__idx_check(buf.ptr, buf.len, &pid), 0);

	memset(&wrong, 1, sizeof(wrong));
	cr_assert_eq(lmd__idx_check(buf.ptr, buf.len, &wrong), LMD_ECORRUPT, "another pack's index");
	cr_assert_eq(lmd__idx_check(buf.ptr, buf.len - 1, &pid), LMD_ECORRUPT, "truncated");
	cr_assert_eq(lmd__idx_check(buf.ptr, 10, &pid), LMD_ECORRUPT, "tiny");
	for (size_t at = 0; at < buf.len; at += 97) {
		buf.ptr[at] ^= 0x20;
		cr_assert_eq(lmd__idx_check(buf.ptr, buf.len, &pid), LMD_ECORRUPT, "flip at %zu", at);
		buf.ptr[at] ^= 0x20;
	}
	lmd_buf_release(&buf);
	free(store);
}

/* A damaged index does not stop the load: its pack counts as partial (its
 * objects absent), is named in ri.damaged, and the index is not cached. */
Test(ridx, damaged_remote_index_sets_its_pack_aside)
{
	char *store = tpath("store"), *remote = tpath("remote"), *cache = tpath("cache");
	char hex[LMD_OID_HEXSZ + 1], key[128], path[4096];
	lmd_oid ids[10];
	lmd_ridx ri = { 0 };
	lmd_buf buf = LMD_BUF_INIT;

	lmd_oid pid = make_store(store, ids, 10);
	lmd_backend *b = open_remote(remote);
	upload(b, store, &pid, "pack");
	lmd_oid_fmt(hex, &pid);
	snprintf(path, sizeof(path), "%s/packs/%s.idx", store, hex);
	cr_assert_eq(lmd_read_file(path, 1 << 20, &buf), 0);
	buf.ptr[LMD_IDX_HDR + LMD_IDX_FANOUT + 3] ^= 1;
	snprintf(key, sizeof(key), "packs/%s.idx", hex);
	cr_assert_eq(lmd_backend_put_buf(b, key, buf.ptr, buf.len), 0);
	cr_assert_eq(lmd__ridx_list(b, &ri), 0);
	cr_assert_eq(ri.n, 1);
	cr_assert_eq(lmd__ridx_load(b, &ri, cache, 1), 0, "%s", lmd_error_last());
	cr_assert_eq(ri.n, 0, "the pack is no longer complete");
	cr_assert_eq(ri.ndamaged, 1);
	cr_assert_eq(lmd_oid_cmp(&ri.damaged[0], &pid), 0);
	cr_assert_eq(ri.npartial, 1);
	cr_assert_eq(lmd_oid_cmp(&ri.partial[0], &pid), 0);
	cr_assert_gt(ri.partial_size[0], 0);
	cr_assert(!lmd__ridx_has_pack(&ri, &pid));
	cr_assert_eq(lmd__ridx_find(&ri, &ids[0], 0, NULL, NULL), LMD_EMISSING);
	cr_assert_eq(t_count_entries(cache), 0, "a damaged index is not cached");
	lmd__ridx_release(&ri);
	lmd_backend_free(b);
	lmd_buf_release(&buf);
	free(store);
	free(remote);
	free(cache);
}

/*
 * Many packs: once lookups have cost enough, they go through one merged
 * table of every pack's entries, and find the same objects (one id in two
 * packs included) with the same locations as the search pack by pack.
 */
Test(ridx, many_packs_merge)
{
	enum { NP = 24, PER = 12 };
	char *store = tpath("store"), *remote = tpath("remote"), *cache = tpath("cache");
	lmd_oid ids[NP][PER], pids[NP], other;
	uint8_t buf[NP][PER][300];
	lmd_ridx ri = { 0 };
	lmd_store *s;
	t_rng rng = { 11 };

	cr_assert_eq(lmd_store_open(store, NULL, &s), 0, "%s", lmd_error_last());
	for (int p = 0; p < NP; p++) {
		lmd_packer *pk;
		cr_assert_eq(lmd_packer_new(s, &pk), 0);
		for (int i = 0; i < PER; i++) {
			/* pack 17's first object is pack 5's first object again */
			if (p == 17 && i == 0)
				memcpy(buf[p][i], buf[5][0], sizeof(buf[p][i]));
			else
				t_fill(&rng, buf[p][i], sizeof(buf[p][i]));
			cr_assert_eq(lmd_sha256_buf(buf[p][i], sizeof(buf[p][i]), &ids[p][i]), 0);
			cr_assert_eq(lmd_packer_put(pk, LMD_OBJ_DATA, &ids[p][i], buf[p][i], sizeof(buf[p][i])), 0);
		}
		cr_assert_eq(lmd_packer_finish(pk), 0, "%s", lmd_error_last());
		lmd_packer_free(pk);
	}
	cr_assert_eq(lmd_store_refresh(s), 0);
	cr_assert_eq(lmd_store_pack_count(s), NP);
	for (int p = 0; p < NP; p++)
		pids[p] = *lmd_store_pack_id(s, (uint32_t)p);
	lmd_store_free(s);

	lmd_backend *b = open_remote(remote);
	for (int p = 0; p < NP; p++) {
		upload(b, store, &pids[p], "pack");
		upload(b, store, &pids[p], "idx");
	}
	cr_assert_eq(lmd__ridx_list(b, &ri), 0, "%s", lmd_error_last());
	cr_assert_eq(ri.n, NP);
	cr_assert_eq(lmd__ridx_load(b, &ri, cache, 2), 0, "%s", lmd_error_last());

	memset(&other, 0xab, sizeof(other));
	for (int round = 0; round < 3; round++) {
		for (int p = 0; p < NP; p++)
			for (int i = 0; i < PER; i++) {
				size_t rp = SIZE_MAX;
				lmd_loc loc, in;
				cr_assert_eq(lmd__ridx_find(&ri, &ids[p][i], LMD_OBJ_DATA, &rp, &loc), 0,
					     "round %d pack %d object %d", round, p, i);
				cr_assert_lt(rp, (size_t)NP);
				cr_assert_eq(loc.len, 300);
				cr_assert_eq(loc.pack, rp);
				/* the pack named holds it, where it says */
				cr_assert_eq(lmd__ridx_find_in(&ri, rp, &ids[p][i], LMD_OBJ_DATA, &in), 0);
				cr_assert_eq(in.block_off, loc.block_off);
				cr_assert_eq(in.raw_off, loc.raw_off);
				cr_assert_eq(lmd__ridx_find(&ri, &ids[p][i], LMD_OBJ_TREE, NULL, NULL), LMD_EMISSING);
			}
		cr_assert_eq(lmd__ridx_find(&ri, &other, 0, NULL, NULL), LMD_EMISSING);
		/* 288 entries in 24 packs: merged during the first round */
		cr_assert_eq(ri.merged != NULL, true, "round %d: no merged table", round);
	}
	cr_assert_eq(ri.merge_failed, false);
	lmd__ridx_release(&ri);

	/* Fewer lookups than it would cost: pack by pack, no table. */
	cr_assert_eq(lmd__ridx_list(b, &ri), 0);
	cr_assert_eq(lmd__ridx_load(b, &ri, cache, 2), 0, "%s", lmd_error_last());
	for (int i = 0; i < 5; i++)
		cr_assert_eq(lmd__ridx_find(&ri, &ids[i][0], 0, NULL, NULL), 0);
	cr_assert_null(ri.merged);
	lmd__ridx_release(&ri);
	lmd_backend_free(b);
	free(store);
	free(remote);
	free(cache);
}
