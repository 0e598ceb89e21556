/* lmdata init: set up .lmdata/ in a git work tree. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int cmd_init(int argc, char **argv)
{
	lmd_repo *r;
	struct stat st;
	bool existed;
	int rc;

	(void)argv;
	if (argc > 1)
		return cli_usage_error("init", "takes no arguments");
	/* Already initialised?  Find out before init makes it so. */
	existed = lmd_repo_open(NULL, &r) == 0;
	if (existed) {
		lmd_repo_free(r);
	}
	lmd_error_clear();
	if ((rc = lmd_repo_init(NULL, &r)) < 0)
		return cli_fail(rc);
	if (!g_cli.quiet)
		printf("%s lmdata repository in %s/.lmdata\n", existed ? "Reinitialised existing" : "Initialised",
		       lmd_repo_workdir(r));
	(void)st;
	lmd_repo_free(r);
	return 0;
}
