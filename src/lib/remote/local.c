/*
 * The local folder remote ("/path" or "file:///path"): objects are files
 * under the root at their key, the same layout as in an S3 bucket, so a
 * folder can be copied to a bucket as is.  Writes are atomic: a temp file
 * in the object's directory, fsync, rename over the key, fsync of the
 * directory; a crash leaves either the old object or the new one, plus at
 * worst a ".lmd-tmp-*" file that listings ignore.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lmdata/common.h"
#include "remote/backend.h"
#include "remote/util.h"

#define TMP_PREFIX ".lmd-tmp-"

typedef struct local_backend {
	lmd_backend parent;
	char *root;    /* absolute, no trailing slash (except "/") */
	char *remote;  /* for messages */
	size_t bufsz;
} local_backend;

static int path_of(local_backend *lb, const char *key, lmd__rbuf *out)
{
	lmd__rbuf_reset(out);
	return lmd__rbuf_printf(out, "%s/%s", lb->root, key);
}

static int fail(local_backend *lb, int err, const char *what, const char *key)
{
	return lmd_error_set(err, "remote '%s': cannot %s '%s': %s", lb->remote, what, key,
			     lmd_strerror(err));
}

/* ---- listing ---- */

typedef struct keylist {
	char **keys;
	uint64_t *sizes;
	size_t n, alloc;
} keylist;

static int keylist_add(keylist *kl, const char *key, uint64_t size)
{
	if (kl->n == kl->alloc) {
		size_t na = kl->alloc ? kl->alloc * 2 : 64;
		char **k = realloc(kl->keys, na * sizeof(*k));
		uint64_t *s;

		if (!k)
			return -ENOMEM;
		kl->keys = k;
		s = realloc(kl->sizes, na * sizeof(*s));
		if (!s)
			return -ENOMEM;
		kl->sizes = s;
		kl->alloc = na;
	}
	kl->keys[kl->n] = strdup(key);
	if (!kl->keys[kl->n])
		return -ENOMEM;
	kl->sizes[kl->n++] = size;
	return 0;
}

/* Walk dir (root-relative `rel`, "" for the root) collecting keys starting with prefix. */
static int walk(local_backend *lb, const char *rel, const char *prefix, keylist *kl, int depth)
{
	lmd__rbuf path = LMD__RBUF_INIT(0), sub = LMD__RBUF_INIT(0);
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (depth > 64)
		return 0;
	r = lmd__rbuf_printf(&path, "%s%s%s", lb->root, *rel ? "/" : "", rel);
	if (r < 0)
		return r;
	d = opendir(path.ptr);
	if (!d) {
		r = (errno == ENOENT || errno == ENOTDIR) ? 0 : fail(lb, -errno, "list", *rel ? rel : ".");
		lmd__rbuf_release(&path);
		return r;
	}
	while (r >= 0 && (e = readdir(d))) {
		struct stat st;
		size_t plen;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)))
			continue;
		lmd__rbuf_reset(&sub);
		r = lmd__rbuf_printf(&sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		if (r < 0)
			break;
		/* Prune subtrees that cannot match: neither is a prefix of the other. */
		plen = strlen(prefix);
		if (strncmp(sub.ptr, prefix, sub.len < plen ? sub.len : plen))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			r = walk(lb, sub.ptr, prefix, kl, depth + 1);
		else if (S_ISREG(st.st_mode) && sub.len >= plen)
			r = keylist_add(kl, sub.ptr, (uint64_t)st.st_size);
	}
	closedir(d);
	lmd__rbuf_release(&path);
	lmd__rbuf_release(&sub);
	return r;
}

static int cmp_idx(const void *a, const void *b, void *arg)
{
	char **keys = arg;

	return strcmp(keys[*(const size_t *)a], keys[*(const size_t *)b]);
}

static int local_list(lmd_backend *b, const char *prefix, lmd_remote_list_cb cb, void *payload)
{
	local_backend *lb = (local_backend *)b;
	keylist kl = { 0 };
	size_t *idx = NULL;
	int r;

	r = walk(lb, "", prefix, &kl, 0);
	if (r >= 0 && kl.n) {
		/* S3 lists in byte order; so do we, whatever the directory order. */
		idx = malloc(kl.n * sizeof(*idx));
		if (!idx)
			r = -ENOMEM;
		for (size_t i = 0; r >= 0 && i < kl.n; i++)
			idx[i] = i;
		if (r >= 0)
			qsort_r(idx, kl.n, sizeof(*idx), cmp_idx, kl.keys);
		for (size_t i = 0; r >= 0 && i < kl.n; i++) {
			int c = cb(kl.keys[idx[i]], kl.sizes[idx[i]], payload);

			if (c != 0) {
				r = c;
				break;
			}
		}
	}
	for (size_t i = 0; i < kl.n; i++)
		free(kl.keys[i]);
	free(kl.keys);
	free(kl.sizes);
	free(idx);
	return r;
}

/* ---- reading ---- */

static int local_head(lmd_backend *b, const char *key, uint64_t *ret_size)
{
	local_backend *lb = (local_backend *)b;
	lmd__rbuf p = LMD__RBUF_INIT(0);
	struct stat st;
	int r = path_of(lb, key, &p);

	if (r >= 0 && stat(p.ptr, &st) < 0)
		r = (errno == ENOENT || errno == ENOTDIR)
			? lmd_error_set(LMD_ENOTFOUND, "remote '%s' has no object '%s'", lb->remote, key)
			: fail(lb, -errno, "stat", key);
	else if (r >= 0 && !S_ISREG(st.st_mode))
		r = lmd_error_set(LMD_ENOTFOUND, "remote '%s' has no object '%s'", lb->remote, key);
	else if (r >= 0)
		*ret_size = (uint64_t)st.st_size;
	lmd__rbuf_release(&p);
	return r;
}

static int local_get(lmd_backend *b, const char *key, uint64_t offset, uint64_t length,
		     lmd_remote_sink_cb sink, void *payload)
{
	local_backend *lb = (local_backend *)b;
	lmd__rbuf p = LMD__RBUF_INIT(0);
	char *buf = NULL;
	struct stat st;
	uint64_t end, pos;
	int fd = -1, r;

	r = path_of(lb, key, &p);
	if (r < 0)
		goto done;
	fd = open(p.ptr, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = (errno == ENOENT || errno == ENOTDIR)
			? lmd_error_set(LMD_ENOTFOUND, "remote '%s' has no object '%s'", lb->remote, key)
			: fail(lb, -errno, "read", key);
		goto done;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = lmd_error_set(LMD_ENOTFOUND, "remote '%s' has no object '%s'", lb->remote, key);
		goto done;
	}
	end = length == UINT64_MAX ? (uint64_t)st.st_size : offset + length;
	if (offset > (uint64_t)st.st_size || end > (uint64_t)st.st_size) {
		r = lmd_error_set(LMD_EREMOTE,
				  "remote '%s': range %llu+%llu is past the end of '%s' (%llu bytes)",
				  lb->remote, (unsigned long long)offset,
				  (unsigned long long)(end - offset), key, (unsigned long long)st.st_size);
		goto done;
	}
	buf = malloc(lb->bufsz);
	if (!buf) {
		r = -ENOMEM;
		goto done;
	}
	for (pos = offset; pos < end;) {
		size_t want = end - pos < lb->bufsz ? (size_t)(end - pos) : lb->bufsz;
		ssize_t n = pread(fd, buf, want, (off_t)pos);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = fail(lb, -errno, "read", key);
			goto done;
		}
		if (n == 0) {
			r = lmd_error_set(LMD_EREMOTE, "remote '%s': '%s' shrank while being read",
					  lb->remote, key);
			goto done;
		}
		r = sink(buf, (size_t)n, payload);
		if (r < 0)
			goto done;
		pos += (uint64_t)n;
	}
	r = 0;
done:
	if (fd >= 0)
		close(fd);
	free(buf);
	lmd__rbuf_release(&p);
	return r;
}

/* ---- writing ---- */

/* mkdir -p of the directories of `key` under the root. */
static int make_parents(local_backend *lb, const char *key)
{
	lmd__rbuf p = LMD__RBUF_INIT(0);
	int r = path_of(lb, key, &p);

	for (size_t i = 1; r >= 0 && i < p.len; i++) { /* the root too: mkdir -p */
		if (p.ptr[i] != '/')
			continue;
		p.ptr[i] = '\0';
		if (mkdir(p.ptr, 0777) < 0 && errno != EEXIST)
			r = fail(lb, -errno, "create directory for", key);
		p.ptr[i] = '/';
	}
	lmd__rbuf_release(&p);
	return r;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copy from src_fd (if >= 0) or data/len into key, atomically. */
static int local_write(local_backend *lb, const char *key, int src_fd, const void *data, size_t len)
{
	lmd__rbuf final = LMD__RBUF_INIT(0), tmp = LMD__RBUF_INIT(0);
	char *buf = NULL, *slash;
	int fd = -1, dfd = -1, r;

	r = make_parents(lb, key);
	if (r < 0)
		return r;
	r = path_of(lb, key, &final);
	if (r < 0)
		goto done;
	slash = strrchr(final.ptr, '/');
	r = lmd__rbuf_add(&tmp, final.ptr, (size_t)(slash - final.ptr) + 1);
	if (r >= 0)
		r = lmd__rbuf_printf(&tmp, TMP_PREFIX "%s.XXXXXX", slash + 1);
	if (r < 0)
		goto done;
	fd = mkostemp(tmp.ptr, O_CLOEXEC);
	if (fd < 0) {
		r = fail(lb, -errno, "write", key);
		goto done;
	}
	if (src_fd >= 0) {
		buf = malloc(lb->bufsz);
		if (!buf) {
			r = -ENOMEM;
			goto done;
		}
		for (;;) {
			ssize_t n = read(src_fd, buf, lb->bufsz);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = lmd_error_set(-errno, "cannot read the file for '%s': %s", key,
						  lmd_strerror(-errno));
				goto done;
			}
			if (n == 0)
				break;
			if ((r = write_all(fd, buf, (size_t)n)) < 0) {
				r = fail(lb, r, "write", key);
				goto done;
			}
		}
	} else if ((r = write_all(fd, data, len)) < 0) {
		r = fail(lb, r, "write", key);
		goto done;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		r = fail(lb, -errno, "write", key);
		goto done;
	}
	fd = -1;
	if (rename(tmp.ptr, final.ptr) < 0) {
		r = fail(lb, -errno, "write", key);
		goto done;
	}
	*slash = '\0';
	dfd = open(final.ptr, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	lmd__rbuf_reset(&tmp); /* renamed: nothing to clean up */
	r = 0;
done:
	if (fd >= 0)
		close(fd);
	if (tmp.len)
		unlink(tmp.ptr);
	free(buf);
	lmd__rbuf_release(&tmp);
	lmd__rbuf_release(&final);
	return r;
}

static int local_put_file(lmd_backend *b, const char *key, const char *path)
{
	local_backend *lb = (local_backend *)b;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return lmd_error_set(-errno, "cannot read '%s': %s", path, lmd_strerror(-errno));
	r = local_write(lb, key, fd, NULL, 0);
	close(fd);
	return r;
}

static int local_put_buf(lmd_backend *b, const char *key, const void *data, size_t len)
{
	return local_write((local_backend *)b, key, -1, data, len);
}

static int local_del(lmd_backend *b, const char *key)
{
	local_backend *lb = (local_backend *)b;
	lmd__rbuf p = LMD__RBUF_INIT(0);
	int r = path_of(lb, key, &p);

	if (r >= 0 && unlink(p.ptr) < 0 && errno != ENOENT)
		r = fail(lb, -errno, "delete", key);
	lmd__rbuf_release(&p);
	return r < 0 ? r : 0;
}

static void local_free(lmd_backend *b)
{
	local_backend *lb = (local_backend *)b;

	free(lb->root);
	free(lb->remote);
	free(lb);
}

int lmd__backend_local_open(const lmd_remote_config *cfg, lmd_backend **ret)
{
	const char *path = cfg->url;
	local_backend *lb;
	size_t n;

	if (!strncmp(path, "file://", 7))
		path += 7;
	if (path[0] != '/')
		return lmd_error_set(LMD_EBADINPUT, "remote '%s': local path '%s' is not absolute",
				     lmd__remote_display(cfg), cfg->url);
	lb = calloc(1, sizeof(*lb));
	if (!lb)
		return -ENOMEM;
	lb->root = strdup(path);
	lb->remote = strdup(lmd__remote_display(cfg));
	if (!lb->root || !lb->remote) {
		local_free(&lb->parent);
		return -ENOMEM;
	}
	n = strlen(lb->root);
	while (n > 1 && lb->root[n - 1] == '/')
		lb->root[--n] = '\0';
	lb->bufsz = cfg->buffer_size ? cfg->buffer_size : 64 * 1024;
	lb->parent.version = LMD_BACKEND_VERSION;
	lb->parent.type = "local";
	lb->parent.list = local_list;
	lb->parent.head = local_head;
	lb->parent.get = local_get;
	lb->parent.put_file = local_put_file;
	lb->parent.put_buf = local_put_buf;
	lb->parent.del = local_del;
	lb->parent.free = local_free;
	*ret = &lb->parent;
	return 0;
}
