/* lmdata add: snapshot data into the store and write manifests. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static void added(const lmd_add_result *res, void *payload)
{
	(void)payload;
	if (g_cli.quiet)
		return;
	printf("%s %s (%llu file%s, %s)\n", res->changed ? "added" : "unchanged", res->path,
	       (unsigned long long)res->manifest->files, res->manifest->files == 1 ? "" : "s",
	       lmd_human_size(res->manifest->size));
	if (res->git_untracked)
		printf("  removed %zu file%s of it from the git index (git tracked it before; the files stay, "
		       "commit to make git forget them)\n", res->git_untracked, res->git_untracked == 1 ? "" : "s");
	if (g_cli.verbose && res->bytes_read + res->bytes_stored)
		printf("  read %s, stored %s\n", lmd_human_size(res->bytes_read),
		       lmd_human_size(res->bytes_stored));
}

int cmd_add(int argc, char **argv)
{
	static const struct option opts[] = { { "jobs", required_argument, NULL, 'j' }, { 0 } };
	lmd_repo *r;
	int o, rc;

	while ((o = getopt_long(argc, argv, "j:", opts, NULL)) != -1) {
		if (o == 'j') {
			if (!cli_parse_jobs(optarg, &g_cli.jobs))
				return cli_usage_error("add", "-j wants a number from 1 to 256, not '%s'", optarg);
		} else {
			return cli_usage_error("add", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("add", "nothing to add: name files or folders");
	if ((rc = cli_open_repo(&r)))
		return rc;
	rc = lmd_add(r, (const char *const *)argv + optind, (size_t)(argc - optind), added, NULL);
	if (rc < 0)
		rc = cli_fail(rc);
	lmd_repo_free(r);
	return rc;
}
