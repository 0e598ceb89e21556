/* lmdata log: the commits that changed tracked data, with sizes and file counts. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli_rev.h"

struct log_ctx {
	bool json, oneline;
	int n;
};

static void fmt_date(char *out, size_t n, int64_t t, int tz)
{
	time_t shifted = (time_t)(t + (int64_t)tz * 60);
	struct tm tm;
	char buf[64];
	gmtime_r(&shifted, &tm);
	strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y", &tm);
	snprintf(out, n, "%s %c%02d%02d", buf, tz < 0 ? '-' : '+', abs(tz) / 60, abs(tz) % 60);
}

static void iso_date(char *out, size_t n, int64_t t, int tz)
{
	time_t shifted = (time_t)(t + (int64_t)tz * 60);
	struct tm tm;
	char buf[64];
	gmtime_r(&shifted, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, n, "%s%c%02d:%02d", buf, tz < 0 ? '-' : '+', abs(tz) / 60, abs(tz) % 60);
}

static void change_text(const lmd_log_dataset *d, char *out, size_t n)
{
	char files[96] = "", bytes[48];
	uint64_t from = d->existed_before ? d->old_size : 0, to = d->exists ? d->size : 0;
	if (to >= from)
		snprintf(bytes, sizeof(bytes), "+%s", lmd_human_size(to - from));
	else
		snprintf(bytes, sizeof(bytes), "-%s", lmd_human_size(from - to));
	if (d->added >= 0)
		snprintf(files, sizeof(files), "+%" PRId64 " -%" PRId64 " ~%" PRId64 " files, ", d->added, d->deleted,
			 d->modified);
	snprintf(out, n, "%s%s%s", !d->existed_before ? "new, " : !d->exists ? "removed, " : "", files, bytes);
}

static int entry(const lmd_log_entry *e, void *payload)
{
	struct log_ctx *c = payload;
	char date[96], change[200];

	if (c->json) {
		iso_date(date, sizeof(date), e->time, e->tz);
		printf("%s\n  {\"commit\": \"%s\", \"author\": ", c->n ? "," : "", e->commit);
		cli_json_str(stdout, e->author);
		printf(", \"email\": ");
		cli_json_str(stdout, e->email);
		printf(", \"date\": \"%s\", \"timestamp\": %" PRId64 ", \"subject\": ", date, e->time);
		cli_json_str(stdout, e->subject);
		printf(", \"datasets\": [");
		for (size_t i = 0; i < e->ndatasets; i++) {
			const lmd_log_dataset *d = &e->datasets[i];
			printf("%s\n    {\"path\": ", i ? "," : "");
			cli_json_str(stdout, d->path);
			printf(", \"status\": \"%s\", \"size\": %" PRIu64 ", \"files\": %" PRIu64 ", \"old_size\": %" PRIu64
			       ", \"old_files\": %" PRIu64 ", \"size_delta\": %" PRId64,
			       !d->existed_before ? "added" : !d->exists ? "removed" : "modified", d->size, d->files,
			       d->old_size, d->old_files, (int64_t)(d->size - d->old_size));
			if (d->added >= 0)
				printf(", \"files_added\": %" PRId64 ", \"files_deleted\": %" PRId64
				       ", \"files_modified\": %" PRId64, d->added, d->deleted, d->modified);
			printf("}");
		}
		printf("%s]}", e->ndatasets ? "\n  " : "");
	} else if (c->oneline) {
		printf("%.7s %s", e->commit, e->subject);
		for (size_t i = 0; i < e->ndatasets; i++) {
			change_text(&e->datasets[i], change, sizeof(change));
			printf("%s %s (%s)", i ? "," : " |", lmd_quote(e->datasets[i].path), change);
		}
		printf("\n");
	} else {
		fmt_date(date, sizeof(date), e->time, e->tz);
		printf("%scommit %s\nAuthor: %s <%s>\nDate:   %s\n\n    %s\n\n", c->n ? "\n" : "", e->commit, e->author,
		       e->email, date, e->subject);
		for (size_t i = 0; i < e->ndatasets; i++) {
			const lmd_log_dataset *d = &e->datasets[i];
			change_text(d, change, sizeof(change));
			if (d->exists)
				printf("    %s  %s, %" PRIu64 " file%s  (%s)\n", lmd_quote(d->path), lmd_human_size(d->size),
				       d->files, d->files == 1 ? "" : "s", change);
			else
				printf("    %s  (%s)\n", lmd_quote(d->path), change);
		}
	}
	c->n++;
	return 0;
}

int cmd_log(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'J' },
					      { "oneline", no_argument, NULL, 'o' },
					      { "max-count", required_argument, NULL, 'n' },
					      { "since", required_argument, NULL, 's' },
					      { "after", required_argument, NULL, 's' },
					      { "until", required_argument, NULL, 'u' },
					      { "before", required_argument, NULL, 'u' }, { 0 } };
	struct log_ctx c = { 0 };
	lmd_log_opts lo = { 0 };
	const char *since = NULL, *until = NULL;
	int ddpos = cli_dashdash(argc, argv), n, dd, o, rc;
	char **args = NULL;
	lmd_repo *r;

	while ((o = getopt_long(ddpos, argv, "n:", opts, NULL)) != -1) {
		if (o == 'J') {
			c.json = true;
		} else if (o == 'o') {
			c.oneline = true;
		} else if (o == 'n') {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 0)
				return cli_usage_error("log", "-n wants a number, not '%s'", optarg);
			lo.max = (size_t)v;
			if (v == 0)
				return 0;
		} else if (o == 's') {
			since = optarg;
		} else if (o == 'u') {
			until = optarg;
		} else {
			return cli_usage_error("log", "unknown option");
		}
	}
	if ((since && (rc = lmd_date_parse(since, &lo.since)) < 0) || (until && (rc = lmd_date_parse(until, &lo.until)) < 0))
		return cli_fail(rc);
	if ((rc = cli_gather_args(argc, argv, ddpos, optind, &args, &n, &dd)))
		return rc;
	if ((rc = cli_open_repo(&r))) {
		free(args);
		return rc;
	}
	if (c.json)
		printf("[");
	rc = lmd_log(r, &lo, (const char *const *)args, (size_t)n, entry, &c);
	if (c.json)
		printf("%s]\n", c.n ? "\n" : "");
	rc = rc < 0 ? cli_fail(rc) : 0;
	free(args);
	lmd_repo_free(r);
	return rc;
}
