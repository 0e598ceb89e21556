/*
 * CLI helpers (see cli.h).
 */
#include <stdarg.h>
#include <stdlib.h>
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

/* Length of the valid UTF-8 sequence at p (0 if invalid). */
static size_t utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0))
			return 0; /* overlong, or a UTF-16 surrogate */
		return 3;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

void cli_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = utf8_len(p);
		if (n == 0) {
			/* A byte that is not UTF-8 (file names are bytes): written
			 * as a lone surrogate U+DC80..U+DCFF, Python's
			 * "surrogateescape", so the name stays distinct and
			 * os.fsencode() gives the bytes back. */
			fprintf(f, "\\udc%02x", *p);
			p++;
			continue;
		}
		if (n > 1) {
			fwrite(p, 1, n, f);
			p += n;
			continue;
		}
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
		p++;
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

bool cli_parse_jobs(const char *s, unsigned *ret)
{
	char *end;
	long n = strtol(s, &end, 10);
	if (end == s || *end || n < 1 || n > 256)
		return false;
	*ret = (unsigned)n;
	return true;
}
