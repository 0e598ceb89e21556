/*
 * CLI helpers (see cli.h).
 */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

cli_globals g_cli;

int cli_exit_code(int rc)
{
	if (rc >= 0)
		return EXIT_OK;
	switch (rc) {
	case LMD_EUSAGE:
	case LMD_EBADINPUT:
	case LMD_ENOTREPO:
	case LMD_EMANIFEST:
	case LMD_ENOTFOUND:
		return EXIT_USAGE;
	case LMD_EDIRTY:
		return EXIT_FOUND;
	default:
		return EXIT_FAIL;
	}
}

int cli_fail(int rc)
{
	const char *msg = lmd_error_last();
	if (g_cli.progress)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "lmdata: error: %s\n", msg && *msg ? msg : lmd_strerror(rc));
	return cli_exit_code(rc);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "lmdata %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nsee 'lmdata %s --help'\n", cmd);
	return EXIT_USAGE;
}

int cli_open_repo(lmd_repo **ret)
{
	int rc = lmd_repo_open(NULL, ret);
	if (rc < 0)
		return cli_fail(rc);
	if (g_cli.progress)
		lmd_repo_set_progress(*ret, cli_progress, NULL);
	lmd_repo_set_jobs(*ret, g_cli.jobs);
	return 0;
}

void cli_progress(const lmd_progress *p, void *payload)
{
	static int64_t start;
	struct timespec ts;
	int64_t now;
	double secs, rate;
	(void)payload;

	if (!g_cli.progress)
		return;
	if (!p) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		start = 0;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if (!start)
		start = now;
	secs = (double)(now - start) / 1e9;
	rate = secs > 0 ? (double)p->bytes_done / secs : 0;
	fprintf(stderr, "\r\033[K%s", p->phase ? p->phase : "");
	if (p->bytes_total) {
		double frac = (double)p->bytes_done / (double)p->bytes_total;
		int w = 24, fill = (int)(frac * w);
		if (fill > w)
			fill = w;
		fprintf(stderr, " [%.*s%*s] %3d%%", fill, "########################", w - fill, "",
			(int)(frac * 100));
	}
	fprintf(stderr, " %.1f MiB", (double)p->bytes_done / 1048576.0);
	if (p->files_done)
		fprintf(stderr, ", %llu files", (unsigned long long)p->files_done);
	if (rate > 0)
		fprintf(stderr, ", %.1f MiB/s", rate / 1048576.0);
	if (rate > 0 && p->bytes_total > p->bytes_done)
		fprintf(stderr, ", ETA %.0fs", (double)(p->bytes_total - p->bytes_done) / rate);
	fflush(stderr);
}

void cli_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (*p < 0x20 || *p >= 0x80)
				/* Paths are bytes: escape non-ASCII so the output is always valid JSON. */
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

bool cli_help_requested(const cli_command *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(c->usage, stdout);
			return true;
		}
	}
	return false;
}
