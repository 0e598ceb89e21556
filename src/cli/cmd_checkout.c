/* lmdata checkout: make the data match the manifests. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

struct co_ctx {
	unsigned restored, removed, refused;
};

static void action(lmd_checkout_action a, const char *path, void *payload)
{
	struct co_ctx *c = payload;
	switch (a) {
	case LMD_CHECKOUT_RESTORED:
		c->restored++;
		if (g_cli.verbose)
			printf("restored %s\n", lmd_quote(path));
		break;
	case LMD_CHECKOUT_REMOVED:
		c->removed++;
		if (g_cli.verbose)
			printf("removed %s\n", lmd_quote(path));
		break;
	case LMD_CHECKOUT_REFUSED:
		c->refused++;
		fprintf(stderr, "lmdata: would overwrite a local change stored nowhere: %s\n", lmd_quote(path));
		break;
	case LMD_CHECKOUT_UNCHANGED:
		break;
	}
}

int cmd_checkout(int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { 0 } };
	struct co_ctx c = { 0 };
	unsigned flags = 0;
	lmd_repo *r;
	int o, rc;

	while ((o = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (o == 'f')
			flags |= LMD_CHECKOUT_FORCE;
		else
			return cli_usage_error("checkout", "unknown option");
	}
	if ((rc = cli_open_repo(&r)))
		return rc;
	rc = lmd_checkout(r, (const char *const *)argv + optind, (size_t)(argc - optind), flags, action, &c);
	if (rc < 0) {
		rc = cli_fail(rc);
	} else {
		if (!g_cli.quiet)
			printf("%u file%s restored, %u removed\n", c.restored, c.restored == 1 ? "" : "s", c.removed);
		rc = 0;
	}
	lmd_repo_free(r);
	return rc;
}
