/* lmdata fetch: download (verified) what the local store lacks. */
#include <stdio.h>

#include "sync_opts.h"

int cmd_fetch(int argc, char **argv)
{
	cli_sync c = { 0 };
	lmd_sync_stats st = { 0 };
	lmd_repo *r;
	double t0 = cli_sync_now();
	int rc;

	if ((rc = cli_sync_parse("fetch", argc, argv, false, &c)) || (rc = cli_open_repo(&r))) {
		cli_sync_release(&c);
		return rc;
	}
	rc = lmd_fetch(r, &c.o, &st);
	if (rc < 0)
		rc = cli_fail(rc);
	else {
		cli_sync_report("fetched", &c, &st, cli_sync_now() - t0);
		rc = 0;
	}
	cli_sync_release(&c);
	lmd_repo_free(r);
	return rc;
}
