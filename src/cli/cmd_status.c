/* lmdata status: tracked data that differs from its manifests. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

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

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' }, { "check", no_argument, NULL, 'c' },
		{ "data", no_argument, NULL, 'd' }, { 0 } };
	struct st_ctx c = { 0 };
	lmd_repo *r;
	int o, rc;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'J')
			c.json = true;
		else if (o == 'c')
			c.check = true;
		else if (o == 'd')
			c.data_only = true;
		else
			return cli_usage_error("status", "unknown option");
	}
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
