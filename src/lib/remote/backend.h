/*
 * The backend vtable behind include/lmdata/remote.h (libgit2's
 * odb_backend model): each backend is a struct that embeds `lmd_backend`
 * first and fills in the operations; `version` lets the struct grow.
 * backend.c validates keys and arguments before calling in, so backends
 * see only well-formed keys.  get_many/put_many may be NULL: backend.c then
 * runs the requests one after another.
 */
#ifndef LMD_REMOTE_BACKEND_H
#define LMD_REMOTE_BACKEND_H

#include "lmdata/remote.h"

#define LMD_BACKEND_VERSION 1

struct lmd_backend {
	unsigned version;
	const char *type; /* "local", "s3" */

	int (*list)(lmd_backend *b, const char *prefix, lmd_remote_list_cb cb, void *payload);
	int (*head)(lmd_backend *b, const char *key, uint64_t *ret_size);
	int (*get)(lmd_backend *b, const char *key, uint64_t offset, uint64_t length,
		   lmd_remote_sink_cb sink, void *payload);
	int (*put_file)(lmd_backend *b, const char *key, const char *path);
	int (*put_buf)(lmd_backend *b, const char *key, const void *data, size_t len);
	int (*del)(lmd_backend *b, const char *key);
	int (*get_many)(lmd_backend *b, lmd_remote_get *reqs, size_t n, unsigned jobs,
			lmd_progress_cb progress, void *progress_payload);
	int (*put_many)(lmd_backend *b, lmd_remote_put *reqs, size_t n, unsigned jobs,
			lmd_progress_cb progress, void *progress_payload);
	void (*free)(lmd_backend *b);
};

/* Constructors; cfg->url already checked to be of their kind. */
int lmd__backend_local_open(const lmd_remote_config *cfg, lmd_backend **ret);
int lmd__backend_s3_open(const lmd_remote_config *cfg, lmd_backend **ret);

/* The remote's name for messages: cfg->name, else the url. */
const char *lmd__remote_display(const lmd_remote_config *cfg);

#endif
