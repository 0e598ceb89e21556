/*
 * Loading libcurl on demand (http.c): lmd_http_new() loads it once, and
 * when it cannot (no such file, not libcurl) fails through the library's
 * error path with a message naming libcurl.so.4 and the package, leaving
 * the out-parameter untouched; later calls give the same answer.
 * LMDATA_LIBCURL is read by the first call only, and Criterion forks per
 * test, so each test starts with libcurl not loaded.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lmdata/common.h"
#include "remote/http.h"

static const lmd_http_opts opts = {
	.connect_timeout_ms = 1000,
	.stall_timeout_s = 5,
	.buffer_size = 16384,
};

Test(http, loads_libcurl)
{
	lmd_http *h = NULL;

	unsetenv("LMDATA_LIBCURL");
	cr_assert_eq(lmd_http_new(&opts, 2, &h), 0, "%s", lmd_error_last());
	cr_assert_not_null(h);
	cr_assert_eq(lmd_http_active(h), 0);
	lmd_http_free(h);
	/* a second client reuses the loaded library */
	cr_assert_eq(lmd_http_new(&opts, 1, &h), 0, "%s", lmd_error_last());
	lmd_http_free(h);
}

Test(http, override_names_the_library)
{
	lmd_http *h = NULL;

	setenv("LMDATA_LIBCURL", "libcurl.so.4", 1);
	cr_assert_eq(lmd_http_new(&opts, 1, &h), 0, "%s", lmd_error_last());
	lmd_http_free(h);
}

Test(http, missing_library_fails_cleanly)
{
	lmd_http *h = (lmd_http *)&opts; /* must stay as it is */

	setenv("LMDATA_LIBCURL", "/nonexistent/libcurl.so.4", 1);
	for (int i = 0; i < 2; i++) {
		lmd_error_clear();
		cr_assert_eq(lmd_http_new(&opts, 1, &h), LMD_EREMOTE);
		cr_assert_eq(h, (lmd_http *)&opts);
		cr_assert_eq(lmd_error_code(), LMD_EREMOTE);
		cr_assert(strstr(lmd_error_last(), "cannot load libcurl (LMDATA_LIBCURL): /nonexistent/libcurl.so.4"),
			  "%s", lmd_error_last());
		cr_assert(strstr(lmd_error_last(), "apt-get install libcurl4"), "%s", lmd_error_last());
	}
	/* the answer is kept: the variable is not read again */
	unsetenv("LMDATA_LIBCURL");
	cr_assert_eq(lmd_http_new(&opts, 1, &h), LMD_EREMOTE);
}

Test(http, not_libcurl_names_the_missing_function)
{
	lmd_http *h = NULL;

	setenv("LMDATA_LIBCURL", "libc.so.6", 1);
	cr_assert_eq(lmd_http_new(&opts, 1, &h), LMD_EREMOTE);
	cr_assert_null(h);
	cr_assert(strstr(lmd_error_last(), "'libc.so.6' has no curl_global_init"), "%s", lmd_error_last());
	cr_assert(strstr(lmd_error_last(), "libcurl.so.4"), "%s", lmd_error_last());
}
