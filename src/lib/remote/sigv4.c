/*
 * AWS Signature Version 4 (see sigv4.h).  The canonical request is
 *   METHOD \n PATH \n QUERY \n HEADERS \n \n SIGNED-HEADERS \n PAYLOAD-HASH
 * with header names lowercased and sorted, values trimmed and inner runs of
 * spaces collapsed; the signing key is an HMAC chain over date, region,
 * service and "aws4_request".  The secret only ever lives in the HMAC input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "lmdata/common.h"
#include "remote/sigv4.h"

static const char hexdig[] = "0123456789abcdef";

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[in[i] >> 4];
		out[2 * i + 1] = hexdig[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void lmd_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data, len, md);
	to_hex(md, sizeof(md), out);
}

void lmd_sigv4_amz_date(time_t t, char out[17])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

int lmd_sigv4_uri_encode(lmd__rbuf *out, const char *s, bool encode_slash)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		int r;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encode_slash)) {
			r = lmd__rbuf_add(out, p, 1);
		} else {
			char e[3] = { '%', "0123456789ABCDEF"[c >> 4], "0123456789ABCDEF"[c & 15] };
			r = lmd__rbuf_add(out, e, 3);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

typedef struct enc_pair {
	char *k, *v;
} enc_pair;

static int cmp_pair(const void *a, const void *b)
{
	const enc_pair *x = a, *y = b;
	int c = strcmp(x->k, y->k);

	return c ? c : strcmp(x->v, y->v);
}

int lmd_sigv4_query_string(lmd__rbuf *out, const lmd_sigv4_kv *q, size_t n)
{
	enc_pair *pairs;
	int r = 0;

	if (n == 0)
		return 0;
	pairs = calloc(n, sizeof(*pairs));
	if (!pairs)
		return -ENOMEM;
	for (size_t i = 0; i < n && r >= 0; i++) {
		lmd__rbuf k = LMD__RBUF_INIT(0), v = LMD__RBUF_INIT(0);

		r = lmd_sigv4_uri_encode(&k, q[i].key, true);
		if (r >= 0)
			r = lmd_sigv4_uri_encode(&v, q[i].value ? q[i].value : "", true);
		pairs[i].k = lmd__rbuf_detach(&k);
		pairs[i].v = lmd__rbuf_detach(&v);
		if (!pairs[i].k || !pairs[i].v)
			r = -ENOMEM;
	}
	if (r >= 0) {
		qsort(pairs, n, sizeof(*pairs), cmp_pair);
		for (size_t i = 0; i < n && r >= 0; i++)
			r = lmd__rbuf_printf(out, "%s%s=%s", i ? "&" : "", pairs[i].k, pairs[i].v);
	}
	for (size_t i = 0; i < n; i++) {
		free(pairs[i].k);
		free(pairs[i].v);
	}
	free(pairs);
	return r;
}

typedef struct canon_hdr {
	char *name;        /* lowercased */
	const char *value; /* raw; trimmed when written */
} canon_hdr;

static int cmp_hdr(const void *a, const void *b)
{
	return strcmp(((const canon_hdr *)a)->name, ((const canon_hdr *)b)->name);
}

/* Trim and collapse runs of spaces, as SigV4 asks. */
static int add_header_value(lmd__rbuf *out, const char *v)
{
	bool space = false;
	int r = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v && r >= 0; v++) {
		if (*v == ' ' || *v == '\t') {
			space = true;
			continue;
		}
		if (space)
			r = lmd__rbuf_add(out, " ", 1);
		space = false;
		if (r >= 0)
			r = lmd__rbuf_add(out, v, 1);
	}
	return r;
}

int lmd_sigv4_canonical_request(const lmd_sigv4_req *rq, lmd__rbuf *ret_creq, lmd__rbuf *ret_signed)
{
	lmd__rbuf creq = LMD__RBUF_INIT(0), sh = LMD__RBUF_INIT(0);
	canon_hdr *h = NULL;
	int r;

	h = calloc(rq->nheaders ? rq->nheaders : 1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < rq->nheaders; i++) {
		h[i].name = strdup(rq->headers[i].key);
		if (!h[i].name) {
			r = -ENOMEM;
			goto done;
		}
		for (char *p = h[i].name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		h[i].value = rq->headers[i].value ? rq->headers[i].value : "";
	}
	qsort(h, rq->nheaders, sizeof(*h), cmp_hdr);

	r = lmd__rbuf_printf(&creq, "%s\n%s\n", rq->method, rq->path && *rq->path ? rq->path : "/");
	if (r >= 0)
		r = lmd_sigv4_query_string(&creq, rq->query, rq->nquery);
	if (r >= 0)
		r = lmd__rbuf_add(&creq, "\n", 1);
	for (size_t i = 0; i < rq->nheaders && r >= 0; i++) {
		r = lmd__rbuf_printf(&creq, "%s:", h[i].name);
		if (r >= 0)
			r = add_header_value(&creq, h[i].value);
		if (r >= 0)
			r = lmd__rbuf_add(&creq, "\n", 1);
		if (r >= 0)
			r = lmd__rbuf_printf(&sh, "%s%s", i ? ";" : "", h[i].name);
	}
	if (r >= 0)
		r = lmd__rbuf_printf(&creq, "\n%s\n%s", sh.ptr ? sh.ptr : "", rq->payload_hash);
	if (r < 0)
		goto done;
	if (ret_creq) {
		lmd__rbuf_release(ret_creq);
		*ret_creq = creq;
		creq = (lmd__rbuf)LMD__RBUF_INIT(0);
	}
	if (ret_signed) {
		lmd__rbuf_release(ret_signed);
		*ret_signed = sh;
		sh = (lmd__rbuf)LMD__RBUF_INIT(0);
	}
done:
	for (size_t i = 0; i < rq->nheaders; i++)
		free(h[i].name);
	free(h);
	lmd__rbuf_release(&creq);
	lmd__rbuf_release(&sh);
	return r;
}

static int hmac(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
	unsigned int outlen = 32;

	if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out, &outlen))
		return LMD_EREMOTE;
	return 0;
}

int lmd_sigv4_authorization(const lmd_sigv4_req *rq, lmd__rbuf *ret_auth)
{
	lmd__rbuf creq = LMD__RBUF_INIT(0), sh = LMD__RBUF_INIT(0), sts = LMD__RBUF_INIT(0);
	lmd__rbuf kbuf = LMD__RBUF_INIT(0);
	unsigned char k[32], sig[32];
	char creq_hash[65], sighex[65], date[9];
	int r;

	if (!rq->amz_date || strlen(rq->amz_date) != 16)
		return lmd_error_set(-EINVAL, "bad x-amz-date for signing");
	memcpy(date, rq->amz_date, 8);
	date[8] = '\0';

	r = lmd_sigv4_canonical_request(rq, &creq, &sh);
	if (r < 0)
		goto done;
	lmd_sha256_hex(creq.ptr, creq.len, creq_hash);
	r = lmd__rbuf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
			     rq->amz_date, date, rq->region, rq->service, creq_hash);
	if (r < 0)
		goto done;

	r = lmd__rbuf_printf(&kbuf, "AWS4%s", rq->secret_access_key);
	if (r < 0)
		goto done;
	if ((r = hmac(kbuf.ptr, kbuf.len, date, k)) < 0 ||
	    (r = hmac(k, 32, rq->region, k)) < 0 ||
	    (r = hmac(k, 32, rq->service, k)) < 0 ||
	    (r = hmac(k, 32, "aws4_request", k)) < 0 ||
	    (r = hmac(k, 32, sts.ptr, sig)) < 0)
		goto done;
	to_hex(sig, 32, sighex);
	lmd__rbuf_reset(ret_auth);
	r = lmd__rbuf_printf(ret_auth,
			     "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request,SignedHeaders=%s,Signature=%s",
			     rq->access_key_id, date, rq->region, rq->service, sh.ptr ? sh.ptr : "", sighex);
done:
	explicit_bzero(k, sizeof(k));
	if (kbuf.ptr)
		explicit_bzero(kbuf.ptr, kbuf.len);
	lmd__rbuf_release(&kbuf);
	lmd__rbuf_release(&creq);
	lmd__rbuf_release(&sh);
	lmd__rbuf_release(&sts);
	return r;
}
