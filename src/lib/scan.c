/*
 * The work-tree walk behind add and status (see scan.h).  Folders are
 * read with openat()/fstatat() relative to their parent's descriptor and
 * O_NOFOLLOW, so a link is never followed, whatever it points to.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "scan.h"

const char *lmd_file_kind(mode_t m)
{
	if (S_ISREG(m)) return "file";
	if (S_ISDIR(m)) return "folder";
	if (S_ISLNK(m)) return "link";
	if (S_ISFIFO(m)) return "fifo";
	if (S_ISSOCK(m)) return "socket";
	if (S_ISCHR(m)) return "character device";
	if (S_ISBLK(m)) return "block device";
	return "special file";
}

static char *full_path(lmd_scan *s, const char *rel)
{
	return rel[0] ? lmd_asprintf("%s/%s", s->dataset, rel) : lmd_strdup(s->dataset);
}

static void report(lmd_scan *s, lmd_status_kind k, const char *rel, bool folder)
{
	char *p;
	if (!s->cb)
		return;
	p = full_path(s, rel);
	if (!p)
		return;
	if (folder) {
		char *q = lmd_asprintf("%s/", p);
		free(p);
		p = q;
		if (!p)
			return;
	}
	lmd_status_entry e = { .kind = k, .path = p, .dataset = s->dataset };
	s->cb(&e, s->payload);
	s->ndiff++;
	free(p);
}

static uint32_t mode_of(const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		return LMD_MODE_DIR;
	if (S_ISLNK(st->st_mode))
		return LMD_MODE_LINK;
	return (st->st_mode & 0111) ? LMD_MODE_EXEC : LMD_MODE_FILE;
}

static int scan_file(lmd_scan *s, int dfd, const char *name, const struct stat *st, const char *rel,
		     lmd_oid *ret_id)
{
	static const lmd_oid empty_dummy;
	const lmd_oid *cached = lmd_statcache_lookup(s->sc, rel, st);
	char *disp = NULL;
	struct stat fst;
	int fd = -1, r;

	(void)empty_dummy;
	if (cached && (!s->ing || st->st_size == 0 ||
		       lmd_store_has(s->store, cached, 0))) {
		*ret_id = *cached;
		return lmd_statcache_put(s->sc, rel, st, cached);
	}
	disp = full_path(s, rel);
	if (!disp)
		return -ENOMEM;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = lmd_errno_path("cannot open", disp);
		goto done;
	}
	if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode) || fst.st_ino != st->st_ino) {
		r = lmd_error_set(LMD_ECHANGED, "'%s' was replaced while being read; try again", disp);
		goto done;
	}
	r = s->ing ? lmd_ingest_file(s->ing, fd, st, disp, ret_id) : lmd_hash_fd(fd, st, disp, ret_id);
	if (!s->ing && r >= 0)
		lmd__progress_add(s->r, (uint64_t)st->st_size, 0);
	if (r >= 0)
		r = lmd_statcache_put(s->sc, rel, st, ret_id);
done:
	if (fd >= 0)
		close(fd);
	free(disp);
	return r;
}

static int scan_link(lmd_scan *s, int dfd, const char *name, const struct stat *st, const char *rel,
		     lmd_tree_entry *ret)
{
	char buf[4097];
	ssize_t n = readlinkat(dfd, name, buf, sizeof(buf));
	int r;

	(void)st;
	if (n < 0 || n >= (ssize_t)sizeof(buf)) {
		char *disp = full_path(s, rel);
		if (n >= 0)
			errno = ENAMETOOLONG;
		r = lmd_errno_path("cannot read link", disp ? disp : rel);
		free(disp);
		return r;
	}
	ret->size = (uint64_t)n;
	if (s->ing)
		return lmd_ingest_blob(s->ing, buf, (size_t)n, &ret->id);
	return lmd_sha256_buf(buf, (size_t)n, &ret->id);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int scan_node(lmd_scan *s, int dfd, const char *name, const struct stat *st, const char *rel,
		     bool cmp, const lmd_tree_entry *exp, lmd_tree_entry *ret);

static int scan_dir(lmd_scan *s, int dfd, const char *name, const char *rel, bool cmp,
		    const lmd_tree_entry *exp, lmd_tree_entry *ret)
{
	lmd_tree expect = { 0 };
	bool have_expect = false;
	char **names = NULL, *disp = NULL;
	size_t n = 0, cap = 0, ei = 0;
	lmd_tree_entry *ents = NULL;
	lmd_buf enc = LMD_BUF_INIT;
	DIR *d = NULL;
	struct dirent *de;
	int fd, r = 0;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		disp = full_path(s, rel);
		r = lmd_errno_path("cannot open folder", disp ? disp : rel);
		if (fd >= 0)
			close(fd);
		goto done;
	}
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || lmd_is_tmp_name(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **nn = lmd_reallocarray(names, cap, sizeof(*nn));
			if (!nn) {
				r = -ENOMEM;
				goto done;
			}
			names = nn;
		}
		if (!(names[n] = lmd_strdup(de->d_name))) {
			r = -ENOMEM;
			goto done;
		}
		n++;
	}
	if (errno) {
		disp = full_path(s, rel);
		r = lmd_errno_path("cannot read folder", disp ? disp : rel);
		goto done;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	if (cmp && exp && exp->mode == LMD_MODE_DIR && s->store) {
		lmd_buf raw = LMD_BUF_INIT;
		if (lmd_store_get(s->store, &exp->id, LMD_OBJ_TREE, &raw) == 0 &&
		    lmd_tree_parse(&raw, &expect) == 0)
			have_expect = true;
		lmd_buf_release(&raw);
		lmd_error_clear();
	}
	ents = lmd_calloc(n ? n : 1, sizeof(*ents));
	if (!ents) {
		r = -ENOMEM;
		goto done;
	}
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < n; i++) {
		struct stat cst;
		char *crel = rel[0] ? lmd_asprintf("%s/%s", rel, names[i]) : lmd_strdup(names[i]);
		const lmd_tree_entry *ce = NULL;
		if (!crel) {
			r = -ENOMEM;
			goto done;
		}
		if (fstatat(fd, names[i], &cst, AT_SYMLINK_NOFOLLOW) < 0) {
			char *p = full_path(s, crel);
			r = lmd_errno_path("cannot stat", p ? p : crel);
			free(p);
			free(crel);
			goto done;
		}
		if (have_expect) {
			/* Entries only the manifest has were deleted. */
			while (ei < expect.n && strcmp(expect.entries[ei].name, names[i]) < 0) {
				char *drel = rel[0] ? lmd_asprintf("%s/%s", rel, expect.entries[ei].name)
						    : lmd_strdup(expect.entries[ei].name);
				if (drel)
					report(s, LMD_STATUS_DELETED, drel, expect.entries[ei].mode == LMD_MODE_DIR);
				free(drel);
				ei++;
			}
			if (ei < expect.n && !strcmp(expect.entries[ei].name, names[i]))
				ce = &expect.entries[ei++];
		}
		r = scan_node(s, fd, names[i], &cst, crel, cmp && have_expect, ce, &ents[i]);
		ents[i].name = names[i];
		if (r >= 0 && cmp && have_expect && !ce)
			report(s, LMD_STATUS_NEW, crel, S_ISDIR(cst.st_mode));
		free(crel);
		if (r < 0)
			goto done;
		ret->size += ents[i].size;
		ret->files += ents[i].files;
	}
	while (have_expect && ei < expect.n) {
		char *drel = rel[0] ? lmd_asprintf("%s/%s", rel, expect.entries[ei].name)
				    : lmd_strdup(expect.entries[ei].name);
		if (drel)
			report(s, LMD_STATUS_DELETED, drel, expect.entries[ei].mode == LMD_MODE_DIR);
		free(drel);
		ei++;
	}
	if ((r = lmd_tree_encode(ents, n, &enc, &ret->id)) < 0)
		goto done;
	if (s->pk && (r = lmd_packer_put(s->pk, LMD_OBJ_TREE, &ret->id, enc.ptr, enc.len)) < 0)
		goto done;
	ret->mode = LMD_MODE_DIR;
	if (cmp && exp && !have_expect && lmd_oid_cmp(&exp->id, &ret->id) != 0)
		report(s, LMD_STATUS_MODIFIED, rel, true); /* tree not in the store: say the folder changed */
done:
	if (d)
		closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(ents);
	free(disp);
	lmd_buf_release(&enc);
	lmd_tree_release(&expect);
	return r;
}

static int scan_node(lmd_scan *s, int dfd, const char *name, const struct stat *st, const char *rel,
		     bool cmp, const lmd_tree_entry *exp, lmd_tree_entry *ret)
{
	uint32_t mode = mode_of(st);
	int r;

	if (cmp && exp && (exp->mode == LMD_MODE_DIR) != (mode == LMD_MODE_DIR)) {
		report(s, LMD_STATUS_TYPECHANGE, rel, false);
		cmp = false;
		exp = NULL;
	} else if (cmp && exp && (exp->mode == LMD_MODE_LINK) != (mode == LMD_MODE_LINK)) {
		report(s, LMD_STATUS_TYPECHANGE, rel, false);
		cmp = false;
		exp = NULL;
	}
	if (S_ISDIR(st->st_mode))
		return scan_dir(s, dfd, name, rel, cmp, exp, ret);
	ret->mode = mode;
	ret->files = 1;
	if (S_ISLNK(st->st_mode)) {
		r = scan_link(s, dfd, name, st, rel, ret);
	} else if (S_ISREG(st->st_mode)) {
		ret->size = (uint64_t)st->st_size;
		r = scan_file(s, dfd, name, st, rel, &ret->id);
		s->files++;
	} else {
		char *p = full_path(s, rel);
		r = lmd_error_set(LMD_EBADINPUT,
			"'%s' is a %s: lmdata tracks regular files, folders and links; move it out of the data",
			p ? lmd_quote(p) : rel, lmd_file_kind(st->st_mode));
		free(p);
		return r;
	}
	if (r < 0)
		return r;
	if (cmp && exp && (lmd_oid_cmp(&exp->id, &ret->id) != 0 || exp->mode != ret->mode))
		report(s, LMD_STATUS_MODIFIED, rel, false);
	return 0;
}

int lmd_scan_dataset(lmd_scan *s, const struct stat *st, const lmd_manifest *expect, lmd_tree_entry *ret)
{
	lmd_tree_entry exp = { 0 }, *ep = NULL;
	char *dir = lmd_path_dirname(s->dataset);
	char *absdir = dir ? lmd__abs(s->r, dir) : NULL;
	int dfd, r;

	if (!absdir) {
		free(dir);
		return -ENOMEM;
	}
	dfd = open(absdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = lmd_errno_path("cannot open folder", absdir);
		goto done;
	}
	if (expect) {
		exp.mode = expect->kind == LMD_KIND_DIR ? LMD_MODE_DIR
			 : expect->kind == LMD_KIND_LINK ? LMD_MODE_LINK
			 : expect->executable ? LMD_MODE_EXEC : LMD_MODE_FILE;
		exp.id = expect->id;
		exp.size = expect->size;
		ep = &exp;
	}
	r = scan_node(s, dfd, lmd_path_basename(s->dataset), st, "", expect && s->cb, ep, ret);
	close(dfd);
done:
	free(dir);
	free(absdir);
	return r;
}
