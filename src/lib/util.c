/*
 * Internal helpers: buffers, full I/O, atomic writes, paths, quoting.
 * See util.h for the contracts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

void *lmd_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		lmd_error_set(-ENOMEM, "out of memory (%zu bytes)", n);
	return p;
}

void *lmd_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		lmd_error_set(-ENOMEM, "out of memory");
	return p;
}

void *lmd_reallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		lmd_error_set(-ENOMEM, "allocation size overflow");
		return NULL;
	}
	size_t total = n * size;
	void *q = realloc(p, total ? total : 1);
	if (!q)
		lmd_error_set(-ENOMEM, "out of memory");
	return q;
}

char *lmd_strdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		lmd_error_set(-ENOMEM, "out of memory");
	return p;
}

char *lmd_strndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		lmd_error_set(-ENOMEM, "out of memory");
	return p;
}

char *lmd_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		p = NULL;
	va_end(ap);
	if (!p)
		lmd_error_set(-ENOMEM, "out of memory");
	return p;
}

int lmd_buf_grow(lmd_buf *b, size_t extra)
{
	size_t need, n;
	uint8_t *p;

	if (extra > LMD_MAX_BLOB || b->len > LMD_MAX_BLOB - extra)
		return lmd_error_set(LMD_ETOOBIG, "buffer would exceed %u bytes", LMD_MAX_BLOB);
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 64;
	while (n < need)
		n = n + n / 2;
	p = realloc(b->ptr, n);
	if (!p)
		return lmd_error_set(-ENOMEM, "out of memory (%zu bytes)", n);
	b->ptr = p;
	b->alloc = n;
	return 0;
}

int lmd_buf_put(lmd_buf *b, const void *data, size_t n)
{
	int r = lmd_buf_grow(b, n);
	if (r < 0)
		return r;
	if (n)
		memcpy(b->ptr + b->len, data, n);
	b->len += n;
	b->ptr[b->len] = 0;
	return 0;
}

int lmd_buf_puts(lmd_buf *b, const char *s)
{
	return lmd_buf_put(b, s, strlen(s));
}

int lmd_buf_printf(lmd_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return lmd_error_set(-EINVAL, "bad format");
	r = lmd_buf_grow(b, (size_t)n + 1);
	if (r < 0)
		return r;
	va_start(ap, fmt);
	vsnprintf((char *)b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int lmd_buf_cstr(lmd_buf *b)
{
	int r = lmd_buf_grow(b, 1);
	if (r < 0)
		return r;
	b->ptr[b->len] = 0;
	return 0;
}

void lmd_buf_clear(lmd_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = 0;
}

void lmd_buf_release(lmd_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->alloc = 0;
}

int lmd_write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int lmd_pwrite_all(int fd, const void *buf, size_t n, off_t off)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t w = pwrite(fd, p, n, off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

ssize_t lmd_read_full(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

ssize_t lmd_pread_full(int fd, void *buf, size_t n, off_t off)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, p + got, n - got, off + (off_t)got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int lmd_errno_path(const char *what, const char *path)
{
	int e = errno ? errno : EIO;
	return lmd_error_set(-e, "%s '%s': %s", what, path, lmd_strerror(-e));
}

int lmd_read_file(const char *path, size_t max, lmd_buf *out)
{
	struct stat st;
	int fd, r = 0;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return lmd_errno_path("cannot open", path);
	if (fstat(fd, &st) < 0) {
		r = lmd_errno_path("cannot stat", path);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		r = lmd_error_set(LMD_EBADINPUT, "'%s' is not a regular file", path);
		goto done;
	}
	if ((uint64_t)st.st_size > max) {
		r = lmd_error_set(LMD_ETOOBIG, "'%s' is %llu bytes, over the limit of %zu",
				  path, (unsigned long long)st.st_size, max);
		goto done;
	}
	lmd_buf_clear(out);
	r = lmd_buf_grow(out, (size_t)st.st_size + 1);
	if (r < 0)
		goto done;
	n = lmd_read_full(fd, out->ptr, (size_t)st.st_size + 1);
	if (n < 0) {
		errno = (int)-n;
		r = lmd_errno_path("cannot read", path);
		goto done;
	}
	if ((size_t)n > (size_t)st.st_size) {
		r = lmd_error_set(LMD_ECHANGED, "'%s' grew while being read", path);
		goto done;
	}
	out->len = (size_t)n;
	out->ptr[n] = 0;
done:
	close(fd);
	return r;
}

int lmd_fsync_dir(const char *dir)
{
	int fd = open(dir[0] ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return lmd_errno_path("cannot open folder", dir);
	if (fsync(fd) < 0 && errno != EINVAL) {
		int r = lmd_errno_path("cannot sync folder", dir);
		close(fd);
		return r;
	}
	close(fd);
	return 0;
}

int lmd_tmpfile_near(const char *path, mode_t mode, char **ret_tmp)
{
	static _Thread_local unsigned counter;
	char *dir = lmd_path_dirname(path);
	const char *base = lmd_path_basename(path);
	char *tmp = NULL;
	int fd = -1;

	if (!dir)
		return -ENOMEM;
	for (int tries = 0; tries < 100; tries++) {
		free(tmp);
		tmp = lmd_asprintf("%s%s.%.40s.lmdtmp.%ld.%u", dir, dir[0] ? "/" : "",
				   base, (long)getpid(), counter++);
		if (!tmp) {
			free(dir);
			return -ENOMEM;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	free(dir);
	if (fd < 0) {
		int r = lmd_errno_path("cannot create temporary file", tmp);
		free(tmp);
		return r;
	}
	*ret_tmp = tmp;
	return fd;
}

int lmd_write_file_atomic(const char *path, const void *data, size_t n, mode_t mode)
{
	char *tmp = NULL, *dir = NULL;
	int fd, r;

	fd = lmd_tmpfile_near(path, mode, &tmp);
	if (fd < 0)
		return fd;
	r = lmd_write_all(fd, data, n);
	if (r < 0) {
		lmd_error_set(r, "cannot write '%s': %s", path, lmd_strerror(r));
		goto fail;
	}
	if (fsync(fd) < 0) {
		r = lmd_errno_path("cannot sync", path);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = lmd_errno_path("cannot write", path);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = lmd_errno_path("cannot rename into place", path);
		goto fail;
	}
	free(tmp);
	dir = lmd_path_dirname(path);
	r = dir ? lmd_fsync_dir(dir) : -ENOMEM;
	free(dir);
	return r;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return r;
}

int lmd_mkdir_p(const char *path, mode_t mode)
{
	char *p;
	int r = 0;

	if (!path[0])
		return lmd_error_set(-EINVAL, "cannot create a folder with an empty name");
	p = lmd_strdup(path);
	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST) {
				r = lmd_errno_path("cannot create folder", p);
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return r;
}

bool lmd_is_tmp_name(const char *name)
{
	return name[0] == '.' && strstr(name, ".lmdtmp.") != NULL;
}

char *lmd_path_join(const char *a, const char *b)
{
	if (!b || !b[0])
		return lmd_strdup(a);
	if (!a || !a[0])
		return lmd_strdup(b);
	size_t la = strlen(a);
	return lmd_asprintf("%s%s%s", a, a[la - 1] == '/' ? "" : "/", b);
}

char *lmd_path_dirname(const char *p)
{
	const char *s = strrchr(p, '/');
	if (!s)
		return lmd_strdup("");
	if (s == p)
		return lmd_strdup("/");
	return lmd_strndup(p, (size_t)(s - p));
}

const char *lmd_path_basename(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

const char *lmd_quote(const char *path)
{
	static _Thread_local lmd_buf slots[4];
	static _Thread_local unsigned next;
	lmd_buf *b = &slots[next++ % 4];
	bool plain = true;

	for (const unsigned char *s = (const unsigned char *)path; *s; s++)
		if (*s < 0x20 || *s >= 0x7f || *s == '"' || *s == '\\')
			plain = false;
	lmd_buf_clear(b);
	if (plain) {
		if (lmd_buf_puts(b, path) < 0)
			return path;
		return (const char *)b->ptr;
	}
	lmd_buf_put(b, "\"", 1);
	for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
		switch (*s) {
		case '\n': lmd_buf_puts(b, "\\n"); break;
		case '\t': lmd_buf_puts(b, "\\t"); break;
		case '\r': lmd_buf_puts(b, "\\r"); break;
		case '"': lmd_buf_puts(b, "\\\""); break;
		case '\\': lmd_buf_puts(b, "\\\\"); break;
		default:
			if (*s < 0x20 || *s >= 0x7f)
				lmd_buf_printf(b, "\\%03o", *s);
			else
				lmd_buf_put(b, s, 1);
		}
	}
	if (lmd_buf_put(b, "\"", 1) < 0)
		return path;
	return (const char *)b->ptr;
}

const char *lmd_human_size(uint64_t n)
{
	static _Thread_local char slots[4][32];
	static _Thread_local unsigned next;
	char *out = slots[next++ % 4];
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)n;
	unsigned u = 0;

	if (n < 1024) {
		snprintf(out, 32, "%llu B", (unsigned long long)n);
		return out;
	}
	while (v >= 1024 && u + 1 < LMD_ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	snprintf(out, 32, "%.1f %s", v, units[u]);
	return out;
}

int64_t lmd_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t lmd_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
