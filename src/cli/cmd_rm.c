/* lmdata rm: stop tracking data. */
#include <stdio.h>

#include "cli.h"

static void removed(const char *path, void *payload)
{
	(void)payload;
	if (!g_cli.quiet)
		printf("untracked %s (the data stays; 'git add' it or delete it)\n", lmd_quote(path));
}

int cmd_rm(int argc, char **argv)
{
	lmd_repo *r;
	int rc;

	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("rm", "unknown option '%s'", argv[i]);
	if (argc < 2)
		return cli_usage_error("rm", "name the tracked data to stop tracking");
	if ((rc = cli_open_repo(&r)))
		return rc;
	rc = lmd_rm(r, (const char *const *)argv + 1, (size_t)(argc - 1), removed, NULL);
	rc = rc < 0 ? cli_fail(rc) : 0;
	lmd_repo_free(r);
	return rc;
}
