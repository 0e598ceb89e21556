/*
 * Configured remotes: [remote "NAME"] sections of .lmdata/config (shared,
 * committed) and .lmdata/config.local (credentials and machine settings,
 * never committed), the default remote (core.remote), and opening a
 * remote's backend from both files.  Secrets are refused in the committed
 * file and masked whenever a remote is listed.
 */
#include <ctype.h>
#include <stdio.h>
#include <limits.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sync_int.h"

static const char *const known_keys[] = {
	"url", "endpoint", "region", "profile", "jobs", "addressing", "insecure", "anonymous",
	"max_tries", "multipart_threshold", "part_size",
	"access_key_id", "secret_access_key", "session_token", NULL,
};

bool lmd_remote_key_known(const char *key)
{
	for (size_t i = 0; known_keys[i]; i++)
		if (!strcmp(known_keys[i], key))
			return true;
	return false;
}

bool lmd_remote_key_secret(const char *key)
{
	return !strcmp(key, "access_key_id") || !strcmp(key, "secret_access_key") || !strcmp(key, "session_token");
}

static int check_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 64 || !(islower((unsigned char)name[0]) || isdigit((unsigned char)name[0])))
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) && name[i] != '-' &&
		    name[i] != '_')
			goto bad;
	return 0;
bad:
	return lmd_error_set(LMD_EBADINPUT,
			     "bad remote name '%s': use lowercase letters, digits, '-' and '_' (at most 64)",
			     name ? name : "");
}

static bool remote_exists(lmd_repo *r, const char *name)
{
	char *k = lmd_asprintf("remote.%s.url", name);
	bool e = k && (lmd_config_get(r->cfg, k) || lmd_config_get(r->cfg_local, k));
	free(k);
	return e;
}

static int need_remote(lmd_repo *r, const char *name)
{
	int rc = check_name(name);
	if (rc < 0)
		return rc;
	if (!remote_exists(r, name))
		return lmd_error_set(LMD_ENOTFOUND, "no remote '%s'; see 'lmdata remote list'", name);
	return 0;
}

/* config.local holds secrets: keep it private to the user. */
static int write_local(lmd_repo *r)
{
	char *p = lmd_path_join(r->lmdir, "config.local");
	int rc = lmd_config_write(r->cfg_local);   /* created 0600 (repo.c) */
	if (rc == 0 && p)
		chmod(p, 0600);                     /* and tightened if it predates that */
	free(p);
	return rc;
}

/* The committed config: written, then staged so the next git commit carries it. */
static int write_shared(lmd_repo *r)
{
	const char *stage[] = { ".lmdata/config" };
	int rc = lmd_config_write(r->cfg);
	if (rc < 0)
		return rc;
	return lmd_git_stage(r->git, stage, 1);
}

static int check_url(const char *url)
{
	if (!url || !*url)
		return lmd_error_set(LMD_EBADINPUT, "empty remote url");
	if (!strncmp(url, "s3://", 5)) {
		const char *slash = strchr(url + 5, '/'), *at = strchr(url + 5, '@');
		if (!url[5] || url[5] == '/')
			return lmd_error_set(LMD_EBADINPUT, "remote url '%s' names no bucket (want s3://bucket/prefix)",
					     url);
		/* Never echo it: it may hold a secret. */
		if (at && (!slash || at < slash))
			return lmd_error_set(LMD_EBADINPUT,
					     "credentials do not belong in a remote url (it is committed); use "
					     "'lmdata remote modify --local NAME access_key_id ...' or the environment");
		return 0;
	}
	if (!strncmp(url, "file://", 7) || url[0] == '/')
		return 0;
	if (strstr(url, "://"))
		return lmd_error_set(LMD_EBADINPUT,
				     "unsupported remote url '%s' (want s3://bucket/prefix, /path or file:///path)",
				     strchr(url, '@') ? "(not shown: it has an '@')" : url);
	return 0;
}

int lmd_remote_add(lmd_repo *r, const char *name, const char *url, bool make_default)
{
	char *abs = NULL, *k = NULL;
	int rc;

	if ((rc = check_name(name)) < 0 || (rc = check_url(url)) < 0)
		return rc;
	if (remote_exists(r, name))
		return lmd_error_set(LMD_EBADINPUT, "remote '%s' already exists; use 'lmdata remote modify %s url URL'",
				     name, name);
	if (strncmp(url, "s3://", 5) && strncmp(url, "file://", 7) && url[0] != '/') {
		/* A relative folder: absolute, and without "..", so the config
		 * means the same from any folder. */
		char *dir = lmd_path_dirname(url), *real = dir ? realpath(*dir ? dir : ".", NULL) : NULL;
		abs = real ? lmd_path_join(real, lmd_path_basename(url)) : NULL;
		free(dir);
		free(real);
		if (!abs)
			return lmd_error_set(LMD_EBADINPUT, "cannot resolve the folder of remote url '%s'", url);
		url = abs;
	}
	k = lmd_asprintf("remote.%s.url", name);
	if (!k) {
		rc = -ENOMEM;
		goto done;
	}
	if ((rc = lmd_config_set(r->cfg, k, url)) < 0)
		goto done;
	if (make_default || !lmd_config_get(r->cfg, "core.remote"))
		if ((rc = lmd_config_set(r->cfg, "core.remote", name)) < 0)
			goto done;
	rc = write_shared(r);
done:
	free(abs);
	free(k);
	return rc;
}

static int rm_entry(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (type == FTW_DP ? rmdir(p) : unlink(p)) < 0 && errno != ENOENT ? -1 : 0;
}

/* Remove our own cache folder of a remote, depth first, never following
 * links (no shell: the repository's path may hold any character). */
static int rm_tree(const char *path)
{
	if (access(path, F_OK) != 0)
		return 0;
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -EIO;
}

char *lmd__remote_state_dir(lmd_repo *r, const char *name)
{
	return lmd_asprintf("%s/state/remote-%s", r->lmdir, name);
}

char *lmd__remote_idx_dir(lmd_repo *r, const char *name)
{
	return lmd_asprintf("%s/state/remote-%s/idx", r->lmdir, name);
}

int lmd_remote_remove(lmd_repo *r, const char *name)
{
	char *sec, *st;
	const char *def;
	int rc;

	if ((rc = need_remote(r, name)) < 0)
		return rc;
	sec = lmd_asprintf("remote.%s", name);
	if (!sec)
		return -ENOMEM;
	lmd_config_remove_section(r->cfg, sec);
	lmd_config_remove_section(r->cfg_local, sec);
	free(sec);
	def = lmd_config_get(r->cfg, "core.remote");
	if (def && !strcasecmp(def, name))
		lmd_config_set(r->cfg, "core.remote", NULL);
	if ((rc = write_shared(r)) < 0 || (rc = write_local(r)) < 0)
		return rc;
	st = lmd__remote_state_dir(r, name);
	if (st)
		rm_tree(st);
	free(st);
	return 0;
}

struct kv_list {
	const char *prefix;
	char *k[64], *v[64];
	size_t n;
};

static int collect_cb(const char *key, const char *value, void *payload)
{
	struct kv_list *l = payload;
	if (l->n == 64)
		return 0;
	l->k[l->n] = lmd_strdup(key + strlen(l->prefix));
	l->v[l->n] = lmd_strdup(value);
	if (!l->k[l->n] || !l->v[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

/* Move every key of [remote "old"] to [remote "new"] in one config. */
static int copy_section(lmd_config *cfg, const char *old_name, const char *new_name)
{
	struct kv_list l = { 0 };
	char *pre = lmd_asprintf("remote.%s.", old_name), *sec = lmd_asprintf("remote.%s", old_name);
	int rc = pre && sec ? 0 : -ENOMEM;

	l.prefix = pre;
	if (rc == 0)
		rc = lmd_config_foreach(cfg, pre, collect_cb, &l);
	if (rc == 0)
		rc = lmd_config_remove_section(cfg, sec);
	for (size_t i = 0; i < l.n && rc == 0; i++) {
		char *nk = lmd_asprintf("remote.%s.%s", new_name, l.k[i]);
		rc = nk ? lmd_config_set(cfg, nk, l.v[i]) : -ENOMEM;
		free(nk);
	}
	for (size_t i = 0; i < 64; i++) {
		free(l.k[i]);
		free(l.v[i]);
	}
	free(pre);
	free(sec);
	return rc;
}

int lmd_remote_rename(lmd_repo *r, const char *old_name, const char *new_name)
{
	const char *def;
	char *os = NULL, *ns = NULL;
	int rc;

	if ((rc = need_remote(r, old_name)) < 0 || (rc = check_name(new_name)) < 0)
		return rc;
	if (remote_exists(r, new_name))
		return lmd_error_set(LMD_EBADINPUT, "remote '%s' already exists", new_name);
	if ((rc = copy_section(r->cfg, old_name, new_name)) < 0 ||
	    (rc = copy_section(r->cfg_local, old_name, new_name)) < 0)
		return rc;
	def = lmd_config_get(r->cfg, "core.remote");
	if (def && !strcasecmp(def, old_name) && (rc = lmd_config_set(r->cfg, "core.remote", new_name)) < 0)
		return rc;
	if ((rc = write_shared(r)) < 0 || (rc = write_local(r)) < 0)
		return rc;
	os = lmd__remote_state_dir(r, old_name);
	ns = lmd__remote_state_dir(r, new_name);
	if (os && ns && access(os, F_OK) == 0)
		rename(os, ns);
	free(os);
	free(ns);
	return 0;
}

int lmd_remote_set_default(lmd_repo *r, const char *name)
{
	int rc;
	if ((rc = need_remote(r, name)) < 0 || (rc = lmd_config_set(r->cfg, "core.remote", name)) < 0)
		return rc;
	return write_shared(r);
}

int lmd_remote_modify(lmd_repo *r, const char *name, const char *key, const char *value, bool local)
{
	char *k;
	int rc;

	if ((rc = need_remote(r, name)) < 0)
		return rc;
	if (!lmd_remote_key_known(key))
		return lmd_error_set(LMD_EBADINPUT,
				     "unknown remote setting '%s' (known: url, endpoint, region, profile, jobs, "
				     "addressing, insecure, anonymous, max_tries, multipart_threshold, part_size, "
				     "access_key_id, secret_access_key, session_token)", key);
	if (lmd_remote_key_secret(key) && !local)
		return lmd_error_set(LMD_EBADINPUT,
				     "'%s' is a secret and .lmdata/config is committed; use "
				     "'lmdata remote modify --local %s %s VALUE' (it goes to .lmdata/config.local)",
				     key, name, key);
	if (value && !strcmp(key, "url") && (rc = check_url(value)) < 0)
		return rc;
	if (value && !strcmp(key, "addressing") && strcmp(value, "auto") && strcmp(value, "path") &&
	    strcmp(value, "virtual"))
		return lmd_error_set(LMD_EBADINPUT, "addressing must be auto, path or virtual");
	k = lmd_asprintf("remote.%s.%s", name, key);
	if (!k)
		return -ENOMEM;
	rc = lmd_config_set(local ? r->cfg_local : r->cfg, k, value);
	free(k);
	if (rc < 0)
		return rc;
	return local ? write_local(r) : write_shared(r);
}

/* ---- listing ---- */

struct names {
	char **v;
	size_t n, cap;
};

static int name_cb(const char *key, const char *value, void *payload)
{
	struct names *ns = payload;
	const char *s = key + strlen("remote."), *e = strrchr(key, '.');
	(void)value;
	if (e <= s || strcmp(e + 1, "url"))
		return 0;
	for (size_t i = 0; i < ns->n; i++)
		if ((size_t)(e - s) == strlen(ns->v[i]) && !strncasecmp(ns->v[i], s, (size_t)(e - s)))
			return 0;
	if (ns->n == ns->cap) {
		size_t c = ns->cap ? ns->cap * 2 : 8;
		char **nv = lmd_reallocarray(ns->v, c, sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		ns->v = nv;
		ns->cap = c;
	}
	ns->v[ns->n] = lmd_strndup(s, (size_t)(e - s));
	if (!ns->v[ns->n])
		return -ENOMEM;
	for (char *p = ns->v[ns->n]; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	ns->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

static int list_names(lmd_repo *r, struct names *ns)
{
	int rc;
	if ((rc = lmd_config_foreach(r->cfg, "remote.", name_cb, ns)) < 0 ||
	    (rc = lmd_config_foreach(r->cfg_local, "remote.", name_cb, ns)) < 0)
		return rc;
	if (ns->n)
		qsort(ns->v, ns->n, sizeof(*ns->v), cmp_str);
	return 0;
}

struct settings {
	const char *prefix;
	bool local;
	const char *keys[64], *values[64];
	char *owned[64];
	bool is_local[64];
	size_t n;
	const char *url;
};

/* How a setting is shown: the key id masked ("AKIA…MPLE"), other secrets not at all. */
static const char *shown(const char *key, const char *value, char **owned)
{
	char buf[64];
	*owned = NULL;
	if (!lmd_remote_key_secret(key))
		return value;
	if (strcmp(key, "access_key_id"))
		return "****";
	lmd_remote_mask(value, buf, sizeof(buf));
	/* ASCII only, so every output (JSON included) shows it the same way. */
	char *e = strstr(buf, "\xe2\x80\xa6");
	if (e) {
		memcpy(e, "...", 3);
	}
	*owned = lmd_strdup(buf);
	return *owned ? *owned : "****";
}

static int setting_cb(const char *key, const char *value, void *payload)
{
	struct settings *st = payload;
	const char *k = key + strlen(st->prefix);
	size_t i;
	if (!strcmp(k, "url")) {
		st->url = value; /* config.local is read second: it wins */
		return 0;
	}
	for (i = 0; i < st->n; i++)
		if (!strcmp(st->keys[i], k))
			break;
	if (i == st->n) {
		if (st->n == 64)
			return 0;
		st->n++;
	}
	free(st->owned[i]);
	st->keys[i] = k;
	st->values[i] = shown(k, value, &st->owned[i]);
	st->is_local[i] = st->local;
	return 0;
}

int lmd_remote_foreach(lmd_repo *r, lmd_remote_entry_cb cb, void *payload)
{
	struct names ns = { 0 };
	const char *def = lmd_config_get(r->cfg, "core.remote");
	int rc;

	if ((rc = list_names(r, &ns)) < 0)
		goto done;
	for (size_t i = 0; i < ns.n; i++) {
		struct settings st = { 0 };
		char *pre = lmd_asprintf("remote.%s.", ns.v[i]);
		if (!pre) {
			rc = -ENOMEM;
			goto done;
		}
		st.prefix = pre;
		lmd_config_foreach(r->cfg, pre, setting_cb, &st);
		st.local = true;
		lmd_config_foreach(r->cfg_local, pre, setting_cb, &st);
		lmd_remote_entry e = {
			.name = ns.v[i], .url = st.url ? st.url : "",
			.is_default = def && !strcasecmp(def, ns.v[i]),
			.nsettings = st.n, .keys = st.keys, .values = st.values, .local = st.is_local,
		};
		if (cb)
			cb(&e, payload);
		for (size_t k = 0; k < st.n; k++)
			free(st.owned[k]);
		free(pre);
	}
	rc = (int)ns.n;
done:
	names_free(&ns);
	return rc;
}

int lmd_remote_resolve_name(lmd_repo *r, const char *name, char **ret_name)
{
	struct names ns = { 0 };
	const char *def;
	char *out = NULL;
	int rc;

	if (name) {
		if ((rc = need_remote(r, name)) < 0)
			return rc;
		out = lmd_strdup(name);
	} else if ((def = lmd_config_get(r->cfg_local, "core.remote")) ||
		   (def = lmd_config_get(r->cfg, "core.remote"))) {
		if ((rc = need_remote(r, def)) < 0)
			return lmd_error_wrap(rc, "the default remote (core.remote)");
		out = lmd_strdup(def);
	} else {
		if ((rc = list_names(r, &ns)) < 0)
			return rc;
		if (ns.n == 1)
			out = lmd_strdup(ns.v[0]);
		names_free(&ns);
		if (!out)
			return lmd_error_set(LMD_ENOTFOUND, ns.n ? "several remotes and no default: use -r NAME or "
								   "'lmdata remote default NAME'"
								 : "no remote configured; add one with 'lmdata remote add NAME URL'");
	}
	if (!out)
		return -ENOMEM;
	*ret_name = out;
	return 0;
}

/* ---- opening ---- */

static const char *get(lmd_repo *r, const char *name, const char *key)
{
	char k[128];
	const char *v;
	snprintf(k, sizeof(k), "remote.%s.%s", name, key);
	v = lmd_config_get(r->cfg_local, k);
	return v ? v : lmd_config_get(r->cfg, k);
}

static bool truthy(const char *v)
{
	return v && (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1") || !strcasecmp(v, "on"));
}

static int get_u64(lmd_repo *r, const char *name, const char *key, uint64_t max, uint64_t *ret)
{
	char k[128];
	const lmd_config *c;
	snprintf(k, sizeof(k), "remote.%s.%s", name, key);
	c = lmd_config_get(r->cfg_local, k) ? r->cfg_local : r->cfg;
	return lmd_config_get_u64(c, k, 0, max, ret);
}

int lmd__remote_open(lmd_repo *r, const char *name, unsigned jobs, lmd_backend **ret_b, char **ret_name)
{
	lmd_remote_config c = { 0 };
	char *rn = NULL;
	uint64_t v;
	const char *a;
	int rc;

	if ((rc = lmd_remote_resolve_name(r, name, &rn)) < 0)
		return rc;
	c.name = rn;
	c.url = get(r, rn, "url");
	c.endpoint = get(r, rn, "endpoint");
	c.region = get(r, rn, "region");
	c.profile = get(r, rn, "profile");
	c.access_key_id = get(r, rn, "access_key_id");
	c.secret_access_key = get(r, rn, "secret_access_key");
	c.session_token = get(r, rn, "session_token");
	c.insecure = truthy(get(r, rn, "insecure"));
	c.anonymous = truthy(get(r, rn, "anonymous"));
	a = get(r, rn, "addressing");
	c.addressing = !a || !strcmp(a, "auto") ? LMD_ADDRESSING_AUTO
		     : !strcmp(a, "path") ? LMD_ADDRESSING_PATH : LMD_ADDRESSING_VIRTUAL;
	if ((rc = get_u64(r, rn, "jobs", 256, &v)) < 0)
		goto fail;
	c.jobs = jobs ? jobs : (unsigned)v;
	if ((rc = get_u64(r, rn, "max_tries", 100, &v)) < 0)
		goto fail;
	c.max_tries = (unsigned)v;
	if ((rc = get_u64(r, rn, "multipart_threshold", LMD_REMOTE_MAX_OBJECT, &c.multipart_threshold)) < 0 ||
	    (rc = get_u64(r, rn, "part_size", 5ull << 30, &c.part_size)) < 0)
		goto fail;
	if ((rc = lmd_backend_open(&c, ret_b)) < 0) {
		/* Name the remote once: the backends' own messages often do. */
		char *named = lmd_asprintf("remote '%s'", rn);
		if (!named) {
			rc = -ENOMEM;
			goto fail;
		}
		if (strncmp(lmd_error_last(), named, strlen(named)) != 0)
			lmd_error_wrap(rc, "%s", named);
		free(named);
		goto fail;
	}
	*ret_name = rn;
	return 0;
fail:
	free(rn);
	return rc;
}
