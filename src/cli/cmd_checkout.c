/* lmdata checkout: make the data match the manifests (of the work tree, or of REV). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_rev.h"

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
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { "at", required_argument, NULL, 'a' }, { 0 } };
	struct co_ctx c = { 0 };
	unsigned flags = 0;
	const char *at = NULL;
	char **args = NULL, **paths;
	int n, dd, npaths, o, rc;
	int ddpos = cli_dashdash(argc, argv);
	bool has_rev;
	lmd_rev rev;
	lmd_repo *r;

	while ((o = getopt_long(ddpos, argv, "f", opts, NULL)) != -1) {
		if (o == 'f')
			flags |= LMD_CHECKOUT_FORCE;
		else if (o == 'a')
			at = optarg;
		else
			return cli_usage_error("checkout", "unknown option");
	}
	if ((rc = cli_gather_args(argc, argv, ddpos, optind, &args, &n, &dd)))
		return rc;
	if ((rc = cli_open_repo(&r))) {
		free(args);
		return rc;
	}
	if ((rc = cli_split_rev(r, "checkout", args, n, dd, at, &rev, &has_rev, &paths, &npaths)))
		goto done;
	if (has_rev)
		rc = lmd_checkout_rev(r, &rev, (const char *const *)paths, (size_t)npaths, flags, action, &c);
	else
		rc = lmd_checkout(r, (const char *const *)paths, (size_t)npaths, flags, action, &c);
	if (rc < 0) {
		rc = cli_fail(rc);
	} else {
		if (!g_cli.quiet) {
			if (has_rev)
				printf("data at %.12s: ", rev.id);
			printf("%u file%s restored, %u removed\n", c.restored, c.restored == 1 ? "" : "s", c.removed);
		}
		rc = 0;
	}
done:
	free(args);
	lmd_repo_free(r);
	return rc;
}
