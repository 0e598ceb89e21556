/*
 * Credential resolution for S3 remotes: precedence (explicit config, then
 * the environment, then ~/.aws profiles, then anonymous), profile parsing of
 * ~/.aws/credentials and ~/.aws/config ("[profile x]", s3 sub-sections,
 * comments), region/endpoint resolution, masking, and that no error message
 * ever carries a secret.  Each test sets its own environment (Criterion
 * forks per test).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lmdata/remote.h"

static char dir[256];

static void write_file(const char *name, const char *text)
{
	char p[320];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	cr_assert(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	char p[320];
	const char *vars[] = { "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
			       "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
			       "AWS_ENDPOINT_URL_S3", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE" };

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	snprintf(dir, sizeof(dir), "/tmp/lmd-creds-XXXXXX");
	cr_assert(mkdtemp(dir));
	setenv("HOME", dir, 1);
	snprintf(p, sizeof(p), "%s/.aws", dir);
	mkdir(p, 0700);
	write_file(".aws/credentials",
		   "# comment\n[default]\naws_access_key_id = DEFAULTKEYID0001\n"
		   "aws_secret_access_key = default-secret-value\n\n"
		   "[work]\n  aws_access_key_id=WORKKEYID00000002  \naws_secret_access_key=work-secret\n"
		   "aws_session_token = work-token\n");
	write_file(".aws/config",
		   "[default]\nregion = eu-west-1\n"
		   "[profile work]\nregion = ap-south-1\ns3 =\n  endpoint_url = http://work.example:9000\n"
		   "  addressing_style = path\n"
		   "[profile cfgonly]\naws_access_key_id = CFGONLYKEYID0003\naws_secret_access_key = cfg-secret\n"
		   "endpoint_url = https://cfg.example\n"
		   "[sso-session work]\nregion = xx-fake-1\n");
}

static void teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
}

TestSuite(creds, .init = setup, .fini = teardown);

Test(creds, explicit_config_wins)
{
	lmd_remote_config cfg = { .url = "s3://b", .access_key_id = "CFGKEY", .secret_access_key = "cfgsecret",
				  .region = "us-west-2", .endpoint = "http://127.0.0.1:1" };
	lmd_remote_creds c = { 0 };

	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_REGION", "env-region", 1);
	cr_assert_eq(lmd_remote_creds_resolve(&cfg, &c), 0, "%s", lmd_error_last());
	cr_assert_str_eq(c.access_key_id, "CFGKEY");
	cr_assert_str_eq(c.secret_access_key, "cfgsecret");
	cr_assert_str_eq(c.region, "us-west-2");
	cr_assert_str_eq(c.endpoint, "http://127.0.0.1:1");
	cr_assert_str_eq(c.source, "config");
	lmd_remote_creds_clear(&c);
}

Test(creds, half_explicit_is_an_error_without_secret)
{
	lmd_remote_config cfg = { .url = "s3://b", .name = "origin", .secret_access_key = "s3cr3t-value" };
	lmd_remote_creds c = { 0 };

	cr_assert_eq(lmd_remote_creds_resolve(&cfg, &c), LMD_EBADINPUT);
	cr_assert(strstr(lmd_error_last(), "origin"));
	cr_assert_null(strstr(lmd_error_last(), "s3cr3t-value"));
}

Test(creds, environment_then_default_profile)
{
	lmd_remote_config cfg = { .url = "s3://b" };
	lmd_remote_creds c = { 0 };

	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_SESSION_TOKEN", "envtoken", 1);
	setenv("AWS_DEFAULT_REGION", "ca-central-1", 1);
	setenv("AWS_ENDPOINT_URL", "http://env.example", 1);
	cr_assert_eq(lmd_remote_creds_resolve(&cfg, &c), 0);
	cr_assert_str_eq(c.access_key_id, "ENVKEY");
	cr_assert_str_eq(c.session_token, "envtoken");
	cr_assert_str_eq(c.region, "ca-central-1");
	cr_assert_str_eq(c.endpoint, "http://env.example");
	cr_assert_str_eq(c.source, "environment");
	lmd_remote_creds_clear(&c);

	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_DEFAULT_REGION");
	unsetenv("AWS_ENDPOINT_URL");
	cr_assert_eq(lmd_remote_creds_resolve(&cfg, &c), 0);
	cr_assert_str_eq(c.access_key_id, "DEFAULTKEYID0001");
	cr_assert_str_eq(c.secret_access_key, "default-secret-value");
	cr_assert_null(c.session_token);
	cr_assert_str_eq(c.region, "eu-west-1");
	cr_assert_null(c.endpoint);
	lmd_remote_creds_clear(&c);
}

Test(creds, named_profile_from_env_and_config)
{
	lmd_remote_config cfg = { .url = "s3://b" };
	lmd_remote_creds c = { 0 };

	setenv("AWS_PROFILE", "work", 1);
	cr_assert_eq(lmd_remote_creds_resolve(&cfg, &c), 0, "%s", lmd_error_last());
	cr_assert_str_eq(c.access_key_id, "WORKKEYID00000002");
	cr_assert_str_eq(c.session_token, "work-token");
	cr_assert_str_eq(c.region, "ap-south-1", "the sso-session section must not leak in");
	cr_assert_str_eq(c.endpoint, "http://work.example:9000");
	lmd_remote_creds_clear(&c);

	/* the remote's own profile wins over AWS_PROFILE; keys may live in config */
	cfg.profile = "cfgonly";
	cr_assert_eq(lmd_remote_creds_resolve(&cfg, &c), 0);
	cr_assert_str_eq(c.access_key_id, "CFGONLYKEYID0003");
	cr_assert_str_eq(c.endpoint, "https://cfg.example");
	cr_assert_str_eq(c.region, "us-east-1");
	lmd_remote_creds_clear(&c);

	/* AWS_REGION beats the profile's region */
	cfg.profile = "work";
	setenv("AWS_REGION", "sa-east-1", 1);
	cr_assert_eq(lmd_remote_creds_resolve(&cfg, &c), 0);
	cr_assert_str_eq(c.region, "sa-east-1");
	lmd_remote_creds_clear(&c);
}

Test(creds, alternate_files_and_missing_profile)
{
	lmd_remote_config cfg = { .url = "s3://b", .name = "origin", .profile = "nope" };
	lmd_remote_creds c = { 0 };
	char p[320];

	write_file("alt-creds", "[alt]\naws_access_key_id=ALTKEYID00000004\naws_secret_access_key=alt-secret\n");
	snprintf(p, sizeof(p), "%s/alt-creds", dir);
	setenv("AWS_SHARED_CREDENTIALS_FILE", p, 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
	cr_assert_eq(lmd_remote_creds_resolve(&cfg, &c), LMD_ENOTFOUND);
	cr_assert(strstr(lmd_error_last(), "profile 'nope'"), "%s", lmd_error_last());
	cr_assert(strstr(lmd_error_last(), "origin"));
	cfg.profile = "alt";
	cr_assert_eq(lmd_remote_creds_resolve(&cfg, &c), 0);
	cr_assert_str_eq(c.access_key_id, "ALTKEYID00000004");
	lmd_remote_creds_clear(&c);
}

Test(creds, anonymous_and_none)
{
	lmd_remote_config cfg = { .url = "s3://b", .name = "origin", .anonymous = true };
	lmd_remote_creds c = { 0 };

	setenv("HOME", "/nonexistent", 1);
	cr_assert_eq(lmd_remote_creds_resolve(&cfg, &c), 0);
	cr_assert(c.anonymous);
	cr_assert_null(c.access_key_id);
	cr_assert_str_eq(c.region, "us-east-1");
	lmd_remote_creds_clear(&c);
	cfg.anonymous = false;
	cr_assert_eq(lmd_remote_creds_resolve(&cfg, &c), LMD_EREMOTE);
	cr_assert(strstr(lmd_error_last(), "no credentials"), "%s", lmd_error_last());
	cr_assert(strstr(lmd_error_last(), "AWS_ACCESS_KEY_ID"));
}

Test(creds, masking)
{
	char buf[64];

	lmd_remote_mask("AKIAIOSFODNN7EXAMPLE", buf, sizeof(buf));
	cr_assert_str_eq(buf, "AKIA…MPLE");
	lmd_remote_mask("short", buf, sizeof(buf));
	cr_assert_str_eq(buf, "****");
	lmd_remote_mask(NULL, buf, sizeof(buf));
	cr_assert_str_eq(buf, "****");
}

Test(creds, s3_open_errors_name_remote_not_secret)
{
	lmd_remote_config cfg = { .url = "s3://bad bucket", .name = "origin", .access_key_id = "K",
				  .secret_access_key = "topsecret-xyz" };
	lmd_backend *b = NULL;

	cr_assert_eq(lmd_backend_open(&cfg, &b), LMD_EBADINPUT);
	cr_assert(strstr(lmd_error_last(), "origin"));
	cfg.url = "s3://bucket/p";
	cfg.endpoint = "ftp://x";
	cr_assert_eq(lmd_backend_open(&cfg, &b), LMD_EBADINPUT);
	cr_assert(strstr(lmd_error_last(), "endpoint"), "%s", lmd_error_last());
	cr_assert_null(strstr(lmd_error_last(), "topsecret"));
	cfg.endpoint = "http://127.0.0.1:9";
	cr_assert_eq(lmd_backend_open(&cfg, &b), 0);
	cr_assert_str_eq(lmd_backend_type(b), "s3");
	lmd_backend_free(b);
}
