/*
 * The external id set (idspill.h): the same answers whether it stays in
 * memory or spills sorted runs to disk and merges them; duplicates
 * counted once; no file left behind; foreach visits each distinct id
 * once, in order, before and after finish; many runs keep few files open.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "idspill.h"
#include "oidset.h"
#include "testutil.h"

TestSuite(idspill, .init = t_mktemp, .fini = t_cleanup);

static void random_id(t_rng *r, lmd_oid *id)
{
	t_fill(r, id->id, sizeof(id->id));
}

static unsigned files_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned n = 0;
	cr_assert_not_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.' || strncmp(de->d_name, ".lmd-ids-", 9) == 0;
	closedir(d);
	return n;
}

/* n ids, each added `dup` times in a scattered order; check every one
 * and as many absent ones. */
static void check_set(size_t buf_ids, size_t n, int dup, unsigned min_runs)
{
	t_rng r = { 42 + n };
	lmd_oid *ids = calloc(n ? n : 1, sizeof(*ids));
	lmd_idspill *s = NULL;
	lmd_oidset ref = { 0 };

	cr_assert_not_null(ids);
	for (size_t i = 0; i < n; i++) {
		random_id(&r, &ids[i]);
		/* ids sharing their first two bytes: the prefix table's edges */
		if (i % 7 == 0)
			ids[i].id[0] = ids[i].id[1] = 0;
		if (i % 11 == 0)
			ids[i].id[0] = ids[i].id[1] = 0xff;
		lmd_oidset_add(&ref, &ids[i]);
	}
	cr_assert_eq(lmd_idspill_new(t_dir, buf_ids, &s), 0, "%s", lmd_error_last());
	for (int d = 0; d < dup; d++)
		for (size_t i = 0; i < n; i++)
			cr_assert_eq(lmd_idspill_add(s, &ids[(i * 7919 + (size_t)d * 13) % n]), 0, "%s", lmd_error_last());
	cr_assert_eq(lmd_idspill_finish(s), 0, "%s", lmd_error_last());
	cr_assert_geq(lmd_idspill_runs(s), min_runs, "%u runs", lmd_idspill_runs(s));
	cr_assert_eq(lmd_idspill_count(s), ref.n, "%llu ids, %zu distinct added",
		     (unsigned long long)lmd_idspill_count(s), ref.n);
	for (size_t i = 0; i < n; i++)
		cr_assert(lmd_idspill_has(s, &ids[i]), "id %zu missing", i);
	for (size_t i = 0; i < n + 100; i++) {
		lmd_oid x;
		random_id(&r, &x);
		if (i % 3 == 0)
			x.id[0] = x.id[1] = 0;
		cr_assert_eq(lmd_idspill_has(s, &x), lmd_oidset_has(&ref, &x));
	}
	/* The runs are unlinked from the start: nothing in the folder. */
	cr_assert_eq(files_in(t_dir), 0u);
	lmd_idspill_free(s);
	lmd_oidset_release(&ref);
	free(ids);
}

Test(idspill, empty)
{
	check_set(16, 0, 1, 0);
}

Test(idspill, in_memory)
{
	check_set(0, 5000, 3, 0);
}

Test(idspill, spilled_runs_merge)
{
	/* 64-id buffer, 20,000 ids each added 3 times: hundreds of runs. */
	check_set(64, 20000, 3, 100);
}

Test(idspill, duplicates_do_not_spill)
{
	/* 100 distinct ids added 50 times through a 256-id buffer: they fit
	 * once deduplicated, so no run is written. */
	check_set(256, 100, 50, 0);
	lmd_idspill *s = NULL;
	t_rng r = { 9 };
	lmd_oid few[100];
	for (int i = 0; i < 100; i++)
		random_id(&r, &few[i]);
	cr_assert_eq(lmd_idspill_new(t_dir, 256, &s), 0);
	for (int k = 0; k < 50; k++)
		for (int i = 0; i < 100; i++)
			cr_assert_eq(lmd_idspill_add(s, &few[i]), 0);
	cr_assert_eq(lmd_idspill_finish(s), 0);
	cr_assert_eq(lmd_idspill_runs(s), 0u);
	cr_assert_eq(lmd_idspill_count(s), 100u);
	lmd_idspill_free(s);
}

/* foreach's visits: in strictly increasing order, each in ref. */
struct walk {
	const lmd_oidset *ref;
	lmd_oid last;
	uint64_t n;
	int stop_at;
};

static int walk_one(const lmd_oid *id, void *payload)
{
	struct walk *w = payload;
	if (w->n)
		cr_assert_lt(memcmp(&w->last, id, sizeof(*id)), 0, "ids out of order or repeated");
	cr_assert(lmd_oidset_has(w->ref, id), "an id that was never added");
	w->last = *id;
	w->n++;
	return w->stop_at && w->n == (uint64_t)w->stop_at ? -ECANCELED : 0;
}

static uint64_t walk_count(lmd_idspill *s, const lmd_oidset *ref)
{
	struct walk w = { .ref = ref };
	cr_assert_eq(lmd_idspill_foreach(s, walk_one, &w), 0, "%s", lmd_error_last());
	return w.n;
}

static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	unsigned n = 0;
	cr_assert_not_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

Test(idspill, foreach_before_and_after_finish)
{
	/* 8,000 ids each added twice through a 16-id buffer: about a
	 * thousand runs, merged into one every 64 as they come. */
	t_rng r = { 77 };
	size_t n = 8000;
	lmd_oid *ids = calloc(n, sizeof(*ids));
	lmd_oidset ref = { 0 };
	lmd_idspill *s = NULL;
	unsigned fds0 = open_fds();

	cr_assert_not_null(ids);
	for (size_t i = 0; i < n; i++)
		random_id(&r, &ids[i]);
	cr_assert_eq(lmd_idspill_new(t_dir, 16, &s), 0);
	/* Empty: nothing visited. */
	cr_assert_eq(walk_count(s, &ref), 0u);
	for (size_t i = 0; i < n / 2; i++) {
		lmd_oidset_add(&ref, &ids[i]);
		cr_assert_eq(lmd_idspill_add(s, &ids[i]), 0);
		cr_assert_eq(lmd_idspill_add(s, &ids[(i * 31) % (i + 1)]), 0);
	}
	cr_assert_geq(lmd_idspill_runs(s), 100u);
	cr_assert_leq(open_fds(), fds0 + 64, "%u files open", open_fds() - fds0);
	/* Halfway: the distinct ids so far; the set is left usable... */
	cr_assert_eq(walk_count(s, &ref), ref.n);
	{
		struct walk w = { .ref = &ref, .stop_at = 10 };
		cr_assert_eq(lmd_idspill_foreach(s, walk_one, &w), -ECANCELED);
		cr_assert_eq(w.n, 10u);
	}
	/* ...for more ids. */
	for (size_t i = n / 2; i < n; i++) {
		lmd_oidset_add(&ref, &ids[i]);
		cr_assert_eq(lmd_idspill_add(s, &ids[i]), 0);
		cr_assert_eq(lmd_idspill_add(s, &ids[n - 1 - i]), 0);
	}
	cr_assert_leq(open_fds(), fds0 + 64, "%u files open", open_fds() - fds0);
	cr_assert_eq(walk_count(s, &ref), ref.n);
	cr_assert_eq(ref.n, n);
	cr_assert_eq(lmd_idspill_finish(s), 0, "%s", lmd_error_last());
	cr_assert_eq(lmd_idspill_count(s), n);
	cr_assert_eq(walk_count(s, &ref), n);
	for (size_t i = 0; i < n; i++)
		cr_assert(lmd_idspill_has(s, &ids[i]), "id %zu missing", i);
	cr_assert_eq(files_in(t_dir), 0u);
	lmd_idspill_free(s);
	cr_assert_eq(open_fds(), fds0, "files left open");
	lmd_oidset_release(&ref);
	free(ids);
}

Test(idspill, unwritable_folder_is_an_error)
{
	lmd_idspill *s = NULL;
	t_rng r = { 5 };
	lmd_oid id;
	int rc = 0;
	cr_assert_eq(lmd_idspill_new("/nonexistent-lmd-folder", 4, &s), 0);
	for (int i = 0; i < 64 && rc == 0; i++) {
		random_id(&r, &id);
		rc = lmd_idspill_add(s, &id);
	}
	if (rc == 0)
		rc = lmd_idspill_finish(s);
	cr_assert_lt(rc, 0, "spilling into a missing folder succeeded");
	cr_assert_not_null(strstr(lmd_error_last(), "/nonexistent-lmd-folder"), "%s", lmd_error_last());
	lmd_idspill_free(s);
}

/* Records of 45 bytes (an id, then a payload derived from it): every id
 * once, its own payload found, and iteration in order of id. */
static void check_records(size_t buf_recs, size_t n, unsigned min_runs)
{
	enum { RSZ = 45 };
	t_rng r = { 7 + n };
	uint8_t(*recs)[RSZ] = calloc(n ? n : 1, RSZ);
	lmd_idspill *s = NULL;
	lmd_oidset ref = { 0 };

	cr_assert_not_null(recs);
	for (size_t i = 0; i < n; i++) {
		t_fill(&r, recs[i], 32);
		if (i % 5 == 0)
			recs[i][0] = recs[i][1] = 0;
		for (int k = 32; k < RSZ; k++)
			recs[i][k] = (uint8_t)(recs[i][k - 32] ^ recs[i][31] ^ k);
		lmd_oidset_add(&ref, (const lmd_oid *)recs[i]);
	}
	cr_assert_eq(lmd_idspill_new_rec(t_dir, buf_recs, RSZ, &s), 0, "%s", lmd_error_last());
	/* lmd_idspill_add is for sets of bare ids only */
	cr_assert_lt(lmd_idspill_add(s, (const lmd_oid *)recs[0]), 0);
	for (int d = 0; d < 2; d++)
		for (size_t i = 0; i < n; i++)
			cr_assert_eq(lmd_idspill_add_rec(s, recs[(i * 7919 + (size_t)d * 3) % n]), 0, "%s",
				     lmd_error_last());
	cr_assert_eq(lmd_idspill_finish(s), 0, "%s", lmd_error_last());
	cr_assert_geq(lmd_idspill_runs(s), min_runs, "%u runs", lmd_idspill_runs(s));
	cr_assert_eq(lmd_idspill_count(s), ref.n);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *got = lmd_idspill_find(s, (const lmd_oid *)recs[i]);
		cr_assert_not_null(got, "record %zu missing", i);
		cr_assert_eq(memcmp(got, recs[i], RSZ), 0, "record %zu changed", i);
	}
	for (uint64_t i = 0; i < lmd_idspill_count(s); i++) {
		const uint8_t *a = lmd_idspill_at(s, i);
		cr_assert_not_null(a);
		cr_assert(lmd_oidset_has(&ref, (const lmd_oid *)a));
		if (i)
			cr_assert_lt(memcmp(lmd_idspill_at(s, i - 1), a, 32), 0, "not in order at %llu",
				     (unsigned long long)i);
	}
	cr_assert_null(lmd_idspill_at(s, lmd_idspill_count(s)));
	cr_assert_eq(files_in(t_dir), 0u);
	lmd_idspill_free(s);
	lmd_oidset_release(&ref);
	free(recs);
}

Test(idspill, records_in_memory)
{
	check_records(0, 3000, 0);
}

Test(idspill, records_spilled)
{
	check_records(50, 9000, 50);
}

Test(idspill, records_empty)
{
	check_records(8, 0, 0);
}
