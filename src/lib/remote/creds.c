/*
 * Credential and setting resolution for S3 remotes (order documented in
 * include/lmdata/remote.h): explicit config, then the AWS environment
 * variables, then a profile of ~/.aws/credentials and ~/.aws/config, then
 * anonymous.  The AWS files are INI: "[name]" sections in credentials,
 * "[profile name]" (or "[default]") in config, and indented sub-sections
 * such as "s3 =\n  endpoint_url = ..." in config.  Secrets are copied only
 * into lmd_remote_creds and wiped when it is cleared; no message here ever
 * contains one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmdata/common.h"
#include "lmdata/remote.h"
#include "remote/backend.h"
#include "remote/util.h"

#define INI_MAX (1 << 20)

typedef struct profile_vals {
	char *key_id, *secret, *token, *region, *endpoint;
	bool found; /* the section exists */
} profile_vals;

static void vals_clear(profile_vals *v)
{
	free(v->key_id);
	lmd__free_secret(v->secret);
	lmd__free_secret(v->token);
	free(v->region);
	free(v->endpoint);
	memset(v, 0, sizeof(*v));
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int set_val(char **dst, const char *v)
{
	char *n = strdup(v);

	if (!n)
		return -ENOMEM;
	if (*dst) {
		explicit_bzero(*dst, strlen(*dst));
		free(*dst);
	}
	*dst = n;
	return 0;
}

/*
 * Read the values of section `want` of an INI file into v (later files
 * override earlier ones only where they set a value).  A missing file is
 * not an error.  is_config: section names are "profile x" except "default".
 */
static int ini_read(const char *file, const char *profile, bool is_config, profile_vals *v)
{
	FILE *f = fopen(file, "re");
	char line[4096], parent[64] = "";
	bool in = false;
	long total = 0;
	int r = 0;

	if (!f)
		return 0;
	while (r >= 0 && fgets(line, sizeof(line), f)) {
		bool indented = line[0] == ' ' || line[0] == '\t';
		char *s, *eq, *k, *val;

		total += (long)strlen(line);
		if (total > INI_MAX) {
			r = lmd_error_set(LMD_ETOOBIG, "'%s' is too large", file);
			break;
		}
		s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']'), *name;

			parent[0] = '\0';
			in = false;
			if (!end)
				continue;
			*end = '\0';
			name = trim(s + 1);
			if (is_config && !strncmp(name, "profile", 7) && (name[7] == ' ' || name[7] == '\t'))
				name = trim(name + 8);
			else if (is_config && strcmp(name, "default"))
				continue; /* [sso-session x], [services x]: not profiles */
			in = !strcmp(name, profile);
			if (in)
				v->found = true;
			continue;
		}
		if (!in || !(eq = strchr(s, '=')))
			continue;
		*eq = '\0';
		k = trim(s);
		val = trim(eq + 1);
		if (!indented)
			parent[0] = '\0';
		if (!indented && !*val) {
			snprintf(parent, sizeof(parent), "%s", k); /* "s3 =" opens a sub-section */
			continue;
		}
		if (indented && *parent) {
			if (!strcmp(parent, "s3") && !strcmp(k, "endpoint_url"))
				r = set_val(&v->endpoint, val);
			continue;
		}
		if (!strcmp(k, "aws_access_key_id"))
			r = set_val(&v->key_id, val);
		else if (!strcmp(k, "aws_secret_access_key"))
			r = set_val(&v->secret, val);
		else if (!strcmp(k, "aws_session_token"))
			r = set_val(&v->token, val);
		else if (!strcmp(k, "region"))
			r = set_val(&v->region, val);
		else if (!strcmp(k, "endpoint_url") && !v->endpoint)
			r = set_val(&v->endpoint, val);
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
	return r;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static int aws_file(const char *var, const char *base, lmd__rbuf *out)
{
	const char *v = env(var), *home;

	if (v)
		return lmd__rbuf_puts(out, v);
	home = env("HOME");
	if (!home)
		return 0;
	return lmd__rbuf_printf(out, "%s/.aws/%s", home, base);
}

static int read_profile(const char *profile, profile_vals *v, lmd__rbuf *cred_file, lmd__rbuf *conf_file)
{
	profile_vals fromconf = { 0 };
	int r;

	r = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials", cred_file);
	if (r >= 0)
		r = aws_file("AWS_CONFIG_FILE", "config", conf_file);
	if (r >= 0 && conf_file->len)
		r = ini_read(conf_file->ptr, profile, true, &fromconf);
	if (r >= 0 && cred_file->len)
		r = ini_read(cred_file->ptr, profile, false, v);
	if (r >= 0) {
		/* credentials file wins for keys; config supplies the rest */
		v->found = v->found || fromconf.found;
#define TAKE(f) do { if (!v->f && fromconf.f) { v->f = fromconf.f; fromconf.f = NULL; } } while (0)
		TAKE(key_id);
		TAKE(secret);
		TAKE(token);
		TAKE(region);
		TAKE(endpoint);
#undef TAKE
	}
	vals_clear(&fromconf);
	return r;
}

void lmd_remote_creds_clear(lmd_remote_creds *c)
{
	if (!c)
		return;
	free(c->access_key_id);
	lmd__free_secret(c->secret_access_key);
	lmd__free_secret(c->session_token);
	free(c->endpoint);
	free(c->region);
	memset(c, 0, sizeof(*c));
}

int lmd_remote_creds_resolve(const lmd_remote_config *cfg, lmd_remote_creds *ret_creds)
{
	lmd_remote_creds c = { 0 };
	profile_vals pv = { 0 };
	lmd__rbuf cred_file = LMD__RBUF_INIT(0), conf_file = LMD__RBUF_INIT(0);
	const char *remote = lmd__remote_display(cfg);
	const char *profile = cfg->profile && *cfg->profile ? cfg->profile : env("AWS_PROFILE");
	bool named = profile != NULL, oom = false;
	int r;

	if (!profile)
		profile = "default";
	r = read_profile(profile, &pv, &cred_file, &conf_file);
	if (r < 0)
		goto done;

	if (cfg->anonymous) {
		c.anonymous = true;
		c.source = "anonymous";
	} else if (cfg->access_key_id || cfg->secret_access_key) {
		if (!cfg->access_key_id || !cfg->secret_access_key) {
			r = lmd_error_set(LMD_EBADINPUT,
					  "remote '%s': the local config sets only one of the access key id "
					  "and the secret access key; set both", remote);
			goto done;
		}
		c.access_key_id = lmd__strdup0(cfg->access_key_id, &oom);
		c.secret_access_key = lmd__strdup0(cfg->secret_access_key, &oom);
		c.session_token = lmd__strdup0(cfg->session_token, &oom);
		c.source = "config";
	} else if (env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY") &&
		   !(cfg->profile && *cfg->profile)) {
		c.access_key_id = lmd__strdup0(env("AWS_ACCESS_KEY_ID"), &oom);
		c.secret_access_key = lmd__strdup0(env("AWS_SECRET_ACCESS_KEY"), &oom);
		c.session_token = lmd__strdup0(env("AWS_SESSION_TOKEN"), &oom);
		c.source = "environment";
	} else if (pv.key_id && pv.secret) {
		c.access_key_id = pv.key_id;
		c.secret_access_key = pv.secret;
		c.session_token = pv.token;
		pv.key_id = pv.secret = pv.token = NULL;
		c.source = named ? "profile" : "default profile";
	} else if (named && !pv.found) {
		r = lmd_error_set(LMD_ENOTFOUND,
				  "remote '%s': profile '%s' not found in %s or %s; add it (aws configure --profile %s) or pick another",
				  remote, profile, cred_file.len ? cred_file.ptr : "~/.aws/credentials",
				  conf_file.len ? conf_file.ptr : "~/.aws/config", profile);
		goto done;
	} else {
		r = lmd_error_set(LMD_EREMOTE,
				  "remote '%s': no credentials found; set AWS_ACCESS_KEY_ID and "
				  "AWS_SECRET_ACCESS_KEY, add profile '%s' to ~/.aws/credentials, "
				  "or mark the remote anonymous for a public bucket", remote, profile);
		goto done;
	}

	if (cfg->endpoint && *cfg->endpoint)
		c.endpoint = lmd__strdup0(cfg->endpoint, &oom);
	else if (env("AWS_ENDPOINT_URL_S3"))
		c.endpoint = lmd__strdup0(env("AWS_ENDPOINT_URL_S3"), &oom);
	else if (env("AWS_ENDPOINT_URL"))
		c.endpoint = lmd__strdup0(env("AWS_ENDPOINT_URL"), &oom);
	else if (pv.endpoint)
		c.endpoint = lmd__strdup0(pv.endpoint, &oom);

	if (cfg->region && *cfg->region)
		c.region = lmd__strdup0(cfg->region, &oom);
	else if (env("AWS_REGION"))
		c.region = lmd__strdup0(env("AWS_REGION"), &oom);
	else if (env("AWS_DEFAULT_REGION"))
		c.region = lmd__strdup0(env("AWS_DEFAULT_REGION"), &oom);
	else if (pv.region)
		c.region = lmd__strdup0(pv.region, &oom);
	else
		c.region = lmd__strdup0("us-east-1", &oom);

	if (oom) {
		r = -ENOMEM;
		goto done;
	}
	*ret_creds = c;
	memset(&c, 0, sizeof(c));
	r = 0;
done:
	lmd_remote_creds_clear(&c);
	vals_clear(&pv);
	lmd__rbuf_release(&cred_file);
	lmd__rbuf_release(&conf_file);
	return r;
}

void lmd_remote_mask(const char *s, char *buf, size_t bufsz)
{
	size_t n = s ? strlen(s) : 0;

	if (!bufsz)
		return;
	if (n >= 12)
		snprintf(buf, bufsz, "%.4s…%s", s, s + n - 4);
	else
		snprintf(buf, bufsz, "****");
}
