/*
 * AWS Signature V4: the header-based signing examples of the S3 API
 * reference ("Signature Calculations for the Authorization Header:
 * Transferring Payload in a Single Chunk", examplebucket, 20130524T000000Z),
 * with their exact canonical requests and signatures, plus the URI
 * encoding rules the signer depends on.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "remote/sigv4.h"

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define HOST "examplebucket.s3.amazonaws.com"
#define DATE "20130524T000000Z"

static char *sign(const char *method, const char *path, const lmd_sigv4_kv *q, size_t nq,
		  const lmd_sigv4_kv *h, size_t nh, const char *payload)
{
	lmd_sigv4_req r = {
		.method = method, .path = path, .query = q, .nquery = nq, .headers = h, .nheaders = nh,
		.payload_hash = payload, .amz_date = DATE, .region = "us-east-1", .service = "s3",
		.access_key_id = AKID, .secret_access_key = SECRET,
	};
	lmd__rbuf out = LMD__RBUF_INIT(0);

	cr_assert_eq(lmd_sigv4_authorization(&r, &out), 0);
	return lmd__rbuf_detach(&out);
}

static char *creq_hash(const char *method, const char *path, const lmd_sigv4_kv *q, size_t nq,
		       const lmd_sigv4_kv *h, size_t nh, const char *payload, char out[65])
{
	lmd_sigv4_req r = {
		.method = method, .path = path, .query = q, .nquery = nq, .headers = h, .nheaders = nh,
		.payload_hash = payload, .amz_date = DATE, .region = "us-east-1", .service = "s3",
	};
	lmd__rbuf creq = LMD__RBUF_INIT(0);

	cr_assert_eq(lmd_sigv4_canonical_request(&r, &creq, NULL), 0);
	lmd_sha256_hex(creq.ptr, creq.len, out);
	return lmd__rbuf_detach(&creq);
}

Test(sigv4, get_object_with_range)
{
	lmd_sigv4_kv h[] = {
		{ "Host", HOST }, { "Range", "bytes=0-9" },
		{ "x-amz-content-sha256", LMD_SHA256_EMPTY }, { "x-amz-date", DATE },
	};
	char *auth = sign("GET", "/test.txt", NULL, 0, h, 4, LMD_SHA256_EMPTY);

	cr_assert_str_eq(auth,
		"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
		"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
		"Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	free(auth);
}

Test(sigv4, put_object_encoded_key_and_storage_class)
{
	const char *body = "Welcome to Amazon S3.";
	char payload[65], hash[65], *creq, *auth;
	lmd__rbuf path = LMD__RBUF_INIT(0);

	lmd_sha256_hex(body, strlen(body), payload);
	cr_assert_str_eq(payload, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
	cr_assert_eq(lmd__rbuf_puts(&path, "/"), 0);
	cr_assert_eq(lmd_sigv4_uri_encode(&path, "test$file.text", false), 0);
	cr_assert_str_eq(path.ptr, "/test%24file.text");
	{
		lmd_sigv4_kv h[] = {
			{ "Date", "Fri, 24 May 2013 00:00:00 GMT" }, { "Host", HOST },
			{ "x-amz-date", DATE }, { "x-amz-storage-class", "REDUCED_REDUNDANCY" },
			{ "x-amz-content-sha256", payload },
		};
		creq = creq_hash("PUT", path.ptr, NULL, 0, h, 5, payload, hash);
		cr_assert_str_eq(creq,
			"PUT\n/test%24file.text\n\n"
			"date:Fri, 24 May 2013 00:00:00 GMT\nhost:examplebucket.s3.amazonaws.com\n"
			"x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
			"x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
			"date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
			"44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
		cr_assert_str_eq(hash, "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
		auth = sign("PUT", path.ptr, NULL, 0, h, 5, payload);
	}
	cr_assert_str_eq(auth,
		"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
		"SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
		"Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
	free(creq);
	free(auth);
	lmd__rbuf_release(&path);
}

Test(sigv4, get_bucket_lifecycle)
{
	lmd_sigv4_kv q[] = { { "lifecycle", NULL } };
	lmd_sigv4_kv h[] = {
		{ "host", HOST }, { "x-amz-content-sha256", LMD_SHA256_EMPTY }, { "x-amz-date", DATE },
	};
	char hash[65], *creq = creq_hash("GET", "/", q, 1, h, 3, LMD_SHA256_EMPTY, hash);
	char *auth = sign("GET", "/", q, 1, h, 3, LMD_SHA256_EMPTY);

	cr_assert_str_eq(creq,
		"GET\n/\nlifecycle=\nhost:examplebucket.s3.amazonaws.com\n"
		"x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
		"x-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n"
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	cr_assert_str_eq(hash, "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
	cr_assert(strstr(auth, "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"));
	free(creq);
	free(auth);
}

Test(sigv4, list_objects_sorts_query)
{
	/* given out of order on purpose: the canonical form sorts */
	lmd_sigv4_kv q[] = { { "prefix", "J" }, { "max-keys", "2" } };
	lmd_sigv4_kv h[] = {
		{ "host", HOST }, { "x-amz-content-sha256", LMD_SHA256_EMPTY }, { "x-amz-date", DATE },
	};
	char *auth = sign("GET", "/", q, 2, h, 3, LMD_SHA256_EMPTY);

	cr_assert_str_eq(auth,
		"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
		"SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
		"Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
	free(auth);
}

Test(sigv4, uri_encoding)
{
	struct { const char *in; bool slash; const char *want; } c[] = {
		{ "a b", false, "a%20b" }, { "a+b", false, "a%2Bb" }, { "100%", false, "100%25" },
		{ "a/b", false, "a/b" }, { "a/b", true, "a%2Fb" }, { "A-z_0.9~", true, "A-z_0.9~" },
		{ "=&?#", true, "%3D%26%3F%23" }, { "\xc3\xa9", true, "%C3%A9" },
		{ "!'()*", true, "%21%27%28%29%2A" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		lmd__rbuf o = LMD__RBUF_INIT(0);

		cr_assert_eq(lmd_sigv4_uri_encode(&o, c[i].in, !c[i].slash ? false : true), 0);
		cr_assert_str_eq(o.ptr ? o.ptr : "", c[i].want, "encode(%s)", c[i].in);
		lmd__rbuf_release(&o);
	}
	{
		lmd_sigv4_kv q[] = { { "b", "2" }, { "a", "x y" }, { "a", "+" }, { "c", NULL } };
		lmd__rbuf o = LMD__RBUF_INIT(0);

		cr_assert_eq(lmd_sigv4_query_string(&o, q, 4), 0);
		cr_assert_str_eq(o.ptr, "a=%2B&a=x%20y&b=2&c=");
		lmd__rbuf_release(&o);
	}
}

Test(sigv4, header_values_trimmed_and_collapsed)
{
	lmd_sigv4_kv h[] = { { "X-Test", "  a   b  c " }, { "host", "h" } };
	lmd_sigv4_req r = { .method = "GET", .path = "/", .headers = h, .nheaders = 2,
			    .payload_hash = LMD_SHA256_EMPTY, .amz_date = DATE };
	lmd__rbuf creq = LMD__RBUF_INIT(0), sh = LMD__RBUF_INIT(0);

	cr_assert_eq(lmd_sigv4_canonical_request(&r, &creq, &sh), 0);
	cr_assert(strstr(creq.ptr, "\nx-test:a b c\n"));
	cr_assert_str_eq(sh.ptr, "host;x-test");
	lmd__rbuf_release(&creq);
	lmd__rbuf_release(&sh);
}

Test(sigv4, amz_date)
{
	char d[17];

	lmd_sigv4_amz_date(1369353600, d);
	cr_assert_str_eq(d, "20130524T000000Z");
}
