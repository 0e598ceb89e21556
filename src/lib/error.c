/*
 * The thread-local error of the library (libgit2's git_error_last() model):
 * a failing function sets a message naming the thing and the next step and
 * returns a negative code; callers going up may prefix context.  The CLI
 * prints the message once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lmdata/common.h"

#define ERRMAX 2048

static _Thread_local char errbuf[ERRMAX];
static _Thread_local int errcode;

const char *lmd_error_last(void)
{
	return errbuf;
}

int lmd_error_code(void)
{
	return errcode;
}

void lmd_error_clear(void)
{
	errbuf[0] = '\0';
	errcode = 0;
}

int lmd_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	errcode = code;
	return code;
}

int lmd_error_wrap(int code, const char *fmt, ...)
{
	char prefix[ERRMAX], old[ERRMAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, errbuf, sizeof(old));
	if (old[0]) {
		size_t n = strnlen(prefix, sizeof(errbuf) - 3);
		memcpy(errbuf, prefix, n);
		memcpy(errbuf + n, ": ", 2);
		size_t m = strnlen(old, sizeof(errbuf) - n - 3);
		memcpy(errbuf + n + 2, old, m);
		errbuf[n + 2 + m] = '\0';
	} else {
		snprintf(errbuf, sizeof(errbuf), "%s", prefix);
	}
	errcode = code;
	return code;
}

const char *lmd_strerror(int code)
{
	switch (code) {
	case LMD_EUSAGE: return "usage error";
	case LMD_EBADINPUT: return "bad input";
	case LMD_ENOTREPO: return "not an lmdata repository";
	case LMD_ECORRUPT: return "corrupt object";
	case LMD_EDIRTY: return "local changes";
	case LMD_ECHANGED: return "file changed while being read";
	case LMD_EMISSING: return "object missing";
	case LMD_ELOCKED: return "repository locked";
	case LMD_EGIT: return "git error";
	case LMD_EMANIFEST: return "bad manifest";
	case LMD_ETOOBIG: return "size over limit";
	case LMD_EREMOTE: return "remote error";
	case LMD_ENOTFOUND: return "not found";
	case -ENOENT: return "no such file or directory";
	case -EACCES: return "permission denied";
	case -ENOSPC: return "no space left on device";
	case -EDQUOT: return "disk quota exceeded";
	case -EROFS: return "read-only file system";
	case -ENOMEM: return "out of memory";
	case -EIO: return "input/output error";
	}
	if (code < 0 && code > -4096) {
		/* strerror() texts start with a capital; git's voice does not. */
		static _Thread_local char buf[128];
		const char *s = strerror(-code);
		size_t n = strlen(s);
		if (n >= sizeof(buf))
			n = sizeof(buf) - 1;
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (buf[0] >= 'A' && buf[0] <= 'Z')
			buf[0] = (char)(buf[0] - 'A' + 'a');
		return buf;
	}
	return "error";
}
