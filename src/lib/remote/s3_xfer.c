/*
 * The S3 transfer engine (see s3.h): builds, signs and runs s3_ops through
 * http.c, classifies each attempt (done, retry after a back-off, or fail),
 * resumes interrupted downloads with a Range from where the sink stopped,
 * checks that every download delivered exactly the bytes announced or
 * asked for, and writes error messages from S3's XML.  Secrets go only into
 * the signer; no message includes one.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lmdata/common.h"
#include "remote/s3.h"

enum { OP_PENDING, OP_RUNNING, OP_WAITING, OP_DONE };
#define MAX_HDRS 8

typedef struct s3_ctx {
	s3_op *op;
	s3_backend *s3;
	s3_progress *prog;
	lmd_http_req req;
	lmd_http_resp resp;
	lmd__rbuf url;
	char hdr[MAX_HDRS][256];
	lmd__rbuf auth_hdr;
	const char *hdrs[MAX_HDRS + 1];
	uint64_t attempt_start; /* op->delivered when the attempt started */
	int range_error;
	bool in_use;
} s3_ctx;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lmd__s3_op_init(s3_op *op, const char *method, const char *verb, const char *key)
{
	memset(op, 0, sizeof(*op));
	op->method = method;
	op->verb = verb;
	op->key = key;
	op->fd = -1;
	op->range_len = UINT64_MAX;
}

/* ---- XML error documents ---- */

/* Copy the text of the first <tag>...</tag> in xml, entities decoded, control chars dropped. */
static bool xml_text(const char *xml, const char *tag, char *out, size_t outsz)
{
	char open[64], close[64];
	const char *a, *b;
	size_t o = 0;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if (!(a = strstr(xml, open)))
		return false;
	a += strlen(open);
	if (!(b = strstr(a, close)))
		return false;
	while (a < b && o + 1 < outsz) {
		if (*a == '&') {
			static const struct { const char *e; char c; } ents[] = {
				{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
				{ "&quot;", '"' }, { "&apos;", '\'' },
			};
			bool hit = false;

			for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
				size_t l = strlen(ents[i].e);

				if ((size_t)(b - a) >= l && !strncmp(a, ents[i].e, l)) {
					out[o++] = ents[i].c;
					a += l;
					hit = true;
					break;
				}
			}
			if (hit)
				continue;
		}
		if ((unsigned char)*a >= 0x20)
			out[o++] = *a;
		a++;
	}
	out[o] = '\0';
	return true;
}

static const char *hint_for(const char *code)
{
	if (!strcmp(code, "AccessDenied") || !strcmp(code, "AllAccessDisabled"))
		return "; check the credentials and the bucket's policy";
	if (!strcmp(code, "NoSuchBucket"))
		return "; create the bucket or fix the remote's url";
	if (!strcmp(code, "SignatureDoesNotMatch") || !strcmp(code, "InvalidAccessKeyId"))
		return "; check the access key id and the secret access key";
	if (!strcmp(code, "RequestTimeTooSkewed"))
		return "; this machine's clock is off, set it right (ntp)";
	if (!strcmp(code, "ExpiredToken") || !strcmp(code, "InvalidToken"))
		return "; the session token has expired, get new credentials";
	if (!strcmp(code, "PermanentRedirect") || !strcmp(code, "AuthorizationHeaderMalformed"))
		return "; the bucket is in another region, set the remote's region";
	return "";
}

static int s3_fail(s3_ctx *c, int code, const char *fmt, const char *detail)
{
	s3_op *op = c->op;
	char what[1200];

	if (op->key)
		snprintf(what, sizeof(what), "'%s'", op->key);
	else
		snprintf(what, sizeof(what), "bucket '%s'", c->s3->bucket);
	return lmd_error_set(code, fmt, c->s3->remote, op->verb, what, detail);
}

/* Set the error for a non-2xx answer; returns the code. */
static int http_error(s3_ctx *c, bool gave_up)
{
	char code[128] = "", msg[256] = "", detail[600];
	long st = c->resp.status;

	xml_text(c->resp.errbody, "Code", code, sizeof(code));
	xml_text(c->resp.errbody, "Message", msg, sizeof(msg));
	if (!code[0]) {
		snprintf(code, sizeof(code), "%s", st == 403 ? "AccessDenied" : st == 404 ? "NotFound" :
			 st == 503 ? "ServiceUnavailable" : "Error");
	}
	if (st == 404 && c->op->key && (!strcmp(code, "NoSuchKey") || !strcmp(code, "NotFound")))
		return lmd_error_set(LMD_ENOTFOUND, "remote '%s' has no object '%s' (HTTP 404)",
				     c->s3->remote, c->op->key);
	if (!strcmp(code, "NoSuchBucket"))
		return lmd_error_set(LMD_EREMOTE,
				     "remote '%s': bucket '%s' does not exist (NoSuchBucket, HTTP 404); create it or fix the remote's url",
				     c->s3->remote, c->s3->bucket);
	snprintf(detail, sizeof(detail), "%s%s%s (HTTP %ld)%s%s", code, msg[0] ? ": " : "", msg, st,
		 gave_up ? ", gave up after retrying" : "", hint_for(code));
	return s3_fail(c, LMD_EREMOTE, "remote '%s': cannot %s %s: %s", detail);
}

/* ---- one attempt ---- */

static int on_body(const void *data, size_t len, void *payload)
{
	s3_ctx *c = payload;
	s3_op *op = c->op;
	int r;

	if (op->sink && (op->ranged || c->attempt_start) && c->resp.status == 200 &&
	    c->resp.body_bytes == 0) {
		/* asked for a range, got the whole object: refuse rather than misplace bytes */
		c->range_error = 1;
		return LMD_EREMOTE;
	}
	if (op->capture) {
		r = lmd__rbuf_add(op->capture, data, len);
		if (r < 0)
			return r;
	}
	if (op->sink) {
		if (op->range_len != UINT64_MAX && op->delivered + len > op->range_len) {
			c->range_error = 2;
			return LMD_EREMOTE;
		}
		r = op->sink(data, len, op->sink_payload);
		if (r < 0)
			return r;
		op->delivered += len;
		if (c->prog) {
			c->prog->p.bytes_done += len;
			if (c->prog->cb && c->prog->p.bytes_done - c->prog->last_report >= (1u << 20)) {
				c->prog->last_report = c->prog->p.bytes_done;
				c->prog->cb(&c->prog->p, c->prog->payload);
			}
		}
	}
	return 0;
}

static int add_hdr(s3_ctx *c, size_t *n, lmd_sigv4_kv *kv, const char *name, const char *value)
{
	if (*n >= MAX_HDRS - 1)
		return -E2BIG;
	kv[*n].key = name;
	kv[*n].value = value;
	if ((size_t)snprintf(c->hdr[*n], sizeof(c->hdr[*n]), "%s: %s", name, value) >= sizeof(c->hdr[*n]))
		return -E2BIG;
	c->hdrs[*n] = c->hdr[*n];
	(*n)++;
	return 0;
}

static int open_body(s3_ctx *c)
{
	s3_op *op = c->op;
	struct stat st;

	if (!op->path || op->fd >= 0)
		return 0;
	op->fd = open(op->path, O_RDONLY | O_CLOEXEC);
	if (op->fd < 0 || fstat(op->fd, &st) < 0)
		return lmd_error_set(-errno, "cannot read '%s': %s", op->path, lmd_strerror(-errno));
	if (op->body_len == UINT64_MAX)
		op->body_len = (uint64_t)st.st_size - op->body_off;
	return 0;
}

static int start(s3_ctx *c)
{
	s3_backend *s3 = c->s3;
	s3_op *op = c->op;
	lmd__rbuf path = LMD__RBUF_INIT(0), qs = LMD__RBUF_INIT(0), full = LMD__RBUF_INIT(0);
	lmd_sigv4_kv kv[MAX_HDRS];
	char date[17], range[80];
	size_t nh = 0;
	int r;

	lmd__rbuf_reset(&c->url);
	lmd__rbuf_reset(&c->auth_hdr);
	memset(&c->req, 0, sizeof(c->req));
	c->range_error = 0;
	c->attempt_start = op->delivered;
	if ((r = open_body(c)) < 0)
		goto done;

	r = lmd__rbuf_puts(&path, s3->path_base);
	if (r >= 0 && op->key) {
		r = lmd__rbuf_printf(&full, "%s%s", s3->prefix, op->key);
		if (r >= 0)
			r = lmd__rbuf_add(&path, "/", 1);
		if (r >= 0)
			r = lmd_sigv4_uri_encode(&path, full.ptr, false);
	} else if (r >= 0 && !path.len) {
		r = lmd__rbuf_add(&path, "/", 1);
	}
	if (r >= 0)
		r = lmd_sigv4_query_string(&qs, op->query, op->nquery);
	if (r >= 0)
		r = lmd__rbuf_printf(&c->url, "%s%s%s%s", s3->base_url, path.ptr, qs.len ? "?" : "",
				     qs.len ? qs.ptr : "");
	if (r < 0)
		goto done;

	lmd_sigv4_amz_date(time(NULL), date);
	if (!op->payload_hash[0]) {
		if (!op->has_body)
			strcpy(op->payload_hash, LMD_SHA256_EMPTY);
		else if (op->mem)
			lmd_sha256_hex(op->mem, op->body_len, op->payload_hash);
		else
			strcpy(op->payload_hash, LMD_UNSIGNED_PAYLOAD); /* streamed file: never aws-chunked */
	}
	if ((r = add_hdr(c, &nh, kv, "host", s3->host)) < 0 ||
	    (r = add_hdr(c, &nh, kv, "x-amz-date", date)) < 0 ||
	    (r = add_hdr(c, &nh, kv, "x-amz-content-sha256", op->payload_hash)) < 0)
		goto done;
	if (s3->creds.session_token && (r = add_hdr(c, &nh, kv, "x-amz-security-token", s3->creds.session_token)) < 0)
		goto done;
	if (op->content_type && (r = add_hdr(c, &nh, kv, "content-type", op->content_type)) < 0)
		goto done;
	if (op->sink && (op->ranged || op->delivered)) {
		uint64_t from = op->range_off + op->delivered;

		if (op->range_len == UINT64_MAX)
			snprintf(range, sizeof(range), "bytes=%llu-", (unsigned long long)from);
		else
			snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)from,
				 (unsigned long long)(op->range_off + op->range_len - 1));
		if ((r = add_hdr(c, &nh, kv, "range", range)) < 0)
			goto done;
	}
	if (!s3->creds.anonymous) {
		lmd_sigv4_req sr = {
			.method = op->method, .path = path.ptr, .query = op->query, .nquery = op->nquery,
			.headers = kv, .nheaders = nh, .payload_hash = op->payload_hash, .amz_date = date,
			.region = s3->creds.region, .service = "s3",
			.access_key_id = s3->creds.access_key_id,
			.secret_access_key = s3->creds.secret_access_key,
		};
		r = lmd__rbuf_puts(&c->auth_hdr, "Authorization: ");
		if (r >= 0) {
			lmd__rbuf sig = LMD__RBUF_INIT(0);

			r = lmd_sigv4_authorization(&sr, &sig);
			if (r >= 0)
				r = lmd__rbuf_add(&c->auth_hdr, sig.ptr, sig.len);
			lmd__rbuf_release(&sig);
		}
		if (r < 0)
			goto done;
		c->hdrs[nh++] = c->auth_hdr.ptr;
	}
	c->req.method = op->method;
	c->req.url = c->url.ptr;
	c->req.headers = c->hdrs;
	c->req.nheaders = nh;
	c->req.has_body = op->has_body;
	c->req.body_fd = op->mem ? -1 : op->fd;
	c->req.body_off = op->body_off;
	c->req.body_len = op->has_body ? op->body_len : 0;
	c->req.body_mem = op->mem;
	c->req.on_body = on_body;
	c->req.payload = c;
	r = lmd_http_start(s3->http, &c->req, &c->resp, c);
done:
	lmd__rbuf_release(&path);
	lmd__rbuf_release(&qs);
	lmd__rbuf_release(&full);
	return r;
}

/* ---- classification ---- */

static bool retryable_status(long st, const char *errbody)
{
	char code[64] = "";

	if (st >= 500 || st == 429)
		return st != 501;
	xml_text(errbody, "Code", code, sizeof(code));
	return !strcmp(code, "RequestTimeout") || !strcmp(code, "SlowDown");
}

/* 0: done; 1: retry; < 0: failed (message set). */
static int classify(s3_ctx *c)
{
	s3_op *op = c->op;
	lmd_http_resp *rs = &c->resp;
	bool last = op->tries >= c->s3->max_tries;
	char detail[400];

	op->status = rs->status;
	if (rs->error == LMD_HTTP_EABORT) {
		if (c->range_error == 1)
			return s3_fail(c, LMD_EREMOTE, "remote '%s': cannot %s %s: %s",
				       "the server ignored the byte range (HTTP 200 instead of 206)");
		if (c->range_error == 2)
			return s3_fail(c, LMD_EREMOTE, "remote '%s': cannot %s %s: %s",
				       "the server sent more bytes than asked for");
		return rs->cb_error ? rs->cb_error : LMD_EREMOTE; /* the sink's own error */
	}
	if (rs->error != LMD_HTTP_OK) {
		bool transient = rs->error == LMD_HTTP_ECONNECT || rs->error == LMD_HTTP_ETIMEOUT ||
				 rs->error == LMD_HTTP_ETRANSFER;

		if (transient && !last)
			return 1;
		if (rs->status)
			snprintf(detail, sizeof(detail), "%s (HTTP %ld)%s", rs->errmsg, rs->status,
				 transient ? ", gave up after retrying" : "");
		else
			snprintf(detail, sizeof(detail), "%s%s", rs->errmsg,
				 transient ? " (gave up after retrying)" : "");
		return s3_fail(c, LMD_EREMOTE, "remote '%s': cannot %s %s: %s", detail);
	}
	if (rs->status < 200 || rs->status >= 300) {
		if (!strcmp(op->method, "DELETE") && rs->status == 404 && !strstr(rs->errbody, "NoSuchBucket"))
			return 0;
		if (retryable_status(rs->status, rs->errbody) && !last)
			return 1;
		return http_error(c, retryable_status(rs->status, rs->errbody));
	}
	/* 2xx */
	op->has_length = rs->has_length;
	op->content_length = rs->content_length;
	memcpy(op->etag, rs->etag, sizeof(op->etag));
	if (op->sink) {
		uint64_t got = op->delivered - c->attempt_start;

		if (rs->has_length && got != rs->content_length) {
			if (!last)
				return 1;
			snprintf(detail, sizeof(detail), "short body: %llu of %llu bytes (HTTP %ld)",
				 (unsigned long long)got, (unsigned long long)rs->content_length, rs->status);
			return s3_fail(c, LMD_EREMOTE, "remote '%s': cannot %s %s: %s", detail);
		}
		if (op->range_len != UINT64_MAX && op->delivered != op->range_len) {
			snprintf(detail, sizeof(detail),
				 "got %llu of the %llu bytes asked for; the object is shorter than the range",
				 (unsigned long long)op->delivered, (unsigned long long)op->range_len);
			return s3_fail(c, LMD_EREMOTE, "remote '%s': cannot %s %s: %s", detail);
		}
	}
	if (op->capture && strstr(op->capture->ptr ? op->capture->ptr : "", "<Error>")) {
		/* CompleteMultipartUpload can fail inside a 200 */
		snprintf(rs->errbody, sizeof(rs->errbody), "%s", op->capture->ptr);
		if (retryable_status(500, rs->errbody) && !last)
			return 1;
		return http_error(c, false);
	}
	return 0;
}

static int64_t backoff_ms(s3_backend *s3, unsigned tries)
{
	uint64_t d = s3->retry_base_ms;

	for (unsigned i = 1; i < tries && d < s3->retry_max_ms; i++)
		d *= 2;
	if (d > s3->retry_max_ms)
		d = s3->retry_max_ms;
	/* "equal jitter": half fixed, half random */
	return (int64_t)(d / 2 + (uint64_t)rand() % (d / 2 + 1));
}

static void op_close(s3_op *op)
{
	if (op->fd >= 0)
		close(op->fd);
	op->fd = -1;
}

int lmd__s3_run(s3_backend *s3, s3_op *ops, size_t n, unsigned jobs, s3_progress *prog)
{
	s3_ctx *ctx = NULL;
	s3_op **waiting = NULL;
	size_t next = 0, nwait = 0, finished = 0;
	int first = 0, r = 0;
	char msg[2048] = "";

	if (!jobs || jobs > s3->jobs)
		jobs = s3->jobs;
	if (!s3->http && (r = lmd_http_new(&s3->hopts, s3->jobs, &s3->http)) < 0)
		return r;
	ctx = calloc(jobs, sizeof(*ctx));
	waiting = calloc(n ? n : 1, sizeof(*waiting));
	if (!ctx || !waiting) {
		r = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		ops[i].state = OP_PENDING;
		ops[i].tries = 0;
		ops[i].result = 0;
	}

	while (finished < n) {
		int64_t now = now_ms(), timeout = 1000;
		void *user = NULL;

		/* fill free slots: due retries first, then new ops */
		for (unsigned j = 0; j < jobs; j++) {
			s3_op *op = NULL;

			if (ctx[j].in_use)
				continue;
			for (size_t w = 0; w < nwait; w++)
				if (waiting[w]->due_ms <= now) {
					op = waiting[w];
					waiting[w] = waiting[--nwait];
					break;
				}
			if (!op && next < n)
				op = &ops[next++];
			if (!op)
				break;
			if (op->sink && op->range_len == 0) { /* nothing to fetch */
				op->state = OP_DONE;
				finished++;
				continue;
			}
			ctx[j].op = op;
			ctx[j].s3 = s3;
			ctx[j].prog = prog;
			op->tries++;
			op->state = OP_RUNNING;
			r = start(&ctx[j]);
			if (r < 0) {
				op->result = r;
				op->state = OP_DONE;
				op_close(op);
				finished++;
				if (!first) {
					first = r;
					snprintf(msg, sizeof(msg), "%s", lmd_error_last());
				}
				continue;
			}
			ctx[j].in_use = true;
		}
		if (finished >= n)
			break;
		for (size_t w = 0; w < nwait; w++) {
			int64_t d = waiting[w]->due_ms - now;

			if (d < timeout)
				timeout = d < 1 ? 1 : d;
		}
		r = lmd_http_wait(s3->http, (long)timeout, &user);
		if (r <= 0)
			continue;
		{
			s3_ctx *c = user;
			s3_op *op = c->op;
			int cr = classify(c);

			c->in_use = false;
			lmd__rbuf_reset(&c->auth_hdr);
			if (cr == 1) {
				if (op->capture)
					lmd__rbuf_reset(op->capture);
				op->state = OP_WAITING;
				op->due_ms = now_ms() + backoff_ms(s3, op->tries);
				waiting[nwait++] = op;
				continue;
			}
			op->result = cr;
			op->state = OP_DONE;
			op_close(op);
			finished++;
			if (cr < 0 && !first) {
				first = cr;
				snprintf(msg, sizeof(msg), "%s", lmd_error_last());
			}
			if (prog) {
				if (cr == 0 && !op->sink && op->has_body)
					prog->p.bytes_done += op->body_len;
				if (op->count_object)
					prog->p.files_done++;
				if (prog->cb)
					prog->cb(&prog->p, prog->payload);
			}
		}
	}
	r = 0;
done:
	for (unsigned j = 0; ctx && j < jobs; j++) {
		lmd__rbuf_release(&ctx[j].url);
		lmd__rbuf_release(&ctx[j].auth_hdr);
	}
	for (size_t i = 0; i < n; i++)
		op_close(&ops[i]);
	free(ctx);
	free(waiting);
	if (r < 0)
		return r;
	if (first)
		lmd_error_set(first, "%s", msg);
	return first;
}
