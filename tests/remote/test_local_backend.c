/*
 * The local folder remote: put/get (whole and ranged), head, list (order,
 * prefixes, temp files ignored), delete, key validation and atomic writes
 * (no temp file left behind, old content intact after a failed put).
 * Each test works in its own temp directory (Criterion forks per test).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lmdata/remote.h"
#include "remote/util.h"

static char root[256];
static lmd_backend *be;

static void setup(void)
{
	lmd_remote_config cfg = { 0 };
	char url[300];

	snprintf(root, sizeof(root), "/tmp/lmd-local-XXXXXX");
	cr_assert(mkdtemp(root));
	snprintf(url, sizeof(url), "file://%s/remote", root);
	cfg.url = url;
	cfg.name = "origin";
	cfg.buffer_size = 7; /* odd, tiny: exercises the streaming loops */
	cr_assert_eq(lmd_backend_open(&cfg, &be), 0, "%s", lmd_error_last());
	cr_assert_str_eq(lmd_backend_type(be), "local");
}

static void teardown(void)
{
	char cmd[300];

	lmd_backend_free(be);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	(void)!system(cmd);
}

TestSuite(local, .init = setup, .fini = teardown);

static int to_rbuf(const void *d, size_t n, void *p)
{
	return lmd__rbuf_add(p, d, n);
}

static char *get(const char *key, uint64_t off, uint64_t len, int *ret)
{
	lmd__rbuf b = LMD__RBUF_INIT(0);

	*ret = lmd_backend_get(be, key, off, len, to_rbuf, &b);
	return lmd__rbuf_detach(&b);
}

Test(local, put_get_head_delete)
{
	const char *data = "hello, remote world";
	uint64_t size;
	char *s;
	int r;

	cr_assert_eq(lmd_backend_put_buf(be, "packs/ab/abcd.pack", data, strlen(data)), 0, "%s", lmd_error_last());
	cr_assert_eq(lmd_backend_head(be, "packs/ab/abcd.pack", &size), 0);
	cr_assert_eq(size, strlen(data));
	s = get("packs/ab/abcd.pack", 0, UINT64_MAX, &r);
	cr_assert_eq(r, 0);
	cr_assert_str_eq(s, data);
	free(s);
	s = get("packs/ab/abcd.pack", 7, 6, &r);
	cr_assert_eq(r, 0);
	cr_assert_str_eq(s, "remote");
	free(s);
	s = get("packs/ab/abcd.pack", 7, UINT64_MAX, &r);
	cr_assert_str_eq(s, "remote world");
	free(s);
	/* past the end: an error, never a silent short read */
	s = get("packs/ab/abcd.pack", 15, 10, &r);
	cr_assert_eq(r, LMD_EREMOTE);
	cr_assert(strstr(lmd_error_last(), "origin"));
	free(s);
	cr_assert_eq(lmd_backend_delete(be, "packs/ab/abcd.pack"), 0);
	cr_assert_eq(lmd_backend_head(be, "packs/ab/abcd.pack", &size), LMD_ENOTFOUND);
	cr_assert(strstr(lmd_error_last(), "packs/ab/abcd.pack"));
	s = get("packs/ab/abcd.pack", 0, UINT64_MAX, &r);
	cr_assert_eq(r, LMD_ENOTFOUND);
	free(s);
	cr_assert_eq(lmd_backend_delete(be, "packs/ab/abcd.pack"), 0, "deleting a missing object succeeds");
}

Test(local, put_file_streams_and_replaces_atomically)
{
	char src[300], dir[300];
	FILE *f;
	int r;
	char *s;

	snprintf(src, sizeof(src), "%s/src.bin", root);
	f = fopen(src, "w");
	for (int i = 0; i < 10000; i++)
		fprintf(f, "%d\n", i);
	fclose(f);
	cr_assert_eq(lmd_backend_put_buf(be, "k/obj", "old", 3), 0);
	cr_assert_eq(lmd_backend_put_file(be, "k/obj", src), 0, "%s", lmd_error_last());
	s = get("k/obj", 0, 5, &r);
	cr_assert_str_eq(s, "0\n1\n2");
	free(s);
	/* a failed put (unreadable source) leaves the old object and no temp file */
	cr_assert_lt(lmd_backend_put_file(be, "k/obj", "/nonexistent/file"), 0);
	s = get("k/obj", 0, 5, &r);
	cr_assert_str_eq(s, "0\n1\n2");
	free(s);
	snprintf(dir, sizeof(dir), "ls -a '%s/remote/k' | grep -q lmd-tmp", root);
	cr_assert_neq(system(dir), 0, "temp file left behind");
}

static int collect(const char *key, uint64_t size, void *p)
{
	lmd__rbuf *b = p;

	return lmd__rbuf_printf(b, "%s:%llu,", key, (unsigned long long)size);
}

Test(local, list_sorted_prefix_and_ignores_temp_files)
{
	lmd__rbuf out = LMD__RBUF_INIT(0);
	char tmp[300];
	int fd;

	cr_assert_eq(lmd_backend_list(be, "", collect, &out), 0, "listing a missing root is empty");
	cr_assert_eq(out.len, 0);
	lmd_backend_put_buf(be, "packs/b/2.pack", "22", 2);
	lmd_backend_put_buf(be, "packs/a/1.pack", "1", 1);
	lmd_backend_put_buf(be, "packs-x", "x", 1);
	lmd_backend_put_buf(be, "index/head", "hhh", 3);
	snprintf(tmp, sizeof(tmp), "%s/remote/packs/a/.lmd-tmp-zzz", root);
	fd = open(tmp, O_CREAT | O_WRONLY, 0644);
	close(fd);
	cr_assert_eq(lmd_backend_list(be, "", collect, &out), 0);
	cr_assert_str_eq(out.ptr, "index/head:3,packs-x:1,packs/a/1.pack:1,packs/b/2.pack:2,");
	lmd__rbuf_reset(&out);
	cr_assert_eq(lmd_backend_list(be, "packs/", collect, &out), 0);
	cr_assert_str_eq(out.ptr, "packs/a/1.pack:1,packs/b/2.pack:2,");
	lmd__rbuf_reset(&out);
	cr_assert_eq(lmd_backend_list(be, "packs", collect, &out), 0);
	cr_assert_str_eq(out.ptr, "packs-x:1,packs/a/1.pack:1,packs/b/2.pack:2,");
	lmd__rbuf_release(&out);
}

static int stop_at_two(const char *key, uint64_t size, void *p)
{
	(void)key;
	(void)size;
	return ++*(int *)p == 2 ? 42 : 0;
}

Test(local, list_callback_stops)
{
	int n = 0;

	lmd_backend_put_buf(be, "a", "", 0);
	lmd_backend_put_buf(be, "b", "", 0);
	lmd_backend_put_buf(be, "c", "", 0);
	cr_assert_eq(lmd_backend_list(be, "", stop_at_two, &n), 42);
	cr_assert_eq(n, 2);
}

Test(local, bad_keys_refused)
{
	const char *bad[] = { "", "/abs", "a/../b", "..", "a//b", "a/./b", "a\\b", "tab\there", "a/" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(lmd_backend_put_buf(be, bad[i], "x", 1), LMD_EBADINPUT, "key '%s'", bad[i]);
	cr_assert_eq(lmd_backend_list(be, "../", collect, NULL), LMD_EBADINPUT);
}

static void progress_cb(const lmd_progress *p, void *payload)
{
	*(uint64_t *)payload = p->files_done;
}

Test(local, batches)
{
	lmd_remote_put puts[3] = {
		{ .key = "m/1", .data = "one", .len = 3 },
		{ .key = "m/2", .data = "two", .len = 3 },
		{ .key = "m/3", .data = "three", .len = 5 },
	};
	lmd__rbuf b[3] = { LMD__RBUF_INIT(0), LMD__RBUF_INIT(0), LMD__RBUF_INIT(0) };
	lmd_remote_get gets[3] = {
		{ .key = "m/1", .length = UINT64_MAX, .sink = to_rbuf, .payload = &b[0] },
		{ .key = "m/missing", .length = UINT64_MAX, .sink = to_rbuf, .payload = &b[1] },
		{ .key = "m/3", .offset = 1, .length = 3, .sink = to_rbuf, .payload = &b[2] },
	};
	uint64_t done = 0;

	cr_assert_eq(lmd_backend_put_many(be, puts, 3, 2, progress_cb, &done), 0);
	cr_assert_eq(done, 3);
	cr_assert_eq(lmd_backend_get_many(be, gets, 3, 2, progress_cb, &done), LMD_ENOTFOUND);
	cr_assert_eq(gets[0].result, 0);
	cr_assert_eq(gets[1].result, LMD_ENOTFOUND);
	cr_assert_eq(gets[2].result, 0, "every request is attempted");
	cr_assert_str_eq(b[0].ptr, "one");
	cr_assert_str_eq(b[2].ptr, "hre");
	for (int i = 0; i < 3; i++)
		lmd__rbuf_release(&b[i]);
}

Test(local, open_rejects_bad_urls)
{
	lmd_remote_config cfg = { .url = "relative/path" };
	lmd_backend *x = NULL;

	cr_assert_eq(lmd_backend_open(&cfg, &x), LMD_EBADINPUT);
	cfg.url = "ftp://host/x";
	cr_assert_eq(lmd_backend_open(&cfg, &x), LMD_EBADINPUT);
	cr_assert_null(x);
}
