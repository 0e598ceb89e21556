/* lmdata cat: stream one tracked file's verified bytes, at REV or as the work tree's manifests record it. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli_rev.h"

int cmd_cat(int argc, char **argv)
{
	static const struct option opts[] = { { "at", required_argument, NULL, 'a' }, { 0 } };
	const char *at = NULL;
	char **args = NULL, **paths;
	int n, dd, npaths, o, rc;
	int ddpos = cli_dashdash(argc, argv);
	bool has_rev;
	lmd_rev rev;
	lmd_repo *r;

	while ((o = getopt_long(ddpos, argv, "", opts, NULL)) != -1) {
		if (o == 'a')
			at = optarg;
		else
			return cli_usage_error("cat", "unknown option");
	}
	if ((rc = cli_gather_args(argc, argv, ddpos, optind, &args, &n, &dd)))
		return rc;
	if (n < 1 || n > 2 || (at && n != 1)) {
		free(args);
		return cli_usage_error("cat", "name one file: 'lmdata cat REV PATH' (or 'lmdata cat --at DATE PATH')");
	}
	if (dd < 0)
		dd = n - 1; /* [REV] PATH: the last argument is the path */
	if ((rc = cli_open_repo(&r))) {
		free(args);
		return rc;
	}
	if ((rc = cli_split_rev(r, "cat", args, n, dd, at, &rev, &has_rev, &paths, &npaths)))
		goto done;
	if (npaths != 1) {
		rc = cli_usage_error("cat", "name exactly one file");
		goto done;
	}
	/* A reader that stops early ('| head') ends us quietly, as it does cat(1). */
	signal(SIGPIPE, SIG_DFL);
	rc = lmd_cat(r, has_rev ? &rev : NULL, paths[0], STDOUT_FILENO);
	rc = rc < 0 ? cli_fail(rc) : 0;
done:
	free(args);
	lmd_repo_free(r);
	return rc;
}
