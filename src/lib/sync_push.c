/*
 * lmd_push: upload what the remote lacks for the selected datasets.
 *
 * The unit of transfer is a whole local pack (tens of MiB, so a big corpus
 * is a few hundred requests).  What the remote has comes from one listing
 * of packs/ and, only when some needed pack is not listed, the remote's
 * index files (cached): an object already on the remote in another pack
 * (pushed from another clone) is not sent again.  Order: every pack, then
 * the indexes of the packs that arrived, so a reader never sees an index
 * whose pack is missing; manifests live in git and are pushed by git
 * after this.  A rerun after an interruption lists again and sends only
 * what has no index yet (a pack that arrived whole is not sent twice).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync_int.h"

struct push_ctx {
	lmd_repo *r;
	lmd_store *s;
	lmd_backend *b;
	lmd_ridx ri;
	lmd_needs need;
	char *name, *state;
	bool *upload;           /* per local pack */
	uint32_t npacks;
	unsigned jobs;
};

/* Is this already on the remote (its local pack listed, or found in an index)? */
static bool on_remote(struct push_ctx *c, const lmd_need *n, bool indexes_loaded)
{
	if (n->type && lmd__ridx_has_pack(&c->ri, lmd_store_pack_id(c->s, n->lpack)))
		return true;
	return indexes_loaded && lmd__ridx_find(&c->ri, &n->id, n->type, NULL, NULL) == 0;
}

/*
 * The transport's upload progress, as the repo's: with the push's totals.
 * A backend that reports only files done (the folder one) gets the bytes
 * of the files done so far (it uploads them in order).
 */
struct prog_adapt {
	lmd_repo *r;
	const uint64_t *prefix;   /* prefix[i]: bytes of the first i uploads */
	size_t n;
	uint64_t bytes_total;
};

static void prog_cb(const lmd_progress *p, void *payload)
{
	struct prog_adapt *a = payload;
	lmd_progress q;
	if (!p || !a->r->progress)
		return;
	q = *p;
	q.phase = "pushing";
	if (!q.bytes_done && q.files_done)
		q.bytes_done = a->prefix[q.files_done <= a->n ? q.files_done : a->n];
	q.bytes_total = a->bytes_total;
	q.files_total = a->n;
	a->r->prog = q;   /* what lmd__progress_end shows last */
	a->r->progress(&q, a->r->progress_payload);
}

static bool partial_same_size(struct push_ctx *c, const lmd_oid *pid, uint64_t size)
{
	for (size_t i = 0; i < c->ri.npartial; i++)
		if (!lmd_oid_cmp(&c->ri.partial[i], pid) && c->ri.partial_size[i] == size)
			return true;
	return false;
}

static int upload(struct push_ctx *c, lmd_sync_stats *st)
{
	lmd_remote_put *puts = lmd_calloc((size_t)c->npacks * 2 + 1, sizeof(*puts));
	char **strs = lmd_calloc((size_t)c->npacks * 4 + 1, sizeof(*strs));
	uint64_t *prefix = lmd_calloc((size_t)c->npacks + 1, sizeof(*prefix));
	struct prog_adapt pa = { .r = c->r, .prefix = prefix };
	size_t np = 0, ni = 0, ns = 0;
	int rc = 0;

	if (!puts || !strs || !prefix) {
		rc = -ENOMEM;
		goto done;
	}
	/* Packs first (those not already whole on the remote)... */
	for (uint32_t p = 0; p < c->npacks; p++) {
		const lmd_oid *pid = lmd_store_pack_id(c->s, p);
		char hex[LMD_OID_HEXSZ + 1];
		if (!c->upload[p])
			continue;
		lmd_oid_fmt(hex, pid);
		st->packs++;
		if (partial_same_size(c, pid, lmd_store_pack_size(c->s, p)))
			continue;
		strs[ns] = lmd_asprintf(LMD_REMOTE_PACK_PREFIX "%s.pack", hex);
		strs[ns + 1] = lmd_store_pack_path(c->s, pid, "pack");
		if (!strs[ns] || !strs[ns + 1]) {
			rc = -ENOMEM;
			goto done;
		}
		puts[np].key = strs[ns];
		puts[np].path = strs[ns + 1];
		np++;
		ns += 2;
		st->bytes += lmd_store_pack_size(c->s, p);
		prefix[np] = st->bytes;
	}
	if (np) {
		pa.n = np;
		pa.bytes_total = st->bytes;
		st->requests += np;
		lmd__progress_start(c->r, "pushing", st->bytes, np);
		if ((rc = lmd_backend_put_many(c->b, puts, np, c->jobs, prog_cb, &pa)) < 0)
			goto done;
	}
	/* ...then their indexes, which make them visible. */
	for (uint32_t p = 0; p < c->npacks; p++) {
		const lmd_oid *pid = lmd_store_pack_id(c->s, p);
		char hex[LMD_OID_HEXSZ + 1];
		if (!c->upload[p])
			continue;
		lmd_oid_fmt(hex, pid);
		strs[ns] = lmd_asprintf(LMD_REMOTE_PACK_PREFIX "%s.idx", hex);
		strs[ns + 1] = lmd_store_pack_path(c->s, pid, "idx");
		if (!strs[ns] || !strs[ns + 1]) {
			rc = -ENOMEM;
			goto done;
		}
		puts[np + ni].key = strs[ns];
		puts[np + ni].path = strs[ns + 1];
		ni++;
		ns += 2;
	}
	if (ni) {
		st->requests += ni;
		if ((rc = lmd_backend_put_many(c->b, puts + np, ni, c->jobs, NULL, NULL)) < 0)
			goto done;
	}
	/* The remote now has these indexes: keep a copy in the cache. */
	if (c->state && lmd_mkdir_p(c->state, 0755) == 0)
		for (size_t k = np; k < np + ni; k++) {
			lmd_buf b = LMD_BUF_INIT;
			char *dst = lmd_asprintf("%s/%s", c->state, puts[k].key + strlen(LMD_REMOTE_PACK_PREFIX));
			if (dst && lmd_read_file(puts[k].path, 1u << 30, &b) == 0)
				lmd_write_file_atomic(dst, b.ptr, b.len, 0644);
			lmd_error_clear();
			lmd_buf_release(&b);
			free(dst);
		}
done:
	for (size_t k = 0; strs && k < ns; k++)
		free(strs[k]);
	free(strs);
	free(puts);
	free(prefix);
	return rc;
}

int lmd_push(lmd_repo *r, const lmd_sync_opts *o, lmd_sync_stats *ret_stats)
{
	struct push_ctx c = { .r = r };
	lmd_sync_stats st = { 0 };
	lmd_sync_root *ds = NULL;
	size_t nds = 0;
	uint64_t missing = 0, candidates = 0;
	const char *missing_in = NULL;
	char *missing_path = NULL;
	int rc;

	c.jobs = o ? o->jobs : 0;
	if ((rc = lmd__repo_lock(r)) < 0 || (rc = lmd__repo_store(r, &c.s)) < 0 ||
	    (rc = lmd_store_refresh(c.s)) < 0)
		goto done;
	if ((rc = lmd__sync_roots(r, o, &ds, &nds)) < 0 || (rc = lmd__needs_init(r, &c.need)) < 0)
		goto done;
	for (size_t i = 0; i < nds; i++) {
		uint64_t absent = c.need.absent, unread = c.need.unreadable;
		if ((rc = lmd__needs_collect(c.s, ds[i].path, &ds[i].m, &c.need)) < 0)
			goto done;
		if (!missing_path && (c.need.absent != absent || c.need.unreadable != unread) &&
		    !(missing_path = lmd_strdup(ds[i].path))) {
			rc = -ENOMEM;
			goto done;
		}
	}
	if ((rc = lmd__needs_finish(&c.need)) < 0)
		goto done;
	st.objects = c.need.n;
	if ((rc = lmd__remote_open(r, o ? o->remote : NULL, c.jobs, &c.b, &c.name)) < 0)
		goto done;
	snprintf(st.remote, sizeof(st.remote), "%s", c.name);
	c.state = lmd__remote_idx_dir(r, c.name);
	if (!c.state) {
		rc = -ENOMEM;
		goto done;
	}
	if ((rc = lmd__ridx_list(c.b, &c.ri)) < 0)
		goto done;
	for (uint64_t k = 0; k < c.need.n && !candidates; k++) {
		lmd_need n;
		lmd__needs_get(&c.need, k, &n);
		if (!on_remote(&c, &n, false))
			candidates++;
	}
	if (candidates && (rc = lmd__ridx_load(c.b, &c.ri, c.state, c.jobs)) < 0)
		goto done;
	c.npacks = lmd_store_pack_count(c.s);
	c.upload = lmd_calloc(c.npacks + 1, sizeof(*c.upload));
	if (!c.upload) {
		rc = -ENOMEM;
		goto done;
	}
	for (uint64_t k = 0; k < c.need.n; k++) {
		lmd_need nd, *n = &nd;
		lmd__needs_get(&c.need, k, &nd);
		if (on_remote(&c, n, candidates != 0)) {
			st.already++;
		} else if (!n->type) {
			missing++;
		} else {
			c.upload[n->lpack] = true;
			st.objects_transferred++;
		}
	}
	missing_in = missing_path ? missing_path : "the selected data";
	if (missing) {
		rc = lmd_error_set(LMD_EMISSING,
				   "%llu object%s that '%s' needs %s neither in the local store nor on remote '%s'; "
				   "nothing was pushed (run 'lmdata fsck', or 'lmdata add' the data again)",
				   (unsigned long long)missing, missing == 1 ? "" : "s", missing_in,
				   missing == 1 ? "is" : "are", c.name);
		goto done;
	}
	if (c.need.unreadable) {
		/* A tree or chunk list only the remote has: what lies below is unknown. */
		rc = lmd_error_set(LMD_EMISSING,
				   "'%s' is not complete in the local store; run 'lmdata fetch' first (nothing was pushed)",
				   missing_in);
		goto done;
	}
	rc = upload(&c, &st);
done:
	lmd__progress_end(r);
	st.requests += c.ri.requests;
	if (ret_stats)
		*ret_stats = st;
	free(missing_path);
	free(c.upload);
	free(c.state);
	lmd__ridx_release(&c.ri);
	lmd__needs_release(&c.need);
	lmd_backend_free(c.b);
	lmd__sync_roots_free(ds, nds);
	lmd__repo_unlock(r);
	free(c.name);
	return rc;
}
