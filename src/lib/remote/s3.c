/*
 * The S3 backend ("s3://bucket/prefix"): endpoint and addressing style,
 * then each operation as one or more s3_ops for the engine in s3_xfer.c.
 * Listing pages through ListObjectsV2; files above the multipart threshold
 * are uploaded as parts (in parallel) and completed, or aborted on failure
 * so no half-upload lingers.  Keys are relative to the prefix; the prefix
 * never shows in what callers see.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lmdata/common.h"
#include "remote/s3.h"

#define LIST_BODY_MAX (32u << 20)
#define SMALL_XML_MAX (1u << 20)
#define MAX_PARTS 10000

/* ---- listing ---- */

/* Next <tag>…</tag> inside [p, end): sets a and b around the text. */
static bool find_tag(const char *p, const char *end, const char *tag, const char **a, const char **b)
{
	char open[32], close[32];
	const char *x, *y;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	x = memmem(p, (size_t)(end - p), open, strlen(open));
	if (!x)
		return false;
	x += strlen(open);
	y = memmem(x, (size_t)(end - x), close, strlen(close));
	if (!y)
		return false;
	*a = x;
	*b = y;
	return true;
}

/* XML text to a NUL-terminated string with the five entities decoded; NULL if too long. */
static char *xml_unescape(const char *a, const char *b, size_t max)
{
	char *out;
	size_t o = 0;

	if ((size_t)(b - a) > max)
		return NULL;
	out = malloc((size_t)(b - a) + 1);
	if (!out)
		return NULL;
	while (a < b) {
		static const struct { const char *e; char c; } ents[] = {
			{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
		};
		bool hit = false;

		for (size_t i = 0; *a == '&' && i < sizeof(ents) / sizeof(ents[0]); i++) {
			size_t l = strlen(ents[i].e);

			if ((size_t)(b - a) >= l && !strncmp(a, ents[i].e, l)) {
				out[o++] = ents[i].c;
				a += l;
				hit = true;
				break;
			}
		}
		if (!hit)
			out[o++] = *a++;
	}
	out[o] = '\0';
	return out;
}

static int list_fail(s3_backend *s3, const char *what)
{
	return lmd_error_set(LMD_EREMOTE, "remote '%s': cannot list bucket '%s': %s", s3->remote,
			     s3->bucket, what);
}

static int s3_list(lmd_backend *b, const char *prefix, lmd_remote_list_cb cb, void *payload)
{
	s3_backend *s3 = (s3_backend *)b;
	lmd__rbuf body = LMD__RBUF_INIT(LIST_BODY_MAX), full = LMD__RBUF_INIT(0);
	char *token = NULL, pagesz[16];
	size_t plen = strlen(s3->prefix);
	int r;

	r = lmd__rbuf_printf(&full, "%s%s", s3->prefix, prefix);
	if (r < 0)
		return r;
	snprintf(pagesz, sizeof(pagesz), "%u", s3->list_page);
	for (;;) {
		s3_op op;
		const char *p, *end, *a, *z;
		bool truncated;

		lmd__s3_op_init(&op, "GET", "list", NULL);
		op.query[op.nquery++] = (lmd_sigv4_kv){ "list-type", "2" };
		op.query[op.nquery++] = (lmd_sigv4_kv){ "prefix", full.ptr };
		if (token)
			op.query[op.nquery++] = (lmd_sigv4_kv){ "continuation-token", token };
		if (s3->list_page)
			op.query[op.nquery++] = (lmd_sigv4_kv){ "max-keys", pagesz };
		lmd__rbuf_reset(&body);
		op.capture = &body;
		r = lmd__s3_run(s3, &op, 1, 1, NULL);
		if (r == LMD_ETOOBIG)
			r = list_fail(s3, "a listing page is over 32 MiB");
		if (r < 0)
			break;
		p = body.ptr ? body.ptr : "";
		end = p + body.len;
		while (find_tag(p, end, "Contents", &a, &z)) {
			const char *ka, *kb, *sa, *sb;
			uint64_t size;
			char *key;

			if (!find_tag(a, z, "Key", &ka, &kb) || !find_tag(a, z, "Size", &sa, &sb) ||
			    lmd__parse_u64(sa, (size_t)(sb - sa), LMD_REMOTE_MAX_OBJECT, &size) < 0) {
				r = list_fail(s3, "malformed ListObjectsV2 answer (Contents without Key or Size)");
				goto done;
			}
			key = xml_unescape(ka, kb, LMD_REMOTE_MAX_KEY + plen);
			if (!key) {
				r = list_fail(s3, "a key in the listing is too long");
				goto done;
			}
			/* keys outside our prefix cannot come back from a prefixed listing; skip if they do */
			if (!strncmp(key, s3->prefix, plen) && key[plen])
				r = cb(key + plen, size, payload);
			free(key);
			if (r != 0)
				goto done;
			p = z;
		}
		truncated = find_tag(body.ptr ? body.ptr : "", end, "IsTruncated", &a, &z) &&
			    (size_t)(z - a) == 4 && !strncmp(a, "true", 4);
		if (!truncated)
			break;
		if (!find_tag(body.ptr, end, "NextContinuationToken", &a, &z)) {
			r = list_fail(s3, "truncated listing without a continuation token");
			break;
		}
		{
			char *t = xml_unescape(a, z, 4096);

			if (!t || (token && !strcmp(t, token))) {
				free(t);
				r = list_fail(s3, "bad continuation token (the server repeats itself)");
				break;
			}
			free(token);
			token = t;
		}
	}
done:
	free(token);
	lmd__rbuf_release(&body);
	lmd__rbuf_release(&full);
	return r;
}

/* ---- single objects ---- */

static int s3_head(lmd_backend *b, const char *key, uint64_t *ret_size)
{
	s3_backend *s3 = (s3_backend *)b;
	s3_op op;
	int r;

	lmd__s3_op_init(&op, "HEAD", "stat", key);
	r = lmd__s3_run(s3, &op, 1, 1, NULL);
	if (r < 0)
		return r;
	if (!op.has_length)
		return lmd_error_set(LMD_EREMOTE, "remote '%s': no size for '%s' (HTTP %ld without Content-Length)",
				     s3->remote, key, op.status);
	*ret_size = op.content_length;
	return 0;
}

static void get_op(s3_op *op, const char *key, uint64_t offset, uint64_t length,
		   lmd_remote_sink_cb sink, void *payload)
{
	lmd__s3_op_init(op, "GET", "download", key);
	op->ranged = offset > 0 || length != UINT64_MAX;
	op->range_off = offset;
	op->range_len = length;
	op->sink = sink;
	op->sink_payload = payload;
	op->count_object = true;
}

static int s3_get(lmd_backend *b, const char *key, uint64_t offset, uint64_t length,
		  lmd_remote_sink_cb sink, void *payload)
{
	s3_op op;

	get_op(&op, key, offset, length, sink, payload);
	return lmd__s3_run((s3_backend *)b, &op, 1, 1, NULL);
}

static int s3_del(lmd_backend *b, const char *key)
{
	s3_op op;

	lmd__s3_op_init(&op, "DELETE", "delete", key);
	return lmd__s3_run((s3_backend *)b, &op, 1, 1, NULL);
}

static int s3_put_buf(lmd_backend *b, const char *key, const void *data, size_t len)
{
	s3_op op;

	lmd__s3_op_init(&op, "PUT", "upload", key);
	op.has_body = true;
	op.mem = len ? data : "";
	op.body_len = len;
	return lmd__s3_run((s3_backend *)b, &op, 1, 1, NULL);
}

/* ---- multipart ---- */

static int multipart(s3_backend *s3, const char *key, const char *path, uint64_t size, s3_progress *prog)
{
	lmd__rbuf xml = LMD__RBUF_INIT(SMALL_XML_MAX), done_xml = LMD__RBUF_INIT(0);
	char *upload_id = NULL;
	uint64_t part = s3->part_size, nparts;
	s3_op op, *parts = NULL;
	char (*numbers)[24] = NULL;
	const char *a, *z;
	int r;

	if (size / part >= MAX_PARTS)
		part = (size + MAX_PARTS - 1) / MAX_PARTS;
	nparts = size ? (size + part - 1) / part : 1;

	lmd__s3_op_init(&op, "POST", "start the multipart upload of", key);
	op.query[op.nquery++] = (lmd_sigv4_kv){ "uploads", NULL };
	op.capture = &xml;
	r = lmd__s3_run(s3, &op, 1, 1, NULL);
	if (r < 0)
		goto done;
	if (!find_tag(xml.ptr ? xml.ptr : "", xml.ptr + xml.len, "UploadId", &a, &z) ||
	    !(upload_id = xml_unescape(a, z, 1024))) {
		r = lmd_error_set(LMD_EREMOTE, "remote '%s': no UploadId in the answer to starting the upload of '%s'",
				  s3->remote, key);
		goto done;
	}

	parts = calloc(nparts, sizeof(*parts));
	numbers = calloc(nparts, sizeof(*numbers));
	if (!parts || !numbers) {
		r = -ENOMEM;
		goto abort;
	}
	for (uint64_t i = 0; i < nparts; i++) {
		s3_op *p = &parts[i];

		lmd__s3_op_init(p, "PUT", "upload part of", key);
		snprintf(numbers[i], sizeof(numbers[i]), "%llu", (unsigned long long)i + 1);
		p->query[p->nquery++] = (lmd_sigv4_kv){ "partNumber", numbers[i] };
		p->query[p->nquery++] = (lmd_sigv4_kv){ "uploadId", upload_id };
		p->has_body = true;
		p->path = path;
		p->body_off = i * part;
		p->body_len = i + 1 < nparts ? part : size - i * part;
	}
	r = lmd__s3_run(s3, parts, nparts, 0, prog);
	if (r < 0)
		goto abort;

	r = lmd__rbuf_puts(&done_xml, "<CompleteMultipartUpload>");
	for (uint64_t i = 0; i < nparts && r >= 0; i++) {
		if (!parts[i].etag[0]) {
			r = lmd_error_set(LMD_EREMOTE, "remote '%s': no ETag for part %llu of '%s'",
					  s3->remote, (unsigned long long)i + 1, key);
			goto abort;
		}
		r = lmd__rbuf_printf(&done_xml, "<Part><PartNumber>%llu</PartNumber><ETag>%s</ETag></Part>",
				     (unsigned long long)i + 1, parts[i].etag);
	}
	if (r >= 0)
		r = lmd__rbuf_puts(&done_xml, "</CompleteMultipartUpload>");
	if (r < 0)
		goto abort;
	lmd__s3_op_init(&op, "POST", "complete the multipart upload of", key);
	op.query[op.nquery++] = (lmd_sigv4_kv){ "uploadId", upload_id };
	op.has_body = true;
	op.mem = done_xml.ptr;
	op.body_len = done_xml.len;
	op.content_type = "application/xml";
	lmd__rbuf_reset(&xml);
	op.capture = &xml;
	r = lmd__s3_run(s3, &op, 1, 1, NULL);
	if (r >= 0)
		goto done;
abort: {
	/* best effort; keep the first error's message */
	char msg[2048];
	int code = r;

	snprintf(msg, sizeof(msg), "%s", lmd_error_last());
	lmd__s3_op_init(&op, "DELETE", "abort the multipart upload of", key);
	op.query[op.nquery++] = (lmd_sigv4_kv){ "uploadId", upload_id };
	(void)lmd__s3_run(s3, &op, 1, 1, NULL);
	lmd_error_set(code, "%s", msg);
}
done:
	free(upload_id);
	free(parts);
	free(numbers);
	lmd__rbuf_release(&xml);
	lmd__rbuf_release(&done_xml);
	return r;
}

static int file_size(const char *path, uint64_t *ret)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return lmd_error_set(-errno, "cannot read '%s': %s", path, lmd_strerror(-errno));
	if (!S_ISREG(st.st_mode))
		return lmd_error_set(LMD_EBADINPUT, "cannot upload '%s': not a regular file", path);
	*ret = (uint64_t)st.st_size;
	return 0;
}

static void put_file_op(s3_op *op, const char *key, const char *path, uint64_t size)
{
	lmd__s3_op_init(op, "PUT", "upload", key);
	op->has_body = true;
	op->path = path;
	op->body_len = size;
	op->count_object = true;
}

static int s3_put_file(lmd_backend *b, const char *key, const char *path)
{
	s3_backend *s3 = (s3_backend *)b;
	uint64_t size = 0;
	s3_op op;
	int r = file_size(path, &size);

	if (r < 0)
		return r;
	if (size > s3->threshold)
		return multipart(s3, key, path, size, NULL);
	put_file_op(&op, key, path, size);
	return lmd__s3_run(s3, &op, 1, 1, NULL);
}

/* ---- batches ---- */

static int s3_get_many(lmd_backend *b, lmd_remote_get *reqs, size_t n, unsigned jobs,
		       lmd_progress_cb progress, void *pp)
{
	s3_progress prog = { progress, pp, { "downloading", 0, 0, 0, n }, 0 };
	s3_op *ops = calloc(n ? n : 1, sizeof(*ops));
	int r;

	if (!ops)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		get_op(&ops[i], reqs[i].key, reqs[i].offset, reqs[i].length, reqs[i].sink, reqs[i].payload);
		if (reqs[i].length != UINT64_MAX)
			prog.p.bytes_total += reqs[i].length;
	}
	r = lmd__s3_run((s3_backend *)b, ops, n, jobs, &prog);
	for (size_t i = 0; i < n; i++)
		reqs[i].result = ops[i].result;
	free(ops);
	return r;
}

static int s3_put_many(lmd_backend *b, lmd_remote_put *reqs, size_t n, unsigned jobs,
		       lmd_progress_cb progress, void *pp)
{
	s3_backend *s3 = (s3_backend *)b;
	s3_progress prog = { progress, pp, { "uploading", 0, 0, 0, n }, 0 };
	s3_op *ops = calloc(n ? n : 1, sizeof(*ops));
	size_t *idx = calloc(n ? n : 1, sizeof(*idx)), nops = 0;
	uint64_t *sizes = calloc(n ? n : 1, sizeof(*sizes));
	int first = 0, r = 0;
	char msg[2048] = "";

	if (!ops || !idx || !sizes) {
		r = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		if (reqs[i].path) {
			reqs[i].result = file_size(reqs[i].path, &sizes[i]);
			if (reqs[i].result < 0) {
				if (!first) {
					first = reqs[i].result;
					snprintf(msg, sizeof(msg), "%s", lmd_error_last());
				}
				continue;
			}
		} else {
			sizes[i] = reqs[i].len;
		}
		prog.p.bytes_total += sizes[i];
		if (reqs[i].path && sizes[i] > s3->threshold)
			continue; /* multipart, below */
		if (reqs[i].path) {
			put_file_op(&ops[nops], reqs[i].key, reqs[i].path, sizes[i]);
		} else {
			lmd__s3_op_init(&ops[nops], "PUT", "upload", reqs[i].key);
			ops[nops].has_body = true;
			ops[nops].mem = reqs[i].len ? reqs[i].data : "";
			ops[nops].body_len = reqs[i].len;
			ops[nops].count_object = true;
		}
		idx[nops++] = i;
	}
	r = lmd__s3_run(s3, ops, nops, jobs, &prog);
	if (r < 0 && !first) {
		first = r;
		snprintf(msg, sizeof(msg), "%s", lmd_error_last());
	}
	for (size_t k = 0; k < nops; k++)
		reqs[idx[k]].result = ops[k].result;
	for (size_t i = 0; i < n; i++) {
		if (!reqs[i].path || reqs[i].result < 0 || sizes[i] <= s3->threshold)
			continue;
		reqs[i].result = multipart(s3, reqs[i].key, reqs[i].path, sizes[i], &prog);
		if (reqs[i].result < 0 && !first) {
			first = reqs[i].result;
			snprintf(msg, sizeof(msg), "%s", lmd_error_last());
		}
		prog.p.files_done++;
		if (progress)
			progress(&prog.p, pp);
	}
	r = 0;
done:
	free(ops);
	free(idx);
	free(sizes);
	if (r < 0)
		return r;
	if (first)
		lmd_error_set(first, "%s", msg);
	return first;
}

/* ---- open ---- */

static void s3_free(lmd_backend *b)
{
	s3_backend *s3 = (s3_backend *)b;

	lmd_http_free(s3->http);
	lmd_remote_creds_clear(&s3->creds);
	free(s3->remote);
	free(s3->bucket);
	free(s3->prefix);
	free(s3->base_url);
	free(s3->host);
	free(s3->path_base);
	free(s3);
}

static int parse_url(s3_backend *s3, const char *url)
{
	const char *p = url + 5, *slash = strchr(p, '/');
	size_t blen = slash ? (size_t)(slash - p) : strlen(p);
	lmd__rbuf pre = LMD__RBUF_INIT(0);
	const char *q;
	int r;

	if (blen < 1 || blen > 63)
		return lmd_error_set(LMD_EBADINPUT, "remote '%s': bad bucket name in '%s'", s3->remote, url);
	for (size_t i = 0; i < blen; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_'))
			return lmd_error_set(LMD_EBADINPUT, "remote '%s': bad bucket name in '%s'", s3->remote, url);
	}
	s3->bucket = strndup(p, blen);
	if (!s3->bucket)
		return -ENOMEM;
	/* prefix: collapse slashes, end with '/' */
	for (q = slash ? slash : ""; *q;) {
		const char *e;

		while (*q == '/')
			q++;
		if (!*q)
			break;
		e = strchr(q, '/');
		if (!e)
			e = q + strlen(q);
		r = lmd__rbuf_add(&pre, q, (size_t)(e - q));
		if (r >= 0)
			r = lmd__rbuf_add(&pre, "/", 1);
		if (r < 0) {
			lmd__rbuf_release(&pre);
			return r;
		}
		q = e;
	}
	s3->prefix = lmd__rbuf_detach(&pre);
	if (!s3->prefix)
		return -ENOMEM;
	if (*s3->prefix) {
		char tmp[LMD_REMOTE_MAX_KEY + 1];
		size_t n = strlen(s3->prefix);

		if (n > LMD_REMOTE_MAX_KEY)
			return lmd_error_set(LMD_EBADINPUT, "remote '%s': prefix too long", s3->remote);
		memcpy(tmp, s3->prefix, n - 1);
		tmp[n - 1] = '\0';
		if ((r = lmd_remote_key_check(tmp)) < 0)
			return lmd_error_wrap(r, "remote '%s'", s3->remote);
	}
	return 0;
}

static int setup_endpoint(s3_backend *s3, const lmd_remote_config *cfg)
{
	lmd__rbuf ep = LMD__RBUF_INIT(0), tmp = LMD__RBUF_INIT(0);
	bool custom = s3->creds.endpoint != NULL, path_style;
	const char *scheme_end, *hostp;
	size_t hlen;
	int r;

	if (custom)
		r = lmd__rbuf_puts(&ep, s3->creds.endpoint);
	else
		r = lmd__rbuf_printf(&ep, "https://s3.%s.amazonaws.com", s3->creds.region);
	if (r < 0)
		goto done;
	while (ep.len && ep.ptr[ep.len - 1] == '/')
		ep.ptr[--ep.len] = '\0';
	scheme_end = strstr(ep.ptr, "://");
	if (!scheme_end || (strncmp(ep.ptr, "http://", 7) && strncmp(ep.ptr, "https://", 8)) ||
	    strchr(scheme_end + 3, '/') || strchr(scheme_end + 3, '?') || strchr(scheme_end + 3, '@') ||
	    !scheme_end[3]) {
		r = lmd_error_set(LMD_EBADINPUT,
				  "remote '%s': bad endpoint '%s' (want http(s)://host[:port])", s3->remote, ep.ptr);
		goto done;
	}
	hostp = scheme_end + 3;
	hlen = strlen(hostp);
	if (cfg->addressing == LMD_ADDRESSING_PATH)
		path_style = true;
	else if (cfg->addressing == LMD_ADDRESSING_VIRTUAL)
		path_style = false;
	else
		path_style = custom || strchr(s3->bucket, '.') != NULL;

	if (path_style) {
		s3->base_url = strdup(ep.ptr);
		s3->host = strndup(hostp, hlen);
		r = lmd_sigv4_uri_encode(&tmp, s3->bucket, true);
		if (r >= 0)
			s3->path_base = malloc(tmp.len + 2);
		if (s3->path_base)
			snprintf(s3->path_base, tmp.len + 2, "/%s", tmp.ptr);
	} else {
		lmd__rbuf u = LMD__RBUF_INIT(0);

		r = lmd__rbuf_printf(&u, "%.*s%s.%s", (int)(hostp - ep.ptr), ep.ptr, s3->bucket, hostp);
		s3->base_url = lmd__rbuf_detach(&u);
		s3->host = malloc(strlen(s3->bucket) + hlen + 2);
		if (s3->host)
			snprintf(s3->host, strlen(s3->bucket) + hlen + 2, "%s.%s", s3->bucket, hostp);
		s3->path_base = strdup("");
	}
	if (r >= 0 && (!s3->base_url || !s3->host || !s3->path_base))
		r = -ENOMEM;
done:
	lmd__rbuf_release(&ep);
	lmd__rbuf_release(&tmp);
	return r;
}

int lmd__backend_s3_open(const lmd_remote_config *cfg, lmd_backend **ret)
{
	s3_backend *s3 = calloc(1, sizeof(*s3));
	int r;

	if (!s3)
		return -ENOMEM;
	s3->remote = strdup(lmd__remote_display(cfg));
	if (!s3->remote) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = parse_url(s3, cfg->url)) < 0 || (r = lmd_remote_creds_resolve(cfg, &s3->creds)) < 0 ||
	    (r = setup_endpoint(s3, cfg)) < 0)
		goto fail;
	s3->jobs = cfg->jobs ? cfg->jobs : LMD_REMOTE_DEFAULT_JOBS;
	if (s3->jobs > 256)
		s3->jobs = 256;
	s3->max_tries = cfg->max_tries ? cfg->max_tries : LMD_REMOTE_DEFAULT_MAX_TRIES;
	s3->retry_base_ms = cfg->retry_base_ms ? cfg->retry_base_ms : 250;
	s3->retry_max_ms = cfg->retry_max_ms ? cfg->retry_max_ms : 20000;
	if (s3->retry_max_ms < s3->retry_base_ms)
		s3->retry_max_ms = s3->retry_base_ms;
	s3->list_page = cfg->list_page_size;
	s3->threshold = cfg->multipart_threshold ? cfg->multipart_threshold : LMD_REMOTE_DEFAULT_MULTIPART_THRESHOLD;
	s3->part_size = cfg->part_size ? cfg->part_size : LMD_REMOTE_DEFAULT_PART_SIZE;
	s3->hopts.connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 10000;
	s3->hopts.stall_timeout_s = cfg->stall_timeout_s ? cfg->stall_timeout_s : 30;
	s3->hopts.buffer_size = cfg->buffer_size ? cfg->buffer_size : 64 * 1024;
	s3->hopts.insecure = cfg->insecure;

	s3->parent.version = LMD_BACKEND_VERSION;
	s3->parent.type = "s3";
	s3->parent.list = s3_list;
	s3->parent.head = s3_head;
	s3->parent.get = s3_get;
	s3->parent.put_file = s3_put_file;
	s3->parent.put_buf = s3_put_buf;
	s3->parent.del = s3_del;
	s3->parent.get_many = s3_get_many;
	s3->parent.put_many = s3_put_many;
	s3->parent.free = s3_free;
	*ret = &s3->parent;
	return 0;
fail:
	s3_free(&s3->parent);
	return r;
}
