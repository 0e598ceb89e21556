/*
 * libcurl behind http.h.  Each slot owns a reusable easy handle; the multi
 * handle keeps the connection cache, so consecutive requests to the same
 * host reuse connections.  No redirects are followed (S3 answers with an
 * error document instead), HTTP/1.1 only, "Expect: 100-continue" disabled,
 * and a stall timeout (low-speed limit) rather than a total timeout so that
 * large objects are not cut off while they make progress.
 *
 * libcurl is not linked but loaded with dlopen() by the first lmd_http_new():
 * Debian's libcurl4 brings some thirty libraries (gnutls, krb5, ldap, rtmp,
 * ssh2, ...) whose loading, relocations and constructors would cost every
 * command about 1.7 ms at exec, local ones included, for the few that talk
 * to a remote (git keeps curl out of its main binary, in git-remote-https,
 * for the same reason).  The code still compiles against <curl/curl.h>: the
 * function table below takes its types from curl's own prototypes, and
 * every call goes through it (api.easy_setopt(...) for curl_easy_setopt).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "lmdata/common.h"
#include "lmdata/remote.h"
#include "remote/http.h"
#include "remote/util.h"

/* The soname Debian's libcurl4 (and libcurl4-openssl-dev's libcurl.so) name. */
#define LIBCURL_NAME "libcurl.so.4"
/* The oldest libcurl with everything used here: CURLOPT_PROTOCOLS_STR is
 * 7.85.0 (curl_multi_poll 7.66.0).  An older library would ignore the
 * unknown option and so allow every protocol it has: refused at load. */
#define LIBCURL_MIN_NUM 0x075500
#define LIBCURL_MIN "7.85.0"
#if LIBCURL_VERSION_NUM < LIBCURL_MIN_NUM
#error "libcurl headers older than 7.85.0 (see LIBCURL_MIN)"
#endif
#define LIBCURL_HINT "S3 remotes need " LIBCURL_NAME " (libcurl " LIBCURL_MIN " or newer): " \
	"install libcurl4 (Debian: apt-get install libcurl4), or set LMDATA_LIBCURL to its path"

/* Every curl function used, as curl_<name>. */
#define CURL_FUNCS(X) \
	X(global_init) X(version_info) X(easy_strerror) \
	X(easy_init) X(easy_cleanup) X(easy_reset) X(easy_setopt) X(easy_getinfo) \
	X(slist_append) X(slist_free_all) \
	X(multi_init) X(multi_cleanup) X(multi_setopt) X(multi_add_handle) \
	X(multi_remove_handle) X(multi_perform) X(multi_info_read) X(multi_poll)

/* Filled once by load_curl(); read only after lmd_http_new() succeeded. */
static struct {
#define X(f) __typeof__(curl_##f) *f;
	CURL_FUNCS(X)
#undef X
} api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_rc;            /* 0, or LMD_EREMOTE with load_err */
static char load_err[1024];

/*
 * Load libcurl (LMDATA_LIBCURL, a file name or path, overrides the soname),
 * resolve every function, check the version and run curl_global_init().
 * The handle is never closed: curl's global state lives in it.
 */
static void load_curl(void)
{
	const char *name = getenv("LMDATA_LIBCURL");
	const curl_version_info_data *v;
	const char *missing = NULL;
	bool custom = name && *name;
	CURLcode c;
	void *lib;

	if (!custom)
		name = LIBCURL_NAME;
	lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		const char *why = dlerror();

		/* glibc's text starts with the file name */
		snprintf(load_err, sizeof(load_err), "cannot load libcurl%s: %s; " LIBCURL_HINT,
			 custom ? " (LMDATA_LIBCURL)" : "", why ? why : name);
		load_rc = LMD_EREMOTE;
		return;
	}
#define X(f) \
	if (!missing && !(api.f = (__typeof__(api.f))dlsym(lib, "curl_" #f))) \
		missing = "curl_" #f;
	CURL_FUNCS(X)
#undef X
	if (missing) {
		snprintf(load_err, sizeof(load_err), "'%s' has no %s: it is not libcurl, or one older than %s; "
			 LIBCURL_HINT, name, missing, LIBCURL_MIN);
		goto fail;
	}
	v = api.version_info(CURLVERSION_NOW);
	if (!v || v->version_num < LIBCURL_MIN_NUM) {
		snprintf(load_err, sizeof(load_err), "'%s' is libcurl %s, older than %s; " LIBCURL_HINT,
			 name, v && v->version ? v->version : "(unknown version)", LIBCURL_MIN);
		goto fail;
	}
	c = api.global_init(CURL_GLOBAL_DEFAULT);
	if (c != CURLE_OK) {
		snprintf(load_err, sizeof(load_err), "cannot initialise libcurl: %s", api.easy_strerror(c));
		load_rc = LMD_EREMOTE;
		return; /* may have half-initialised: keep it loaded */
	}
	return;
fail:
	memset(&api, 0, sizeof(api));
	dlclose(lib);
	load_rc = LMD_EREMOTE;
}

typedef struct slot {
	CURL *easy;
	struct curl_slist *hdrs;
	const lmd_http_req *req;
	lmd_http_resp *resp;
	void *user;
	uint64_t read_pos;
	char errbuf[CURL_ERROR_SIZE];
	bool busy, read_failed, bad_length;
} slot;

struct lmd_http {
	CURLM *multi;
	lmd_http_opts opts;
	slot *slots;
	unsigned nslots, active;
};

static size_t on_header(char *buf, size_t size, size_t n, void *p)
{
	slot *s = p;
	lmd_http_resp *resp = s->resp;
	size_t len = size * n, vlen;
	const char *colon, *v;

	if (len >= 5 && !strncmp(buf, "HTTP/", 5)) {
		/* a new response (after a 100 Continue, say): forget the last one's headers */
		resp->has_length = false;
		resp->etag[0] = resp->content_range[0] = '\0';
		return len;
	}
	colon = memchr(buf, ':', len);
	if (!colon)
		return len;
	v = colon + 1;
	while (v < buf + len && (*v == ' ' || *v == '\t'))
		v++;
	vlen = (size_t)(buf + len - v);
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
#define IS(name) ((size_t)(colon - buf) == sizeof(name) - 1 && !strncasecmp(buf, name, sizeof(name) - 1))
	if (IS("content-length")) {
		uint64_t cl;

		if (lmd__parse_u64(v, vlen, LMD_REMOTE_MAX_OBJECT, &cl) == 0) {
			resp->has_length = true;
			resp->content_length = cl;
		} else {
			s->bad_length = true;
			return 0; /* absurd or malformed length: fail the transfer */
		}
	} else if (IS("etag") && vlen < sizeof(resp->etag)) {
		memcpy(resp->etag, v, vlen);
		resp->etag[vlen] = '\0';
	} else if (IS("content-range") && vlen < sizeof(resp->content_range)) {
		memcpy(resp->content_range, v, vlen);
		resp->content_range[vlen] = '\0';
	}
#undef IS
	return len;
}

static size_t on_write(char *buf, size_t size, size_t n, void *p)
{
	slot *s = p;
	lmd_http_resp *resp = s->resp;
	size_t len = size * n;
	long code = 0;

	api.easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code >= 300) {
		size_t room = sizeof(resp->errbody) - 1 - resp->errbody_len;
		size_t take = len < room ? len : room;

		memcpy(resp->errbody + resp->errbody_len, buf, take);
		resp->errbody_len += take;
		resp->errbody[resp->errbody_len] = '\0';
		return len;
	}
	resp->status = code; /* lets on_body tell 200 from 206 */
	if (s->req->on_body) {
		int r = s->req->on_body(buf, len, s->req->payload);

		if (r < 0) {
			resp->cb_error = r;
			return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
		}
	}
	resp->body_bytes += len;
	return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *p)
{
	slot *s = p;
	const lmd_http_req *req = s->req;
	size_t want = size * n;
	uint64_t left = req->body_len - s->read_pos;

	if (want > left)
		want = (size_t)left;
	if (!want)
		return 0;
	if (req->body_fd >= 0) {
		ssize_t got;

		do
			got = pread(req->body_fd, buf, want, (off_t)(req->body_off + s->read_pos));
		while (got < 0 && errno == EINTR);
		if (got <= 0) {
			s->read_failed = true;
			return CURL_READFUNC_ABORT; /* file shrank or unreadable */
		}
		want = (size_t)got;
	} else {
		memcpy(buf, (const char *)req->body_mem + s->read_pos, want);
	}
	s->read_pos += want;
	return want;
}

static int on_seek(void *p, curl_off_t off, int origin)
{
	slot *s = p;

	if (origin != SEEK_SET || off < 0 || (uint64_t)off > s->req->body_len)
		return CURL_SEEKFUNC_FAIL;
	s->read_pos = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

int lmd_http_new(const lmd_http_opts *o, unsigned max_parallel, lmd_http **ret)
{
	lmd_http *h;

	pthread_once(&load_once, load_curl);
	if (load_rc < 0)
		return lmd_error_set(load_rc, "%s", load_err);
	if (!max_parallel)
		max_parallel = 1;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->opts = *o;
	h->nslots = max_parallel;
	h->slots = calloc(max_parallel, sizeof(*h->slots));
	h->multi = api.multi_init();
	if (!h->slots || !h->multi) {
		lmd_http_free(h);
		return -ENOMEM;
	}
	api.multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)max_parallel + 2);
	api.multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)max_parallel);
	*ret = h;
	return 0;
}

void lmd_http_free(lmd_http *h)
{
	if (!h)
		return;
	for (unsigned i = 0; i < h->nslots && h->slots; i++) {
		if (h->slots[i].easy) {
			if (h->slots[i].busy)
				api.multi_remove_handle(h->multi, h->slots[i].easy);
			api.easy_cleanup(h->slots[i].easy);
		}
		api.slist_free_all(h->slots[i].hdrs);
	}
	if (h->multi)
		api.multi_cleanup(h->multi);
	free(h->slots);
	free(h);
}

unsigned lmd_http_active(const lmd_http *h)
{
	return h->active;
}

static int setup(lmd_http *h, slot *s)
{
	const lmd_http_req *req = s->req;
	CURL *e = s->easy;

	api.easy_reset(e);
	api.slist_free_all(s->hdrs);
	s->hdrs = NULL;
	for (size_t i = 0; i < req->nheaders; i++) {
		struct curl_slist *n = api.slist_append(s->hdrs, req->headers[i]);

		if (!n)
			return -ENOMEM;
		s->hdrs = n;
	}
	{
		/* curl would add these by itself; neither helps us */
		struct curl_slist *n = api.slist_append(s->hdrs, "Expect:");

		if (!n)
			return -ENOMEM;
		s->hdrs = n;
		n = api.slist_append(s->hdrs, "Content-Type:");
		if (!n)
			return -ENOMEM;
		s->hdrs = n;
	}
	s->errbuf[0] = '\0';
	api.easy_setopt(e, CURLOPT_URL, req->url);
	api.easy_setopt(e, CURLOPT_HTTPHEADER, s->hdrs);
	api.easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
	api.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	api.easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	api.easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	api.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	api.easy_setopt(e, CURLOPT_USERAGENT, "lmdata/" LMD_VERSION_STRING);
	api.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)h->opts.connect_timeout_ms);
	api.easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	api.easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)h->opts.stall_timeout_s);
	api.easy_setopt(e, CURLOPT_BUFFERSIZE, (long)h->opts.buffer_size);
	api.easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	if (h->opts.insecure) {
		api.easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		api.easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	api.easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	api.easy_setopt(e, CURLOPT_HEADERDATA, s);
	api.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	api.easy_setopt(e, CURLOPT_WRITEDATA, s);
	api.easy_setopt(e, CURLOPT_PRIVATE, s);

	if (!strcmp(req->method, "HEAD")) {
		api.easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(req->method, "PUT")) {
		api.easy_setopt(e, CURLOPT_UPLOAD, 1L);
		api.easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
	} else if (!strcmp(req->method, "POST")) {
		api.easy_setopt(e, CURLOPT_POST, 1L);
		api.easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->has_body ? req->body_len : 0));
	} else if (strcmp(req->method, "GET")) {
		api.easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	}
	if (!strcmp(req->method, "PUT") || !strcmp(req->method, "POST")) {
		api.easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		api.easy_setopt(e, CURLOPT_READDATA, s);
		api.easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
		api.easy_setopt(e, CURLOPT_SEEKDATA, s);
	}
	return 0;
}

int lmd_http_start(lmd_http *h, const lmd_http_req *req, lmd_http_resp *resp, void *user)
{
	slot *s = NULL;
	int r;

	for (unsigned i = 0; i < h->nslots; i++)
		if (!h->slots[i].busy) {
			s = &h->slots[i];
			break;
		}
	if (!s)
		return -EBUSY;
	if (!s->easy && !(s->easy = api.easy_init()))
		return -ENOMEM;
	memset(resp, 0, sizeof(*resp));
	s->req = req;
	s->resp = resp;
	s->user = user;
	s->read_pos = 0;
	s->read_failed = s->bad_length = false;
	r = setup(h, s);
	if (r < 0)
		return r;
	if (api.multi_add_handle(h->multi, s->easy) != CURLM_OK)
		return -ENOMEM;
	s->busy = true;
	h->active++;
	return 0;
}

static int kind_of(CURLcode c)
{
	switch (c) {
	case CURLE_OK:
		return LMD_HTTP_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return LMD_HTTP_ECONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return LMD_HTTP_ETIMEOUT;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_READ_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
	case CURLE_WEIRD_SERVER_REPLY:
		return LMD_HTTP_ETRANSFER;
	case CURLE_WRITE_ERROR:
		return LMD_HTTP_EABORT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return LMD_HTTP_ETLS;
	default:
		return LMD_HTTP_EOTHER;
	}
}

static void finish(lmd_http *h, slot *s, CURLcode c)
{
	lmd_http_resp *resp = s->resp;

	api.easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->error = kind_of(c);
	if (s->bad_length) {
		resp->error = LMD_HTTP_EOTHER;
		snprintf(resp->errmsg, sizeof(resp->errmsg), "the server sent a bad or oversized Content-Length");
	} else if (s->read_failed) {
		resp->error = LMD_HTTP_EOTHER;
		snprintf(resp->errmsg, sizeof(resp->errmsg), "the local file shrank or could not be read during upload");
	} else if (c != CURLE_OK)
		snprintf(resp->errmsg, sizeof(resp->errmsg), "%s",
			 s->errbuf[0] ? s->errbuf : api.easy_strerror(c));
	/* strip curl's trailing newline */
	for (size_t n = strlen(resp->errmsg); n && resp->errmsg[n - 1] == '\n'; n--)
		resp->errmsg[n - 1] = '\0';
	api.multi_remove_handle(h->multi, s->easy);
	s->busy = false;
	h->active--;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int lmd_http_wait(lmd_http *h, long timeout_ms, void **ret_user)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	for (;;) {
		int running = 0, left;
		int64_t remaining;
		CURLMsg *m;

		api.multi_perform(h->multi, &running);
		while ((m = api.multi_info_read(h->multi, &left))) {
			slot *s = NULL;
			void *user;

			if (m->msg != CURLMSG_DONE)
				continue;
			api.easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			if (!s)
				continue;
			user = s->user;
			finish(h, s, m->data.result);
			*ret_user = user;
			return 1;
		}
		remaining = deadline - now_ms();
		if (remaining <= 0)
			return 0;
		/* curl_multi_poll waits even with no transfer (retry back-off) and
		 * returns early on activity */
		api.multi_poll(h->multi, NULL, 0, (int)(remaining > 1000 ? 1000 : remaining), NULL);
	}
}
