/* lmdata status: tracked data that differs from its manifests. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "lmdata/sync.h"

struct st_ctx {
	bool json, check, data_only;
	int n;
};

static const char *word(lmd_status_kind k)
{
	switch (k) {
	case LMD_STATUS_MODIFIED: return "modified";
	case LMD_STATUS_DELETED: return "deleted";
	case LMD_STATUS_NEW: return "new file";
	case LMD_STATUS_TYPECHANGE: return "typechange";
	case LMD_STATUS_UNCOMMITTED: return "not committed";
	case LMD_STATUS_MANIFEST_ERROR: return "bad manifest";
	}
	return "changed";
}

static void entry(const lmd_status_entry *e, void *payload)
{
	struct st_ctx *c = payload;
	if (c->data_only && e->kind == LMD_STATUS_UNCOMMITTED)
		return;
	if (c->json) {
		printf("%s\n    {\"path\": ", c->n ? "," : "");
		cli_json_str(stdout, e->path);
		printf(", \"dataset\": ");
		cli_json_str(stdout, e->dataset);
		printf(", \"state\": ");
		cli_json_str(stdout, word(e->kind));
		if (e->detail) {
			printf(", \"detail\": ");
			cli_json_str(stdout, e->detail);
		}
		printf("}");
	} else if (!g_cli.quiet || c->check) {
		printf("\t%-14s %s\n", word(e->kind) , lmd_quote(e->path));
		if (e->detail)
			printf("\t               %s\n", e->detail);
	}
	c->n++;
}

static void remote_entry(const lmd_remote_status_entry *e, void *payload)
{
	struct st_ctx *c = payload;
	if (c->json) {
		printf("%s\n    {\"dataset\": ", c->n ? "," : "");
		cli_json_str(stdout, e->dataset);
		printf(", \"objects\": %llu, \"not_pushed\": %llu, \"not_pushed_bytes\": %llu, "
		       "\"missing_local\": %llu, \"missing\": %llu}",
		       (unsigned long long)e->objects, (unsigned long long)e->not_pushed,
		       (unsigned long long)e->not_pushed_bytes, (unsigned long long)e->missing_local,
		       (unsigned long long)e->missing);
	} else if ((!g_cli.quiet && !c->check) ||
		   (c->check && (e->not_pushed || e->missing_local || e->missing))) {
		printf("\t%s:", lmd_quote(e->dataset));
		if (!e->not_pushed && !e->missing_local && !e->missing)
			printf(" pushed (%llu objects)", (unsigned long long)e->objects);
		if (e->not_pushed)
			printf(" not pushed (%llu objects, %s)", (unsigned long long)e->not_pushed,
			       lmd_human_size(e->not_pushed_bytes));
		if (e->missing_local)
			printf(" missing locally (%llu objects, on the remote)", (unsigned long long)e->missing_local);
		if (e->missing)
			printf(" MISSING (%llu objects neither here nor on the remote)", (unsigned long long)e->missing);
		printf("\n");
	}
	c->n++;
}

/* status -c: what is pushed, per dataset. */
static int remote_status(struct st_ctx *c, const char *remote, int argc, char **argv)
{
	lmd_sync_opts o = { .remote = remote, .paths = (const char *const *)argv + optind,
			    .npaths = (size_t)(argc - optind) };
	lmd_repo *r;
	int rc;

	if ((rc = cli_open_repo(&r)))
		return rc;
	if (c->json)
		printf("{\n  \"datasets\": [");
	rc = lmd_remote_status(r, &o, remote_entry, c);
	if (c->json)
		printf("%s],\n  \"in_sync\": %s\n}\n", c->n ? "\n  " : "", rc == 0 ? "true" : "false");
	if (rc < 0)
		rc = cli_fail(rc);
	else {
		if (!c->json && !g_cli.quiet && rc > 0)
			printf("(use 'lmdata push' to upload, 'lmdata fetch' to download)\n");
		rc = (c->check && rc > 0) ? EXIT_FOUND : EXIT_OK;
	}
	lmd_repo_free(r);
	return rc;
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' }, { "check", no_argument, NULL, 'k' },
		{ "data", no_argument, NULL, 'd' },
		{ "remote", no_argument, NULL, 'c' }, { "remote-name", required_argument, NULL, 'r' }, { 0 } };
	struct st_ctx c = { 0 };
	const char *remote = NULL;
	bool want_remote = false;
	lmd_repo *r;
	int o, rc;

	while ((o = getopt_long(argc, argv, "cr:", opts, NULL)) != -1) {
		if (o == 'J')
			c.json = true;
		else if (o == 'k')
			c.check = true;
		else if (o == 'd')
			c.data_only = true;
		else if (o == 'c')
			want_remote = true;
		else if (o == 'r')
			remote = optarg, want_remote = true;
		else
			return cli_usage_error("status", "unknown option");
	}
	if (want_remote)
		return remote_status(&c, remote, argc, argv);
	if ((rc = cli_open_repo(&r)))
		return rc;
	if (c.json)
		printf("{\n  \"changes\": [");
	rc = lmd_status(r, (const char *const *)argv + optind, (size_t)(argc - optind), entry, &c);
	if (rc > 0 && c.data_only)
		rc = c.n; /* only what was shown counts */
	if (c.json)
		printf("%s],\n  \"clean\": %s\n}\n", c.n ? "\n  " : "", rc == 0 ? "true" : "false");
	if (rc < 0) {
		rc = cli_fail(rc);
	} else {
		if (!c.json && !c.check && !g_cli.quiet && rc == 0)
			printf("tracked data matches its manifests\n");
		else if (!c.json && !c.check && !g_cli.quiet)
			printf("(use 'lmdata add PATH' to record changes, 'lmdata checkout PATH' to discard them)\n");
		rc = (c.check && rc > 0) ? EXIT_FOUND : EXIT_OK;
	}
	lmd_repo_free(r);
	return rc;
}
