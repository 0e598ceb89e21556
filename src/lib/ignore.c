/*
 * .gitignore lines for datasets (see ignore.h).  The file is rewritten
 * atomically; other lines are kept as they were.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ignore.h"

static char *pattern(const char *name)
{
	lmd_buf b = LMD_BUF_INIT;
	size_t n = strlen(name);

	lmd_buf_put(&b, "/", 1);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (c == '\n' || c == '\r') {
			lmd_buf_put(&b, "?", 1);
			continue;
		}
		if (c == '*' || c == '?' || c == '[' || c == '\\' || (i == 0 && (c == '#' || c == '!')) ||
		    (c == ' ' && i == n - 1))
			lmd_buf_put(&b, "\\", 1);
		lmd_buf_put(&b, &c, 1);
	}
	if (lmd_buf_cstr(&b) < 0) {
		lmd_buf_release(&b);
		return NULL;
	}
	return (char *)b.ptr;
}

char *lmd_ignore_file(const char *dataset)
{
	char *dir = lmd_path_dirname(dataset);
	char *p = dir ? lmd_path_join(dir, ".gitignore") : NULL;
	free(dir);
	return p;
}

static int edit(lmd_repo *r, const char *dataset, bool add, bool *ret_changed)
{
	char *rel = lmd_ignore_file(dataset), *abs = NULL, *pat = pattern(lmd_path_basename(dataset));
	lmd_buf cur = LMD_BUF_INIT, out = LMD_BUF_INIT;
	bool found = false;
	int rc;

	*ret_changed = false;
	if (!rel || !pat || !(abs = lmd__abs(r, rel))) {
		rc = -ENOMEM;
		goto done;
	}
	{
		/* Never write through a link: a committed ".gitignore -> secret"
		 * would otherwise pull the secret into the index. */
		struct stat st;
		if (lstat(abs, &st) == 0 && !S_ISREG(st.st_mode)) {
			rc = lmd_error_set(LMD_EBADINPUT,
				"'%s' is a %s, not a regular file; lmdata will not write through it: replace it with "
				"a regular file", rel, S_ISLNK(st.st_mode) ? "symbolic link" : "special file");
			goto done;
		}
	}
	rc = lmd_read_file(abs, 4u << 20, &cur);
	if (rc == -ENOENT) {
		lmd_error_clear();
		rc = 0;
	} else if (rc < 0) {
		goto done;
	}
	for (char *p = (char *)cur.ptr, *end = p + cur.len; p && p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		bool match = len == strlen(pat) && !memcmp(p, pat, len);
		if (match)
			found = true;
		if (!(match && !add)) {
			lmd_buf_put(&out, p, len);
			lmd_buf_put(&out, "\n", 1);
		}
		p = nl ? nl + 1 : end;
	}
	if (add == found)
		goto done; /* already as wanted */
	if (add) {
		lmd_buf_puts(&out, pat);
		rc = lmd_buf_put(&out, "\n", 1);
		if (rc < 0)
			goto done;
	}
	if (!add && out.len == 0) {
		/* lmdata wrote this file: leave no empty .gitignore behind */
		if (unlink(abs) < 0 && errno != ENOENT)
			rc = lmd_errno_path("cannot remove", abs);
	} else {
		rc = lmd_write_file_atomic(abs, out.ptr ? out.ptr : (uint8_t *)"", out.len, 0644);
	}
	if (rc >= 0)
		*ret_changed = true;
done:
	free(rel);
	free(abs);
	free(pat);
	lmd_buf_release(&cur);
	lmd_buf_release(&out);
	return rc;
}

int lmd_ignore_add(lmd_repo *r, const char *dataset, bool *ret_changed)
{
	return edit(r, dataset, true, ret_changed);
}

int lmd_ignore_remove(lmd_repo *r, const char *dataset, bool *ret_changed)
{
	return edit(r, dataset, false, ret_changed);
}
