/*
 * lmd_remote_fsck (fsck --remote): is everything the selected datasets
 * need on the remote, and (LMD_REMOTE_FSCK_READ_DATA) is every pack there
 * intact?  Presence comes from the listing and the remote's indexes (each
 * checked by its own hash when loaded); intact means a pack's bytes hash to
 * its name, read in full and streamed through SHA-256 (nothing is kept).
 * What the datasets need is read from the local store, so objects below a
 * tree the local store lacks cannot be checked (reported as such).
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "pack.h"
#include "sync_int.h"

struct pack_read {
	lmd_sha256 *h;
	uint64_t size, pos;
	uint8_t tail[32];
};

static int read_sink(const void *data, size_t len, void *payload)
{
	struct pack_read *p = payload;
	const uint8_t *d = data;
	uint64_t body = p->size >= 32 ? p->size - 32 : 0;
	while (len) {
		if (p->pos < body) {
			size_t n = (size_t)LMD_MIN((uint64_t)len, body - p->pos);
			lmd_sha256_update(p->h, d, n);
			d += n;
			len -= n;
			p->pos += n;
		} else {
			size_t n = (size_t)LMD_MIN((uint64_t)len, p->size - p->pos);
			if (n == 0)
				return lmd_error_set(LMD_ECORRUPT, "more bytes than the listing announced");
			memcpy(p->tail + (p->pos - body), d, n);
			d += n;
			len -= n;
			p->pos += n;
		}
	}
	return 0;
}

static void report(lmd_fsck_cb cb, void *payload, const lmd_oid *pack, const lmd_oid *obj, const char *what,
		   const char *path)
{
	char ph[LMD_OID_HEXSZ + 1], oh[LMD_OID_HEXSZ + 1];
	const char *paths[2] = { path, NULL };
	lmd_fsck_problem p = { .what = what, .paths = path ? paths : NULL };
	if (pack) {
		lmd_oid_fmt(ph, pack);
		p.pack = ph;
	}
	if (obj) {
		lmd_oid_fmt(oh, obj);
		p.object = oh;
	}
	if (cb)
		cb(&p, payload);
}

static int read_packs(lmd_repo *r, lmd_backend *b, const lmd_ridx *ri, unsigned jobs, lmd_fsck_cb cb, void *payload,
		      lmd_fsck_stats *st)
{
	struct pack_read *pr = lmd_calloc(ri->n + 1, sizeof(*pr));
	lmd_remote_get *reqs = lmd_calloc(ri->n + 1, sizeof(*reqs));
	char **keys = lmd_calloc(ri->n + 1, sizeof(*keys));
	uint64_t total = 0;
	int rc = 0, problems = 0;

	if (!pr || !reqs || !keys) {
		rc = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < ri->n; i++) {
		char hex[LMD_OID_HEXSZ + 1];
		lmd_oid_fmt(hex, &ri->packs[i].id);
		keys[i] = lmd_asprintf(LMD_REMOTE_PACK_PREFIX "%s.pack", hex);
		if (!keys[i] || (rc = lmd_sha256_new(&pr[i].h)) < 0) {
			rc = rc < 0 ? rc : -ENOMEM;
			goto done;
		}
		lmd_sha256_init(pr[i].h);
		pr[i].size = ri->packs[i].pack_size;
		reqs[i] = (lmd_remote_get){ .key = keys[i], .offset = 0, .length = UINT64_MAX, .sink = read_sink,
					    .payload = &pr[i] };
		total += pr[i].size;
	}
	lmd__progress_start(r, "verifying remote packs", total, ri->n);
	rc = lmd_backend_get_many(b, reqs, ri->n, jobs, r->progress, r->progress_payload);
	lmd__progress_end(r);
	for (size_t i = 0; i < ri->n; i++) {
		lmd_oid got;
		const char *what = NULL;
		if (reqs[i].result == LMD_ECORRUPT || (reqs[i].result == 0 && pr[i].pos != pr[i].size))
			what = "pack has not the size the listing shows";
		else if (reqs[i].result < 0)
			continue; /* a transfer failure: rc says which */
		else if (pr[i].size < LMD_PACK_HDR + LMD_PACK_TRAILER)
			what = "pack is truncated";
		else if (lmd_sha256_final(pr[i].h, &got) < 0 || memcmp(got.id, pr[i].tail, 32) != 0 ||
			 lmd_oid_cmp(&got, &ri->packs[i].id) != 0)
			what = "pack checksum mismatch (its bytes do not hash to its name)";
		st->packs++;
		st->bytes += pr[i].pos;
		if (what) {
			st->damaged++;
			problems++;
			report(cb, payload, &ri->packs[i].id, NULL, what, NULL);
		}
	}
	if (rc == LMD_ECORRUPT)
		rc = 0;
	if (rc >= 0)
		rc = problems;
done:
	for (size_t i = 0; pr && keys && i < ri->n; i++) {
		lmd_sha256_free(pr[i].h);
		free(keys[i]);
	}
	free(pr);
	free(reqs);
	free(keys);
	return rc;
}

int lmd_remote_fsck(lmd_repo *r, const lmd_sync_opts *o, unsigned flags, lmd_fsck_cb cb, void *payload,
		    lmd_fsck_stats *ret_stats)
{
	lmd_fsck_stats st = { 0 };
	lmd_ridx ri = { 0 };
	lmd_sync_root *ds = NULL;
	lmd_backend *b = NULL;
	lmd_store *s;
	size_t nds = 0;
	char *name = NULL, *state = NULL;
	int rc, problems = 0;
	unsigned jobs = o ? o->jobs : 0;

	if ((rc = lmd__repo_store(r, &s)) < 0 || (rc = lmd_store_refresh(s)) < 0)
		goto done;
	if ((rc = lmd__sync_roots(r, o, &ds, &nds)) < 0)
		goto done;
	if ((rc = lmd__remote_open(r, o ? o->remote : NULL, jobs, &b, &name)) < 0)
		goto done;
	state = lmd_asprintf("%s/state/remote-%s/idx", r->lmdir, name);
	if (!state) {
		rc = -ENOMEM;
		goto done;
	}
	if ((rc = lmd__ridx_list(b, &ri)) < 0 || (rc = lmd__ridx_load(b, &ri, state, jobs)) < 0)
		goto done;
	for (size_t i = 0; i < ri.n; i++)
		st.objects += ri.packs[i].count;
	for (size_t i = 0; i < ri.ndamaged; i++) {
		problems++;
		report(cb, payload, &ri.damaged[i], NULL,
		       "has a damaged index on the remote (its objects count as absent): delete the remote's "
		       "packs/<pack>.idx, then 'lmdata push' from a clone that has this pack sends a good one",
		       NULL);
	}
	for (size_t i = 0; i < nds; i++) {
		lmd_needs need;
		if ((rc = lmd__needs_init(r, &need)) == 0 && (rc = lmd__needs_collect(s, ds[i].path, &ds[i].m, &need)) == 0)
			rc = lmd__needs_finish(&need);
		if (rc < 0) {
			lmd__needs_release(&need);
			goto done;
		}
		for (uint64_t k = 0; k < need.n; k++) {
			lmd_need nd, *n = &nd;
			lmd__needs_get(&need, k, &nd);
			if (lmd__ridx_find(&ri, &n->id, n->type, NULL, NULL) == 0)
				continue;
			st.missing++;
			problems++;
			report(cb, payload, NULL, &n->id, n->type ? "is not on the remote (run 'lmdata push')"
								  : "is neither on the remote nor in the local store",
			       ds[i].path);
		}
		if (need.unreadable) {
			problems++;
			report(cb, payload, NULL, NULL,
			       "only partly checked: some of its trees or chunk lists are not in the local store "
			       "(run 'lmdata fetch' first)", ds[i].path);
		}
		lmd__needs_release(&need);
	}
	if (flags & LMD_REMOTE_FSCK_READ_DATA) {
		if ((rc = read_packs(r, b, &ri, jobs, cb, payload, &st)) < 0)
			goto done;
		problems += rc;
	} else {
		st.packs = ri.n;
	}
	rc = problems;
done:
	if (ret_stats)
		*ret_stats = st;
	lmd__ridx_release(&ri);
	lmd_backend_free(b);
	lmd__sync_roots_free(ds, nds);
	free(name);
	free(state);
	return rc;
}
