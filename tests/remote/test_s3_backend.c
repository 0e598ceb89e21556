/*
 * The S3 backend against a real server: s3rver behind the verifying,
 * fault-injecting proxy of s3_harness.py (every request's signature is
 * recomputed by botocore).  Run by meson through
 *   s3_harness.py run -- test_s3_backend --jobs 1
 * which sets LMD_TEST_S3_ENDPOINT; tests share the proxy's fault settings,
 * hence one at a time, each with its own bucket.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lmdata/remote.h"
#include "remote/util.h"

static const char *endpoint(void)
{
	const char *e = getenv("LMD_TEST_S3_ENDPOINT");

	if (!e)
		cr_assert_fail("LMD_TEST_S3_ENDPOINT is not set: run this test through "
			 "tests/remote/s3_harness.py run -- (meson test does); "
			 "missing tools: run scripts/install-test-deps.sh");
	return e;
}

/* GET a control path of the harness over a plain socket; returns the status. */
static int control_body(const char *path, char *resp, size_t respsz)
{
	const char *e = endpoint(), *colon = strrchr(e, ':');
	struct sockaddr_in a = { .sin_family = AF_INET };
	char req[1024];
	int fd = socket(AF_INET, SOCK_STREAM, 0), status = 0;
	ssize_t n;

	a.sin_port = htons((uint16_t)atoi(colon + 1));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
	cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	n = 0;
	for (ssize_t k; (size_t)n < respsz - 1 && (k = read(fd, resp + n, respsz - 1 - (size_t)n)) > 0;)
		n += k; /* Connection: close, so read to the end */
	close(fd);
	resp[n] = '\0';
	if (n > 0)
		sscanf(resp, "HTTP/1.%*d %d", &status);
	return status;
}

static int control(const char *path)
{
	char resp[512];

	return control_body(path, resp, sizeof(resp));
}

/* A counter of the harness ("injected", "rejected", "verified", ...). */
static long stat_of(const char *name)
{
	char resp[2048], pat[64], *p;

	cr_assert_eq(control_body("/__harness/stats", resp, sizeof(resp)), 200);
	snprintf(pat, sizeof(pat), "\"%s\": ", name);
	p = strstr(resp, pat);
	cr_assert(p, "no %s in %s", name, resp);
	return atol(p + strlen(pat));
}

static void faults(const char *spec)
{
	char p[512];

	snprintf(p, sizeof(p), "/__harness/faults?%s", spec);
	cr_assert_eq(control(p), 200, "cannot set faults %s", spec);
}

static void bucket(const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "/__harness/mkbucket?name=%s", name);
	cr_assert_eq(control(p), 200, "cannot create bucket %s", name);
}

static lmd_backend *open_remote(const char *url, lmd_remote_config *over)
{
	lmd_remote_config cfg = { 0 };
	lmd_backend *b = NULL;

	if (over)
		cfg = *over;
	cfg.url = url;
	cfg.name = "origin";
	cfg.endpoint = endpoint();
	if (!cfg.access_key_id) {
		cfg.access_key_id = "S3RVER";
		cfg.secret_access_key = "S3RVER";
	}
	if (!cfg.retry_base_ms)
		cfg.retry_base_ms = 5;
	if (!cfg.retry_max_ms)
		cfg.retry_max_ms = 50;
	cr_assert_eq(lmd_backend_open(&cfg, &b), 0, "%s", lmd_error_last());
	return b;
}

static void setup(void)
{
	faults("max_faults=0");
}

TestSuite(s3, .init = setup, .timeout = 240);

static int to_rbuf(const void *d, size_t n, void *p)
{
	return lmd__rbuf_add(p, d, n);
}

static void fill(char *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (char)(seed >> 16);
	}
}

Test(s3, put_get_range_head_delete)
{
	lmd_remote_config o = { .session_token = NULL };
	lmd_backend *b;
	lmd__rbuf got = LMD__RBUF_INIT(0);
	char data[5000];
	uint64_t size;

	bucket("basic");
	b = open_remote("s3://basic/repo/one", &o);
	fill(data, sizeof(data), 1);
	cr_assert_eq(lmd_backend_put_buf(b, "packs/ab/x y$+.pack", data, sizeof(data)), 0, "%s", lmd_error_last());
	cr_assert_eq(lmd_backend_head(b, "packs/ab/x y$+.pack", &size), 0, "%s", lmd_error_last());
	cr_assert_eq(size, sizeof(data));
	cr_assert_eq(lmd_backend_get(b, "packs/ab/x y$+.pack", 0, UINT64_MAX, to_rbuf, &got), 0, "%s", lmd_error_last());
	cr_assert_eq(got.len, sizeof(data));
	cr_assert_eq(memcmp(got.ptr, data, sizeof(data)), 0);
	lmd__rbuf_reset(&got);
	cr_assert_eq(lmd_backend_get(b, "packs/ab/x y$+.pack", 100, 50, to_rbuf, &got), 0, "%s", lmd_error_last());
	cr_assert_eq(got.len, 50);
	cr_assert_eq(memcmp(got.ptr, data + 100, 50), 0);
	lmd__rbuf_reset(&got);
	cr_assert_eq(lmd_backend_get(b, "packs/ab/x y$+.pack", 4990, UINT64_MAX, to_rbuf, &got), 0);
	cr_assert_eq(got.len, 10);
	lmd__rbuf_reset(&got);
	/* a range past the end is an error, not a short read */
	cr_assert_eq(lmd_backend_get(b, "packs/ab/x y$+.pack", 4990, 20, to_rbuf, &got), LMD_EREMOTE);
	cr_assert(strstr(lmd_error_last(), "x y$+.pack"), "%s", lmd_error_last());
	/* empty object */
	cr_assert_eq(lmd_backend_put_buf(b, "empty", "", 0), 0, "%s", lmd_error_last());
	cr_assert_eq(lmd_backend_head(b, "empty", &size), 0);
	cr_assert_eq(size, 0);
	cr_assert_eq(lmd_backend_delete(b, "packs/ab/x y$+.pack"), 0, "%s", lmd_error_last());
	cr_assert_eq(lmd_backend_head(b, "packs/ab/x y$+.pack", &size), LMD_ENOTFOUND);
	lmd__rbuf_reset(&got);
	cr_assert_eq(lmd_backend_get(b, "packs/ab/x y$+.pack", 0, UINT64_MAX, to_rbuf, &got), LMD_ENOTFOUND);
	cr_assert(strstr(lmd_error_last(), "origin"), "%s", lmd_error_last());
	cr_assert_eq(lmd_backend_delete(b, "packs/ab/x y$+.pack"), 0, "deleting twice is fine");
	lmd__rbuf_release(&got);
	lmd_backend_free(b);
}

static int count_keys(const char *key, uint64_t size, void *p)
{
	uint64_t *c = p;

	cr_assert(!strncmp(key, "many/", 5), "key %s", key);
	cr_assert_eq(size, 3);
	c[0]++;
	return 0;
}

static void progress(const lmd_progress *p, void *payload)
{
	*(uint64_t *)payload = p->files_done;
}

Test(s3, put_many_and_list_over_1000_keys)
{
	enum { N = 1100 };
	static lmd_remote_put puts[N];
	static char keys[N][32];
	lmd_remote_config o = { .jobs = 16 };
	lmd_backend *b;
	uint64_t count = 0, done = 0;

	bucket("listing");
	b = open_remote("s3://listing/pre", &o);
	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "many/%05d", i);
		puts[i] = (lmd_remote_put){ .key = keys[i], .data = "abc", .len = 3 };
	}
	cr_assert_eq(lmd_backend_put_many(b, puts, N, 0, progress, &done), 0, "%s", lmd_error_last());
	cr_assert_eq(done, N);
	cr_assert_eq(lmd_backend_put_buf(b, "other", "x", 1), 0);
	cr_assert_eq(lmd_backend_list(b, "many/", count_keys, &count), 0, "%s", lmd_error_last());
	cr_assert_eq(count, N, "listed %llu", (unsigned long long)count);
	lmd_backend_free(b);

	/* small pages: many continuation tokens */
	o.list_page_size = 250;
	b = open_remote("s3://listing/pre/", &o);
	count = 0;
	cr_assert_eq(lmd_backend_list(b, "many/", count_keys, &count), 0, "%s", lmd_error_last());
	cr_assert_eq(count, N);
	lmd_backend_free(b);
}

static void write_file(const char *path, size_t n, unsigned seed)
{
	char *buf = malloc(n);
	FILE *f = fopen(path, "w");

	fill(buf, n, seed);
	cr_assert_eq(fwrite(buf, 1, n, f), n);
	fclose(f);
	free(buf);
}

static void check_same(lmd_backend *b, const char *key, size_t n, unsigned seed)
{
	lmd__rbuf got = LMD__RBUF_INIT(0);
	char *want = malloc(n);

	fill(want, n, seed);
	cr_assert_eq(lmd_backend_get(b, key, 0, UINT64_MAX, to_rbuf, &got), 0, "%s", lmd_error_last());
	cr_assert_eq(got.len, n, "%s: %zu of %zu bytes", key, got.len, n);
	cr_assert_eq(memcmp(got.ptr, want, n), 0, "%s differs", key);
	lmd__rbuf_release(&got);
	free(want);
}

Test(s3, multipart_upload_and_aws_cli_reads_it_back)
{
	lmd_remote_config o = { .multipart_threshold = 1 << 20, .part_size = 300 * 1024, .jobs = 4 };
	char src[] = "/tmp/lmd-s3-mpXXXXXX", out[64], cmd[1024];
	lmd_backend *b;
	int fd = mkstemp(src);
	size_t n = 3 * (1 << 20) + 12345;

	close(fd);
	bucket("multi");
	write_file(src, n, 7);
	b = open_remote("s3://multi/p", &o);
	cr_assert_eq(lmd_backend_put_file(b, "packs/big.pack", src), 0, "%s", lmd_error_last());
	check_same(b, "packs/big.pack", n, 7);

	/* interop: Debian's aws reads back the same bytes */
	snprintf(out, sizeof(out), "%s.out", src);
	snprintf(cmd, sizeof(cmd),
		 "AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 "
		 "/usr/bin/aws --endpoint-url %s s3 cp --only-show-errors s3://multi/p/packs/big.pack %s "
		 "&& cmp %s %s", endpoint(), out, src, out);
	cr_assert_eq(system(cmd), 0, "aws s3 cp did not read back the same bytes");
	/* and a single-part file too */
	write_file(src, 5000, 8);
	cr_assert_eq(lmd_backend_put_file(b, "small.bin", src), 0, "%s", lmd_error_last());
	snprintf(cmd, sizeof(cmd),
		 "AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 "
		 "/usr/bin/aws --endpoint-url %s s3 cp --only-show-errors s3://multi/p/small.bin %s "
		 "&& cmp %s %s", endpoint(), out, src, out);
	cr_assert_eq(system(cmd), 0, "aws s3 cp did not read back the same bytes");
	unlink(src);
	unlink(out);
	lmd_backend_free(b);
}

Test(s3, retries_survive_500_503_and_resets)
{
	enum { N = 24 };
	lmd_remote_config o = { .max_tries = 12, .jobs = 6, .multipart_threshold = 200 * 1024,
				.part_size = 64 * 1024 };
	lmd_remote_put puts[N];
	lmd_remote_get gets[N];
	lmd__rbuf got[N];
	char keys[N][32], *bufs[N], src[] = "/tmp/lmd-s3-rtXXXXXX";
	lmd_backend *b;
	int fd = mkstemp(src);

	close(fd);
	bucket("retry");
	b = open_remote("s3://retry", &o);
	for (int i = 0; i < N; i++) {
		size_t n = 30000 + (size_t)i * 1000;

		snprintf(keys[i], sizeof(keys[i]), "obj/%d", i);
		bufs[i] = malloc(n);
		fill(bufs[i], n, 100 + (unsigned)i);
		puts[i] = (lmd_remote_put){ .key = keys[i], .data = bufs[i], .len = n };
		got[i] = (lmd__rbuf)LMD__RBUF_INIT(0);
		gets[i] = (lmd_remote_get){ .key = keys[i], .length = UINT64_MAX, .sink = to_rbuf, .payload = &got[i] };
	}
	faults("fail500=0.15&slowdown503=0.1&reset=0.15&max_faults=40&seed=3");
	cr_assert_eq(lmd_backend_put_many(b, puts, N, 0, NULL, NULL), 0, "%s", lmd_error_last());
	cr_assert_eq(lmd_backend_get_many(b, gets, N, 0, NULL, NULL), 0, "%s", lmd_error_last());
	cr_assert_gt(stat_of("injected"), 10, "the faults did happen");
	cr_assert_eq(stat_of("rejected"), 0, "botocore verified every signature");
	for (int i = 0; i < N; i++) {
		cr_assert_eq(got[i].len, puts[i].len, "object %d", i);
		cr_assert_eq(memcmp(got[i].ptr, bufs[i], got[i].len), 0, "object %d differs", i);
	}
	/* a multipart upload and a list under faults as well */
	write_file(src, 700 * 1024, 9);
	faults("fail500=0.2&reset=0.2&max_faults=10&seed=5");
	cr_assert_eq(lmd_backend_put_file(b, "big", src), 0, "%s", lmd_error_last());
	cr_assert_gt(stat_of("injected"), 0);
	faults("max_faults=0");
	check_same(b, "big", 700 * 1024, 9);
	for (int i = 0; i < N; i++) {
		free(bufs[i]);
		lmd__rbuf_release(&got[i]);
	}
	unlink(src);
	lmd_backend_free(b);
}

Test(s3, timeout_then_retry)
{
	lmd_remote_config o = { .stall_timeout_s = 1, .max_tries = 4 };
	lmd_backend *b;

	bucket("slow");
	b = open_remote("s3://slow", &o);
	cr_assert_eq(lmd_backend_put_buf(b, "k", "value", 5), 0, "%s", lmd_error_last());
	faults("delay=1&delay_s=3&max_faults=1");
	{
		lmd__rbuf got = LMD__RBUF_INIT(0);

		cr_assert_eq(lmd_backend_get(b, "k", 0, UINT64_MAX, to_rbuf, &got), 0, "%s", lmd_error_last());
		cr_assert_str_eq(got.ptr, "value");
		cr_assert_eq(stat_of("delay"), 1);
		lmd__rbuf_release(&got);
	}
	lmd_backend_free(b);
}

Test(s3, persistent_fault_names_key_and_status)
{
	lmd_remote_config o = { .max_tries = 3 };
	lmd__rbuf got = LMD__RBUF_INIT(0);
	lmd_backend *b;

	bucket("broken");
	b = open_remote("s3://broken/r", &o);
	cr_assert_eq(lmd_backend_put_buf(b, "packs/bad.pack", "x", 1), 0);
	faults("always_fail=bad%5C.pack&always_status=500");
	cr_assert_eq(lmd_backend_get(b, "packs/bad.pack", 0, UINT64_MAX, to_rbuf, &got), LMD_EREMOTE);
	cr_assert(strstr(lmd_error_last(), "origin"), "%s", lmd_error_last());
	cr_assert(strstr(lmd_error_last(), "packs/bad.pack"), "%s", lmd_error_last());
	cr_assert(strstr(lmd_error_last(), "HTTP 500"), "%s", lmd_error_last());
	cr_assert(strstr(lmd_error_last(), "InternalError"), "%s", lmd_error_last());
	cr_assert_eq(got.len, 0);
	lmd__rbuf_release(&got);
	lmd_backend_free(b);
}

Test(s3, corrupted_byte_is_delivered_not_hidden)
{
	lmd__rbuf got = LMD__RBUF_INIT(0);
	char data[4096];
	lmd_backend *b;
	int diff = 0;

	bucket("corrupt");
	b = open_remote("s3://corrupt", NULL);
	fill(data, sizeof(data), 11);
	cr_assert_eq(lmd_backend_put_buf(b, "k", data, sizeof(data)), 0);
	faults("corrupt=1&max_faults=1");
	cr_assert_eq(lmd_backend_get(b, "k", 0, UINT64_MAX, to_rbuf, &got), 0, "%s", lmd_error_last());
	cr_assert_eq(got.len, sizeof(data), "full length, no truncation");
	for (size_t i = 0; i < sizeof(data); i++)
		diff += got.ptr[i] != data[i];
	cr_assert_eq(diff, 1, "exactly one flipped byte reaches the caller, whose hash check catches it");
	lmd__rbuf_release(&got);
	lmd_backend_free(b);
}

Test(s3, wrong_secret_and_missing_bucket)
{
	lmd_remote_config o = { .access_key_id = "S3RVER", .secret_access_key = "not-the-secret-42" };
	lmd_backend *b;
	uint64_t size;

	bucket("auth");
	b = open_remote("s3://auth", &o);
	cr_assert_eq(lmd_backend_put_buf(b, "k", "v", 1), LMD_EREMOTE);
	cr_assert(strstr(lmd_error_last(), "SignatureDoesNotMatch"), "%s", lmd_error_last());
	cr_assert(strstr(lmd_error_last(), "HTTP 403"), "%s", lmd_error_last());
	cr_assert(strstr(lmd_error_last(), "'k'"), "%s", lmd_error_last());
	cr_assert_null(strstr(lmd_error_last(), "not-the-secret-42"));
	lmd_backend_free(b);

	b = open_remote("s3://no-such-bucket", NULL);
	cr_assert_eq(lmd_backend_put_buf(b, "k", "v", 1), LMD_EREMOTE);
	cr_assert(strstr(lmd_error_last(), "no-such-bucket"), "%s", lmd_error_last());
	cr_assert(strstr(lmd_error_last(), "does not exist"), "%s", lmd_error_last());
	cr_assert_lt(lmd_backend_head(b, "k", &size), 0);
	lmd_backend_free(b);
}

Test(s3, session_token_is_signed)
{
	lmd_remote_config o = { .access_key_id = "S3RVER", .secret_access_key = "S3RVER",
				.session_token = "FQoGZXIvYXdzEXAMPLETOKEN/+=" };
	lmd_backend *b;
	uint64_t size;

	bucket("token");
	b = open_remote("s3://token", &o);
	cr_assert_eq(lmd_backend_put_buf(b, "k", "v", 1), 0, "%s", lmd_error_last());
	cr_assert_eq(lmd_backend_head(b, "k", &size), 0, "%s", lmd_error_last());
	lmd_backend_free(b);
}

Test(s3, unreachable_endpoint_fails_after_retries)
{
	lmd_remote_config cfg = { .url = "s3://x", .name = "origin", .endpoint = "http://127.0.0.1:9",
				  .access_key_id = "a", .secret_access_key = "b", .max_tries = 2,
				  .retry_base_ms = 5, .connect_timeout_ms = 500 };
	lmd_backend *b = NULL;
	uint64_t size;

	cr_assert_eq(lmd_backend_open(&cfg, &b), 0);
	cr_assert_eq(lmd_backend_head(b, "k", &size), LMD_EREMOTE);
	cr_assert(strstr(lmd_error_last(), "gave up"), "%s", lmd_error_last());
	cr_assert(strstr(lmd_error_last(), "'k'"), "%s", lmd_error_last());
	lmd_backend_free(b);
}
