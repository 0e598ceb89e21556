/*
 * Repository handles: discovery through git, .lmdata/ creation (init),
 * config, the writer lock, path resolution, the list of datasets, and
 * progress reporting shared by the operations.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repo_int.h"

#define DEFAULT_CONFIG \
	"# lmdata repository settings (committed; secrets go in config.local)\n" \
	"[core]\n\tformat = 1\n" \
	"[chunk]\n\tmin = 4096\n\tavg = 16384\n\tmax = 65536\n" \
	"[compression]\n\tlevel = 1\n"

#define LMDATA_GITIGNORE \
	"# lmdata: the object store and local state stay out of git\n" \
	"/cache/\n/state/\n/tmp/\n/lock\n/config.local\n"

static int load_settings(lmd_repo *r)
{
	uint64_t mn, avg, mx, lvl;
	char *p = lmd_path_join(r->lmdir, "config"), *pl = lmd_path_join(r->lmdir, "config.local");
	int rc;

	if (!p || !pl) {
		rc = -ENOMEM;
		goto done;
	}
	if ((rc = lmd_config_load(p, &r->cfg)) < 0 || (rc = lmd_config_load(pl, &r->cfg_local)) < 0)
		goto done;
	/* config.local holds secrets: created private, never 0644 even briefly. */
	lmd_config_set_mode(r->cfg_local, 0600);
	if ((rc = lmd_config_get_u64(r->cfg, "chunk.min", 4096, 16u << 20, &mn)) < 0 ||
	    (rc = lmd_config_get_u64(r->cfg, "chunk.avg", 16384, 16u << 20, &avg)) < 0 ||
	    (rc = lmd_config_get_u64(r->cfg, "chunk.max", 65536, 16u << 20, &mx)) < 0 ||
	    (rc = lmd_config_get_u64(r->cfg, "compression.level", 1, 19, &lvl)) < 0)
		goto done;
	if ((rc = lmd_chunker_init(&r->chunker, (uint32_t)mn, (uint32_t)avg, (uint32_t)mx)) < 0) {
		lmd_error_wrap(rc, "in '%s'", p);
		goto done;
	}
	r->level = (int)lvl;
done:
	free(p);
	free(pl);
	return rc;
}

static int repo_new(const char *dir, lmd_repo **ret)
{
	lmd_repo *r = lmd_calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	r->lock_fd = -1;
	if ((rc = lmd_git_open(dir, &r->git, &r->top)) < 0) {
		free(r);
		return rc;
	}
	r->lmdir = lmd_path_join(r->top, ".lmdata");
	if (!r->lmdir) {
		lmd_repo_free(r);
		return -ENOMEM;
	}
	*ret = r;
	return 0;
}

int lmd_repo_init(const char *dir, lmd_repo **ret)
{
	lmd_repo *r;
	char *paths[5] = { 0 };
	int rc;

	if ((rc = repo_new(dir, &r)) < 0)
		return rc;
	paths[0] = lmd_path_join(r->lmdir, "config");
	paths[1] = lmd_path_join(r->lmdir, ".gitignore");
	paths[2] = lmd_path_join(r->lmdir, "cache");
	paths[3] = lmd_path_join(r->lmdir, "state");
	for (int i = 0; i < 4; i++)
		if (!paths[i]) {
			rc = -ENOMEM;
			goto done;
		}
	if ((rc = lmd_mkdir_p(paths[2], 0755)) < 0 || (rc = lmd_mkdir_p(paths[3], 0755)) < 0)
		goto done;
	if (access(paths[0], F_OK) != 0 &&
	    (rc = lmd_write_file_atomic(paths[0], DEFAULT_CONFIG, strlen(DEFAULT_CONFIG), 0644)) < 0)
		goto done;
	if (access(paths[1], F_OK) != 0 &&
	    (rc = lmd_write_file_atomic(paths[1], LMDATA_GITIGNORE, strlen(LMDATA_GITIGNORE), 0644)) < 0)
		goto done;
	{
		const char *stage[] = { ".lmdata/config", ".lmdata/.gitignore" };
		if ((rc = lmd_git_stage(r->git, stage, 2)) < 0)
			goto done;
	}
	if ((rc = load_settings(r)) < 0)
		goto done;
done:
	for (int i = 0; i < 4; i++)
		free(paths[i]);
	if (rc < 0) {
		lmd_repo_free(r);
		return rc;
	}
	*ret = r;
	return 0;
}

int lmd_repo_open(const char *dir, lmd_repo **ret)
{
	lmd_repo *r;
	struct stat st;
	int rc;

	if ((rc = repo_new(dir, &r)) < 0)
		return rc;
	if (stat(r->lmdir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		rc = lmd_error_set(LMD_ENOTREPO, "'%s' has no .lmdata folder; run 'lmdata init' first", r->top);
		lmd_repo_free(r);
		return rc;
	}
	if ((rc = load_settings(r)) < 0) {
		lmd_repo_free(r);
		return rc;
	}
	*ret = r;
	return 0;
}

void lmd_repo_free(lmd_repo *r)
{
	if (!r)
		return;
	lmd__repo_unlock(r);
	lmd_store_free(r->store);
	lmd_config_free(r->cfg);
	lmd_config_free(r->cfg_local);
	lmd_git_free(r->git);
	free(r->top);
	free(r->lmdir);
	free(r);
}

const char *lmd_repo_workdir(const lmd_repo *r)
{
	return r->top;
}

void lmd_repo_set_progress(lmd_repo *r, lmd_progress_cb cb, void *payload)
{
	r->progress = cb;
	r->progress_payload = payload;
}

void lmd_repo_set_jobs(lmd_repo *r, unsigned jobs)
{
	r->jobs = jobs;
}

unsigned lmd__repo_jobs(lmd_repo *r)
{
	long n;
	if (r->jobs)
		return r->jobs;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

/*
 * The chunks per part of big files' lists, and the bytes per pack, for
 * every store a repository opens; 0 is the default.  Only the e2e tests' build of the command
 * (tests/e2e/test_hooks.c) sets it, to get many parts from a small file:
 * the installed lmdata has no way to change it, so it cannot change what
 * objects a real repository's files give.
 */
uint32_t lmd__test_part_chunks;
uint64_t lmd__test_pack_target;
/* Raw bytes per block (0: the default), for many small blocks. */
uint32_t lmd__test_block_target;
/* The in-memory buffer of gc's live chunk ids and of the objects push,
 * status -c, fsck -r and gc -r need (idspill.h); 0: the default. */
size_t lmd__test_gc_ids;
/* fetch's chunks per batch, and its count's buffer of chunk ids; 0: the defaults. */
size_t lmd__test_fetch_batch;

int lmd__repo_store(lmd_repo *r, lmd_store **ret)
{
	if (!r->store) {
		lmd_store_opts o = LMD_STORE_OPTS_INIT;
		char *dir = lmd_path_join(r->lmdir, "cache");
		int rc;
		if (!dir)
			return -ENOMEM;
		o.level = r->level;
		o.part_chunks = lmd__test_part_chunks;
		if (lmd__test_pack_target)
			o.pack_target = lmd__test_pack_target;
		if (lmd__test_block_target)
			o.block_target = lmd__test_block_target;
		rc = lmd_store_open(dir, &o, &r->store);
		free(dir);
		if (rc < 0)
			return rc;
	}
	*ret = r->store;
	return 0;
}

int lmd__repo_lock(lmd_repo *r)
{
	char *p;
	int fd;

	if (r->lock_fd >= 0)
		return 0;
	p = lmd_path_join(r->lmdir, "lock");
	if (!p)
		return -ENOMEM;
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		int rc = lmd_errno_path("cannot open lock file", p);
		free(p);
		return rc;
	}
	/* flock is released by the kernel when a process dies, even by kill -9,
	 * so a crashed writer never leaves the repository locked. */
	for (int tries = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; tries++) {
		if (errno != EWOULDBLOCK || tries >= 300) {
			close(fd);
			int rc = lmd_error_set(LMD_ELOCKED,
				"another lmdata command is writing in '%s'; wait for it to finish and retry", r->top);
			free(p);
			return rc;
		}
		usleep(100 * 1000);
	}
	free(p);
	r->lock_fd = fd;
	return 0;
}

void lmd__repo_unlock(lmd_repo *r)
{
	if (r->lock_fd >= 0) {
		/* A writer leaves the pack lookups fast for the next command
		 * (midx.c); a failure costs speed only, never data. */
		if (r->store && lmd__store_maintain(r->store) < 0)
			lmd_error_clear();
		close(r->lock_fd);
		r->lock_fd = -1;
	}
}

char *lmd__abs(lmd_repo *r, const char *rel)
{
	return lmd_path_join(r->top, rel);
}

int lmd__resolve(lmd_repo *r, const char *user, char **ret_rel)
{
	char *abs = NULL, *dir = NULL, *real = NULL, *rel = NULL;
	const char *base;
	size_t tl = strlen(r->top);
	int rc = 0;

	if (!user[0])
		return lmd_error_set(LMD_EBADINPUT, "empty path");
	if (user[0] == '/') {
		abs = lmd_strdup(user);
	} else {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd)))
			return lmd_errno_path("cannot get the current folder", ".");
		abs = lmd_path_join(cwd, user);
	}
	if (!abs)
		return -ENOMEM;
	/* Strip trailing slashes ("data/" names data). */
	for (size_t n = strlen(abs); n > 1 && abs[n - 1] == '/'; n--)
		abs[n - 1] = '\0';
	base = lmd_path_basename(abs);
	if (!strcmp(base, ".") || !strcmp(base, "..") || !base[0]) {
		real = realpath(abs, NULL);
		if (!real) {
			rc = lmd_errno_path("cannot access", user);
			goto done;
		}
	} else {
		dir = lmd_path_dirname(abs);
		if (!dir) {
			rc = -ENOMEM;
			goto done;
		}
		char *rdir = realpath(dir[0] ? dir : "/", NULL);
		if (!rdir) {
			rc = lmd_errno_path("cannot access", user);
			goto done;
		}
		real = lmd_path_join(rdir, base);
		free(rdir);
		if (!real) {
			rc = -ENOMEM;
			goto done;
		}
	}
	if (!strcmp(real, r->top)) {
		rel = lmd_strdup("");
	} else if (!strncmp(real, r->top, tl) && real[tl] == '/') {
		rel = lmd_strdup(real + tl + 1);
	} else {
		rc = lmd_error_set(LMD_EBADINPUT, "'%s' is outside the repository '%s'", user, r->top);
		goto done;
	}
	if (!rel) {
		rc = -ENOMEM;
		goto done;
	}
	*ret_rel = rel;
done:
	free(abs);
	free(dir);
	free(real);
	return rc;
}

bool lmd__path_reserved(const char *rel)
{
	/* lmdata writes .gitignore files itself: tracking one makes no sense. */
	if (!strcmp(lmd_path_basename(rel), ".gitignore"))
		return true;
	static const char *res[] = { ".git", ".lmdata" };
	/* any component named .git, and .lmdata at the top */
	for (const char *p = rel; *p;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 4 && !memcmp(p, res[0], 4))
			return true;
		if (p == rel && n == 7 && !memcmp(p, res[1], 7))
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

struct ds_list {
	lmd_dataset *v;
	size_t n, cap;
};

static int ds_cb(const char *path, void *payload)
{
	struct ds_list *l = payload;
	size_t n = strlen(path);
	if (l->n == l->cap) {
		size_t c = l->cap ? l->cap * 2 : 16;
		lmd_dataset *nv = lmd_reallocarray(l->v, c, sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = c;
	}
	l->v[l->n].mpath = lmd_strdup(path);
	l->v[l->n].path = lmd_strndup(path, n - 4);
	if (!l->v[l->n].mpath || !l->v[l->n].path) {
		free(l->v[l->n].mpath);
		free(l->v[l->n].path);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

static int cmp_ds(const void *a, const void *b)
{
	return strcmp(((const lmd_dataset *)a)->mpath, ((const lmd_dataset *)b)->mpath);
}

/*
 * The registry (.lmdata/state/datasets): every dataset lmdata add wrote a
 * manifest for, NUL-separated.  Manifests are found through the git index,
 * but one that was unstaged (git reset, git rm --cached) must still count,
 * or gc would delete the data it names.
 */
static char *registry_path(lmd_repo *r)
{
	return lmd_asprintf("%s/state/datasets", r->lmdir);
}

int lmd__registry_update(lmd_repo *r, const char *const *add, size_t nadd, const char *const *del, size_t ndel)
{
	lmd_buf cur = LMD_BUF_INIT, out = LMD_BUF_INIT;
	char *path = registry_path(r);
	int rc;

	if (!path)
		return -ENOMEM;
	rc = lmd_read_file(path, 64u << 20, &cur);
	if (rc == -ENOENT) {
		lmd_error_clear();
		rc = 0;
	}
	if (rc < 0)
		goto done;
	/* Keep existing entries that are not deleted or re-added, then the adds. */
	for (char *p = (char *)cur.ptr, *end = p + cur.len; p && p < end;) {
		size_t l = strnlen(p, (size_t)(end - p));
		bool drop = false;
		for (size_t i = 0; i < ndel && !drop; i++)
			drop = strlen(del[i]) == l && !memcmp(del[i], p, l);
		for (size_t i = 0; i < nadd && !drop; i++)
			drop = strlen(add[i]) == l && !memcmp(add[i], p, l);
		if (!drop && l)
			lmd_buf_put(&out, p, l + 1);
		p += l + 1;
	}
	for (size_t i = 0; i < nadd; i++)
		lmd_buf_put(&out, add[i], strlen(add[i]) + 1);
	/* A re-add of what is known writes nothing (it costs two fsyncs). */
	if (out.len == cur.len && (!out.len || !memcmp(out.ptr, cur.ptr, out.len)))
		goto done;
	rc = lmd_write_file_atomic(path, out.ptr ? out.ptr : (uint8_t *)"", out.len, 0644);
done:
	free(path);
	lmd_buf_release(&cur);
	lmd_buf_release(&out);
	return rc;
}

int lmd__datasets(lmd_repo *r, lmd_dataset **ret, size_t *ret_n)
{
	struct ds_list l = { 0 };
	lmd_buf reg = LMD_BUF_INIT;
	char *rp = registry_path(r);
	size_t from_index;
	int rc = rp ? lmd_git_list_manifests(r->git, ds_cb, &l) : -ENOMEM;

	if (rc < 0)
		goto fail;
	from_index = l.n;
	if (lmd_read_file(rp, 64u << 20, &reg) == 0) {
		for (char *p = (char *)reg.ptr, *end = p + reg.len; p < end;) {
			size_t len = strnlen(p, (size_t)(end - p));
			char *m = len ? lmd_asprintf("%.*s.lmd", (int)len, p) : NULL;
			bool known = false;
			if (len && !m) {
				rc = -ENOMEM;
				goto fail;
			}
			for (size_t i = 0; m && i < from_index && !known; i++)
				known = !strcmp(l.v[i].mpath, m);
			if (m && !known) {
				char *abs = lmd__abs(r, m);
				struct stat st;
				if (abs && lstat(abs, &st) == 0 && S_ISREG(st.st_mode) && (rc = ds_cb(m, &l)) < 0) {
					free(abs);
					free(m);
					goto fail;
				}
				free(abs);
			}
			free(m);
			p += len + 1;
		}
	}
	lmd_error_clear();
	if (l.n > from_index)
		qsort(l.v, l.n, sizeof(*l.v), cmp_ds);
	lmd_buf_release(&reg);
	free(rp);
	*ret = l.v;
	*ret_n = l.n;
	return 0;
fail:
	lmd_buf_release(&reg);
	free(rp);
	lmd__datasets_free(l.v, l.n);
	return rc;
}

void lmd__datasets_free(lmd_dataset *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(d[i].mpath);
		free(d[i].path);
	}
	free(d);
}

bool lmd__path_selects(const char *sel, const char *dataset)
{
	size_t ls = strlen(sel), ld = strlen(dataset);
	if (ls == 0)
		return true;
	if (ls == ld)
		return !strcmp(sel, dataset);
	if (ls < ld) /* sel is a folder containing the dataset */
		return !strncmp(sel, dataset, ls) && dataset[ls] == '/';
	/* sel is inside the dataset */
	return !strncmp(sel, dataset, ld) && sel[ld] == '/';
}

bool lmd__selected(char *const *sel, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (lmd__path_selects(sel[i], path))
			return true;
	return n == 0;
}

void lmd__selection_free(char **sel, size_t n)
{
	for (size_t i = 0; sel && i < n; i++)
		free(sel[i]);
	free(sel);
}

int lmd__selection(lmd_repo *r, const char *const *paths, size_t n, const lmd_dataset *ds, size_t nds,
		   char ***ret_sel)
{
	char **sel = lmd_calloc(n ? n : 1, sizeof(*sel));
	int rc = 0;

	if (!sel)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t l;
		bool any = false;
		if ((rc = lmd__resolve(r, paths[i], &sel[i])) < 0)
			goto fail;
		l = strlen(sel[i]);
		if (l > 4 && !strcmp(sel[i] + l - 4, LMD_MANIFEST_SUFFIX))
			sel[i][l - 4] = '\0';
		for (size_t k = 0; ds && k < nds && !any; k++)
			any = lmd__path_selects(sel[i], ds[k].path);
		if (ds && !any) {
			rc = lmd_error_set(LMD_EBADINPUT,
				"'%s' is not tracked by lmdata (no manifest for it or around it)", paths[i]);
			goto fail;
		}
	}
	*ret_sel = sel;
	return 0;
fail:
	lmd__selection_free(sel, n);
	return rc;
}

int lmd__manifest_read(lmd_repo *r, const char *mpath, lmd_manifest *ret)
{
	lmd_buf b = LMD_BUF_INIT;
	char *abs = lmd__abs(r, mpath);
	const char *want;
	int rc;

	if (!abs)
		return -ENOMEM;
	rc = lmd_read_file(abs, LMD_MAX_MANIFEST, &b);
	free(abs);
	if (rc == LMD_ETOOBIG)
		rc = lmd_error_set(LMD_EMANIFEST, "manifest '%s' is too large to be an lmdata manifest", mpath);
	if (rc < 0)
		goto done;
	if ((rc = lmd_manifest_parse((const char *)b.ptr, b.len, mpath, ret)) < 0)
		goto done;
	/* The manifest must describe the data right next to it. */
	want = lmd_path_basename(mpath);
	if (strlen(want) != strlen(ret->name) + 4 || strncmp(want, ret->name, strlen(ret->name)) != 0) {
		lmd_manifest_release(ret);
		rc = lmd_error_set(LMD_EMANIFEST,
			"manifest '%s' names '%s', not the data next to it; restore it with git or re-run 'lmdata add'",
			mpath, lmd_quote(ret->name));
	}
done:
	lmd_buf_release(&b);
	return rc;
}

void lmd__progress_start(lmd_repo *r, const char *phase, uint64_t bytes_total, uint64_t files_total)
{
	memset(&r->prog, 0, sizeof(r->prog));
	r->prog.phase = phase;
	r->prog.bytes_total = bytes_total;
	r->prog.files_total = files_total;
	r->prog_last = 0;
}

void lmd__progress_add(lmd_repo *r, uint64_t bytes, uint64_t files)
{
	int64_t now;
	r->prog.bytes_done += bytes;
	r->prog.files_done += files;
	if (!r->progress)
		return;
	now = lmd_mono_ns();
	if (now - r->prog_last < 100 * 1000 * 1000)
		return;
	r->prog_last = now;
	r->progress(&r->prog, r->progress_payload);
}

void lmd__progress_end(lmd_repo *r)
{
	if (r->progress && r->prog.phase) {
		r->prog_last = 0;
		r->progress(&r->prog, r->progress_payload);
		r->progress(NULL, r->progress_payload);
	}
	r->prog.phase = NULL;
}
