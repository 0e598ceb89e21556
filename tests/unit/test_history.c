/*
 * Unit tests of the history helpers that need no repository: reading
 * dates (lmd_date_parse), as --at, --since, --until and --keep-since use it.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <time.h>

#include "lmdata/history.h"

static int64_t parse_ok(const char *s)
{
	int64_t t = 0;
	int rc = lmd_date_parse(s, &t);
	cr_assert_eq(rc, 0, "'%s' was refused: %s", s, lmd_error_last());
	return t;
}

Test(date, iso_with_zones)
{
	cr_assert_eq(parse_ok("2026-11-25T07:03:19Z"), 1795590199);
	cr_assert_eq(parse_ok("2026-11-25 07:03:19Z"), 1795590199);
	cr_assert_eq(parse_ok("2026-11-25T08:03:19+01:00"), 1795590199);
	cr_assert_eq(parse_ok("2026-11-25T02:03:19-0500"), 1795590199);
	cr_assert_eq(parse_ok("2026-11-25T07:03Z"), 1795590180);
	cr_assert_eq(parse_ok("1970-01-01Z"), 0);
}

Test(date, epoch_and_relative)
{
	cr_assert_eq(parse_ok("@0"), 0);
	cr_assert_eq(parse_ok("@1795590199"), 1795590199);
	int64_t now = (int64_t)time(NULL);
	int64_t t = parse_ok("2 days ago");
	cr_assert(t <= now - 2 * 86400 && t >= now - 2 * 86400 - 5);
	t = parse_ok("1 hour ago");
	cr_assert(t <= now - 3600 && t >= now - 3605);
	t = parse_ok("now");
	cr_assert(t >= now && t <= now + 5);
}

Test(date, local_time_without_zone)
{
	setenv("TZ", "UTC", 1);
	tzset();
	cr_assert_eq(parse_ok("2026-11-25"), 1795564800);
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	cr_assert_eq(parse_ok("2026-11-25 01:00"), 1795564800);
}

Test(date, refuses_garbage)
{
	static const char *bad[] = { "", "yesterday-ish", "2026-13-01", "2026-11-32", "2026-11-25T25:00",
				     "2026-11-25X", "@", "@12x", "3 fortnights ago", "2026-1-5", "-1 days ago" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t t = 42;
		cr_assert_eq(lmd_date_parse(bad[i], &t), LMD_EBADINPUT, "'%s' was accepted", bad[i]);
		cr_assert_eq(t, 42, "'%s' wrote the result on failure", bad[i]);
	}
}
