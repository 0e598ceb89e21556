/*
 * The front of the remote layer: lmd_backend_open() picks a backend from the
 * URL, and the lmd_backend_*() wrappers check keys and arguments once for
 * every backend before dispatching through the vtable (backend.h).  Batch
 * calls fall back to a sequential loop for backends without their own.
 */
#include <stdio.h>
#include <string.h>

#include "lmdata/common.h"
#include "lmdata/remote.h"
#include "remote/backend.h"

const char *lmd__remote_display(const lmd_remote_config *cfg)
{
	if (cfg->name && *cfg->name)
		return cfg->name;
	return cfg->url ? cfg->url : "(unnamed)";
}

int lmd_remote_key_check(const char *key)
{
	size_t n, seg = 0;

	if (!key || !*key)
		return lmd_error_set(LMD_EBADINPUT, "empty remote key");
	n = strlen(key);
	if (n > LMD_REMOTE_MAX_KEY)
		return lmd_error_set(LMD_EBADINPUT, "remote key too long (%zu bytes, max %d)", n,
				     LMD_REMOTE_MAX_KEY);
	if (key[0] == '/')
		return lmd_error_set(LMD_EBADINPUT, "remote key '%s' is absolute", key);
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)key[i];

		if (c == '/' || c == '\0') {
			size_t len = i - seg;

			if (len == 0 || (len == 1 && key[seg] == '.') ||
			    (len == 2 && key[seg] == '.' && key[seg + 1] == '.'))
				return lmd_error_set(LMD_EBADINPUT,
						     "remote key '%s' has an empty, '.' or '..' part", key);
			seg = i + 1;
		} else if (c < 0x20 || c == 0x7f || c == '\\') {
			return lmd_error_set(LMD_EBADINPUT,
					     "remote key has a control character or backslash");
		}
	}
	return 0;
}

/* A prefix may be empty; otherwise it is a key, optionally ending in '/'. */
static int prefix_check(const char *prefix)
{
	char tmp[LMD_REMOTE_MAX_KEY + 2];
	size_t n;

	if (!prefix || !*prefix)
		return 0;
	n = strlen(prefix);
	if (n > LMD_REMOTE_MAX_KEY)
		return lmd_error_set(LMD_EBADINPUT, "remote prefix too long");
	memcpy(tmp, prefix, n + 1);
	if (tmp[n - 1] == '/')
		tmp[n - 1] = '\0';
	return lmd_remote_key_check(tmp);
}

int lmd_backend_open(const lmd_remote_config *cfg, lmd_backend **ret_backend)
{
	const char *u;

	if (!cfg || !cfg->url || !*cfg->url)
		return lmd_error_set(LMD_EBADINPUT, "remote has no url");
	u = cfg->url;
	if (!strncmp(u, "s3://", 5))
		return lmd__backend_s3_open(cfg, ret_backend);
	if (!strncmp(u, "file://", 7) || u[0] == '/')
		return lmd__backend_local_open(cfg, ret_backend);
	return lmd_error_set(LMD_EBADINPUT,
			     "remote '%s': unsupported url '%s' (use s3://bucket/prefix, /path or file:///path)",
			     lmd__remote_display(cfg), u);
}

void lmd_backend_free(lmd_backend *b)
{
	if (b)
		b->free(b);
}

const char *lmd_backend_type(const lmd_backend *b)
{
	return b->type;
}

int lmd_backend_list(lmd_backend *b, const char *prefix, lmd_remote_list_cb cb, void *payload)
{
	int r = prefix_check(prefix);

	if (r < 0)
		return r;
	return b->list(b, prefix ? prefix : "", cb, payload);
}

int lmd_backend_head(lmd_backend *b, const char *key, uint64_t *ret_size)
{
	int r = lmd_remote_key_check(key);

	return r < 0 ? r : b->head(b, key, ret_size);
}

int lmd_backend_get(lmd_backend *b, const char *key, uint64_t offset, uint64_t length,
		    lmd_remote_sink_cb sink, void *payload)
{
	int r = lmd_remote_key_check(key);

	if (r < 0)
		return r;
	if (length != UINT64_MAX && offset > UINT64_MAX - length)
		return lmd_error_set(LMD_EBADINPUT, "range of '%s' overflows", key);
	return b->get(b, key, offset, length, sink, payload);
}

int lmd_backend_put_file(lmd_backend *b, const char *key, const char *path)
{
	int r = lmd_remote_key_check(key);

	return r < 0 ? r : b->put_file(b, key, path);
}

int lmd_backend_put_buf(lmd_backend *b, const char *key, const void *data, size_t len)
{
	int r = lmd_remote_key_check(key);

	return r < 0 ? r : b->put_buf(b, key, data, len);
}

int lmd_backend_delete(lmd_backend *b, const char *key)
{
	int r = lmd_remote_key_check(key);

	return r < 0 ? r : b->del(b, key);
}

static void report(lmd_progress_cb cb, void *pp, const char *phase, uint64_t bd, uint64_t bt,
		   uint64_t od, uint64_t ot)
{
	lmd_progress p = { phase, bd, bt, od, ot };

	if (cb)
		cb(&p, pp);
}

typedef struct count_sink {
	lmd_remote_sink_cb sink;
	void *payload;
	uint64_t *bytes;
} count_sink;

static int counting_sink(const void *data, size_t len, void *payload)
{
	count_sink *c = payload;

	*c->bytes += len;
	return c->sink(data, len, c->payload);
}

int lmd_backend_get_many(lmd_backend *b, lmd_remote_get *reqs, size_t n, unsigned jobs,
			 lmd_progress_cb progress, void *pp)
{
	uint64_t total = 0, done = 0;
	int first = 0;
	char msg[1024] = "";

	for (size_t i = 0; i < n; i++) {
		int r = lmd_remote_key_check(reqs[i].key);

		if (r >= 0 && reqs[i].length != UINT64_MAX && reqs[i].offset > UINT64_MAX - reqs[i].length)
			r = lmd_error_set(LMD_EBADINPUT, "range of '%s' overflows", reqs[i].key);
		if (r < 0)
			return r;
		reqs[i].result = 0;
		if (reqs[i].length != UINT64_MAX)
			total += reqs[i].length;
	}
	if (b->get_many)
		return b->get_many(b, reqs, n, jobs, progress, pp);

	for (size_t i = 0; i < n; i++) {
		count_sink cs = { reqs[i].sink, reqs[i].payload, &done };

		reqs[i].result = b->get(b, reqs[i].key, reqs[i].offset, reqs[i].length, counting_sink, &cs);
		if (reqs[i].result < 0 && !first) {
			first = reqs[i].result;
			snprintf(msg, sizeof(msg), "%s", lmd_error_last());
		}
		report(progress, pp, "downloading", done, total, i + 1, n);
	}
	if (first)
		lmd_error_set(first, "%s", msg);
	return first;
}

int lmd_backend_put_many(lmd_backend *b, lmd_remote_put *reqs, size_t n, unsigned jobs,
			 lmd_progress_cb progress, void *pp)
{
	uint64_t done = 0;
	int first = 0;
	char msg[1024] = "";

	for (size_t i = 0; i < n; i++) {
		int r = lmd_remote_key_check(reqs[i].key);

		if (r < 0)
			return r;
		reqs[i].result = 0;
	}
	if (b->put_many)
		return b->put_many(b, reqs, n, jobs, progress, pp);

	for (size_t i = 0; i < n; i++) {
		if (reqs[i].path)
			reqs[i].result = b->put_file(b, reqs[i].key, reqs[i].path);
		else
			reqs[i].result = b->put_buf(b, reqs[i].key, reqs[i].data, reqs[i].len);
		if (reqs[i].result < 0 && !first) {
			first = reqs[i].result;
			snprintf(msg, sizeof(msg), "%s", lmd_error_last());
		}
		if (!reqs[i].path)
			done += reqs[i].len;
		report(progress, pp, "uploading", done, 0, i + 1, n);
	}
	if (first)
		lmd_error_set(first, "%s", msg);
	return first;
}
