/*
 * lmd_remote_gc (gc --remote --workspace): delete the remote's packs that
 * hold nothing the work tree's manifests need.
 *
 * Safety first, since a remote is shared:
 *  - every tree and chunk list of every dataset must be readable locally,
 *    else gc cannot know what the data needs and deletes nothing;
 *  - a pack is deleted only if none of its objects is live; packs that are
 *    partly garbage are kept (and counted), never rewritten here;
 *  - a pack is deleted only once this clone has seen it on the remote for
 *    longer than the grace period (default one hour; first-seen times are
 *    kept in .lmdata/state/remote-NAME/seen), so a pack another clone has
 *    just pushed, for a commit not yet in our git history, survives;
 *  - packs without an index (a push in progress, or interrupted) are left
 *    alone;
 *  - the index goes first, then the pack, so no reader sees an index
 *    without its pack.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lmdata/history.h"
#include "sync_int.h"

struct seen {
	lmd_oid *id;
	int64_t *when;
	size_t n;
};

static int seen_load(const char *path, struct seen *s)
{
	lmd_buf b = LMD_BUF_INIT;
	size_t cap = 0;
	int rc = lmd_read_file(path, 64u << 20, &b);
	if (rc < 0) {
		lmd_error_clear();
		return 0;
	}
	if (lmd_buf_cstr(&b) < 0) {
		lmd_buf_release(&b);
		return -ENOMEM;
	}
	for (char *line = (char *)b.ptr, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		lmd_oid id;
		long long t;
		nl = strchr(line, '\n');
		if (strlen(line) < LMD_OID_HEXSZ + 2 || lmd_oid_parse(&id, line, LMD_OID_HEXSZ) < 0 ||
		    sscanf(line + LMD_OID_HEXSZ, " %lld", &t) != 1)
			continue;
		if (s->n == cap) {
			cap = cap ? cap * 2 : 64;
			lmd_oid *ni = lmd_reallocarray(s->id, cap, sizeof(*ni));
			if (ni)
				s->id = ni;
			int64_t *nw = lmd_reallocarray(s->when, cap, sizeof(*nw));
			if (nw)
				s->when = nw;
			if (!ni || !nw) {
				lmd_buf_release(&b);
				return -ENOMEM;
			}
		}
		s->id[s->n] = id;
		s->when[s->n++] = t;
	}
	lmd_buf_release(&b);
	return 0;
}

static int64_t seen_get(const struct seen *s, const lmd_oid *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (!lmd_oid_cmp(&s->id[i], id))
			return s->when[i];
	return -1;
}

int lmd_remote_gc(lmd_repo *r, const lmd_sync_opts *o, unsigned flags, uint64_t grace_s,
		  lmd_remote_gc_stats *ret_stats)
{
	lmd_remote_gc_stats st = { 0 };
	struct seen seen = { 0 };
	lmd_needs live = { 0 };
	lmd_ridx ri = { 0 };
	lmd_sync_root *ds = NULL;
	lmd_sync_opts keep = { 0 };
	lmd_backend *b = NULL;
	lmd_store *s;
	lmd_buf out = LMD_BUF_INIT;
	size_t nds = 0;
	char *name = NULL, *state = NULL, *idxdir = NULL, *seen_path = NULL;
	int64_t now = (int64_t)time(NULL);
	bool dry = flags & LMD_REMOTE_GC_DRY_RUN;
	int rc;

	if ((rc = lmd__repo_lock(r)) < 0 || (rc = lmd__repo_store(r, &s)) < 0 || (rc = lmd_store_refresh(s)) < 0)
		goto done;
	/* Mark: everything the kept versions need (the work tree's always). */
	if (o)
		keep = *o;
	keep.paths = NULL;
	keep.npaths = 0;
	keep.scopes |= LMD_GC_WORKSPACE;
	if ((rc = lmd__sync_roots(r, &keep, &ds, &nds)) < 0) {
		lmd_error_wrap(rc, "gc needs every kept manifest readable; nothing was deleted");
		goto done;
	}
	if ((rc = lmd__needs_init(r, &live)) < 0)
		goto done;
	for (size_t i = 0; i < nds; i++) {
		if ((rc = lmd__needs_collect(s, ds[i].path, &ds[i].m, &live)) < 0)
			goto done;
		if (live.unreadable) {
			rc = lmd_error_set(LMD_EMISSING,
					   "'%s' (of a kept version) is not complete in the local store, so gc cannot "
					   "tell what it needs; run 'lmdata fetch' (with --rev for old versions) first "
					   "(nothing was deleted)", ds[i].path);
			goto done;
		}
	}
	if ((rc = lmd__needs_finish(&live)) < 0)
		goto done;
	if ((rc = lmd__remote_open(r, o ? o->remote : NULL, o ? o->jobs : 0, &b, &name)) < 0)
		goto done;
	snprintf(st.remote, sizeof(st.remote), "%s", name);
	state = lmd__remote_state_dir(r, name);
	idxdir = state ? lmd_path_join(state, "idx") : NULL;
	seen_path = state ? lmd_path_join(state, "seen") : NULL;
	if (!idxdir || !seen_path) {
		rc = -ENOMEM;
		goto done;
	}
	if ((rc = lmd__ridx_list(b, &ri)) < 0 || (rc = lmd__ridx_load(b, &ri, idxdir, o ? o->jobs : 0)) < 0 ||
	    (rc = seen_load(seen_path, &seen)) < 0)
		goto done;
	st.packs_incomplete = ri.npartial;
	/* Remember when each listed pack was first seen (before deleting anything). */
	for (size_t p = 0; p < ri.n; p++) {
		char hex[LMD_OID_HEXSZ + 1];
		int64_t t = seen_get(&seen, &ri.packs[p].id);
		lmd_oid_fmt(hex, &ri.packs[p].id);
		if ((rc = lmd_buf_printf(&out, "%s %lld\n", hex, (long long)(t >= 0 ? t : now))) < 0)
			goto done;
	}
	if ((rc = lmd_mkdir_p(state, 0755)) < 0 ||
	    (rc = lmd_write_file_atomic(seen_path, out.ptr ? out.ptr : (uint8_t *)"", out.len, 0644)) < 0)
		goto done;
	/* Sweep. */
	for (size_t p = 0; p < ri.n; p++) {
		const lmd_ridx_pack *pk = &ri.packs[p];
		const uint8_t *ents = pk->idx + LMD_IDX_HDR + LMD_IDX_FANOUT;
		uint64_t nlive = 0;
		int64_t first = seen_get(&seen, &pk->id);
		char hex[LMD_OID_HEXSZ + 1], *k;

		st.packs++;
		st.bytes_before += pk->pack_size;
		for (uint32_t i = 0; i < pk->count; i++) {
			lmd_oid id;
			memcpy(id.id, ents + (size_t)i * LMD_IDX_ENTRY, 32);
			if (lmd__needs_has(&live, &id))
				nlive++;
		}
		st.objects_live += nlive;
		if (nlive) {
			if (nlive < pk->count)
				st.packs_partly++;
			continue;
		}
		if (first < 0 || (uint64_t)(now - first) < grace_s) {
			st.packs_young++;
			continue;
		}
		st.packs_removed++;
		st.bytes_removed += pk->pack_size;
		if (dry)
			continue;
		lmd_oid_fmt(hex, &pk->id);
		k = lmd_asprintf(LMD_REMOTE_PACK_PREFIX "%s.idx", hex);
		rc = k ? lmd_backend_delete(b, k) : -ENOMEM;
		free(k);
		if (rc == 0) {
			k = lmd_asprintf(LMD_REMOTE_PACK_PREFIX "%s.pack", hex);
			rc = k ? lmd_backend_delete(b, k) : -ENOMEM;
			free(k);
		}
		st.requests += 2;
		if (rc < 0)
			goto done;
		k = lmd_asprintf("%s/%s.idx", idxdir, hex);
		if (k)
			remove(k);
		free(k);
	}
	rc = 0;
done:
	st.requests += ri.requests;
	if (ret_stats)
		*ret_stats = st;
	lmd_buf_release(&out);
	free(seen.id);
	free(seen.when);
	lmd__needs_release(&live);
	lmd__ridx_release(&ri);
	lmd_backend_free(b);
	lmd__sync_roots_free(ds, nds);
	free(name);
	free(state);
	free(idxdir);
	free(seen_path);
	lmd__repo_unlock(r);
	return rc;
}
