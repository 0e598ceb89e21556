/*
 * Walking a file's chunk list, flat or in parts (see chunklist.h).
 */
#include <stdlib.h>
#include <string.h>

#include "chunklist.h"

static int walk_parts(lmd_store *s, const lmd_oid *id, const lmd_buf *list, uint64_t want_size,
		      const lmd_chunklist_cbs *cbs, void *payload, lmd_oid *ret_bad)
{
	char hex[LMD_OID_HEXSZ + 1], phex[LMD_OID_HEXSZ + 1];
	lmd_buf pbuf = LMD_BUF_INIT;
	lmd_part_ref *parts = NULL;
	uint32_t nparts = 0;
	uint64_t size;
	int r;

	if ((r = lmd_fileparts_parse(list->ptr, list->len, &size, &parts, &nparts)) < 0)
		goto bad_list;
	if (want_size != UINT64_MAX && size != want_size) {
		r = lmd_error_set(LMD_ECORRUPT, "the chunk list does not match the file's size");
		goto bad_list;
	}
	for (uint32_t i = 0; i < nparts; i++) {
		lmd_chunk_ref *c = NULL;
		uint32_t n = 0;
		if (cbs->part && (r = cbs->part(&parts[i], payload)) != 0) {
			if (r == LMD_CHUNKLIST_SKIP)
				continue;
			if (r > 0)
				r = 0; /* LMD_CHUNKLIST_STOP */
			goto done;
		}
		if ((r = lmd_store_get(s, &parts[i].id, LMD_OBJ_PART, &pbuf)) < 0 ||
		    (r = lmd_part_parse(pbuf.ptr, pbuf.len, &parts[i], &c, &n)) < 0) {
			lmd_oid_fmt(hex, id);
			lmd_oid_fmt(phex, &parts[i].id);
			if (r != -ENOMEM)
				lmd_error_wrap(r, "part %.16s of the chunk list of %.16s", phex, hex);
			if (ret_bad)
				*ret_bad = parts[i].id;
			goto done;
		}
		r = cbs->chunks(&parts[i], c, n, payload);
		free(c);
		if (r != 0) {
			if (r > 0)
				r = 0; /* LMD_CHUNKLIST_STOP */
			goto done;
		}
	}
	r = 0;
	goto done;
bad_list:
	if (ret_bad)
		*ret_bad = *id;
	lmd_oid_fmt(hex, id);
	if (r != -ENOMEM)
		lmd_error_wrap(r, "chunk list %.16s", hex);
done:
	free(parts);
	lmd_buf_release(&pbuf);
	return r;
}

int lmd_chunklist_walk(lmd_store *s, const lmd_oid *id, uint64_t want_size, const lmd_chunklist_cbs *cbs,
		       void *payload, lmd_oid *ret_bad)
{
	char hex[LMD_OID_HEXSZ + 1];
	lmd_buf list = LMD_BUF_INIT;
	lmd_chunk_ref *c = NULL;
	uint32_t n = 0;
	uint64_t size;
	int r;

	if ((r = lmd_store_get(s, id, LMD_OBJ_FILE, &list)) < 0) {
		if (ret_bad)
			*ret_bad = *id;
		goto done;
	}
	if (lmd_filelist_has_parts(list.ptr, list.len)) {
		r = walk_parts(s, id, &list, want_size, cbs, payload, ret_bad);
		goto done;
	}
	if ((r = lmd_filelist_parse(list.ptr, list.len, &size, &c, &n)) == 0 && want_size != UINT64_MAX &&
	    size != want_size)
		r = lmd_error_set(LMD_ECORRUPT, "the chunk list does not match the file's size");
	if (r < 0) {
		if (ret_bad)
			*ret_bad = *id;
		lmd_oid_fmt(hex, id);
		if (r != -ENOMEM)
			lmd_error_wrap(r, "chunk list %.16s", hex);
		goto done;
	}
	r = cbs->chunks(NULL, c, n, payload);
	if (r > 0)
		r = 0; /* LMD_CHUNKLIST_STOP */
done:
	free(c);
	lmd_buf_release(&list);
	return r;
}
