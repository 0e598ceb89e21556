/* lmdata pull: fetch, then checkout the fetched data (the CI recipe). */
#include <stdio.h>

#include "lmdata/history.h"
#include "sync_opts.h"

struct pull_ctx {
	unsigned restored, removed, refused;
};

static void action(lmd_checkout_action a, const char *path, void *payload)
{
	struct pull_ctx *c = payload;
	if (a == LMD_CHECKOUT_RESTORED) {
		c->restored++;
		if (g_cli.verbose)
			printf("restored %s\n", lmd_quote(path));
	} else if (a == LMD_CHECKOUT_REMOVED) {
		c->removed++;
	} else if (a == LMD_CHECKOUT_REFUSED) {
		c->refused++;
		fprintf(stderr, "lmdata: would overwrite a local change stored nowhere: %s\n", lmd_quote(path));
	}
}

int cmd_pull(int argc, char **argv)
{
	cli_sync c = { 0 };
	lmd_sync_stats st = { 0 };
	struct pull_ctx pc = { 0 };
	lmd_repo *r;
	double t0 = cli_sync_now();
	int rc;

	if ((rc = cli_sync_parse("pull", argc, argv, false, &c))) {
		cli_sync_release(&c);
		return rc;
	}
	if (c.o.nrevs > 1) {
		cli_sync_release(&c);
		return cli_usage_error("pull", "takes one --rev (it checks that version out)");
	}
	if ((rc = cli_open_repo(&r))) {
		cli_sync_release(&c);
		return rc;
	}
	rc = lmd_fetch(r, &c.o, &st);
	if (rc >= 0 && c.o.nrevs == 1) {
		/* Time travel: that version's manifests and data into the work tree. */
		lmd_rev rev;
		if ((rc = lmd_rev_parse(r, c.o.revs[0], &rev)) >= 0)
			rc = lmd_checkout_rev(r, &rev, c.o.paths, c.o.npaths, c.force ? LMD_CHECKOUT_FORCE : 0, action,
					      &pc);
	} else if (rc >= 0) {
		rc = lmd_checkout(r, c.o.paths, c.o.npaths, c.force ? LMD_CHECKOUT_FORCE : 0, action, &pc);
	}
	if (rc < 0) {
		rc = cli_fail(rc);
	} else {
		if (!c.json && !g_cli.quiet)
			cli_sync_report("fetched", &c, &st, cli_sync_now() - t0);
		if (c.json)
			printf("{\"remote\": \"%s\", \"objects_fetched\": %llu, \"bytes\": %llu, \"restored\": %u, "
			       "\"removed\": %u, \"seconds\": %.3f}\n", st.remote,
			       (unsigned long long)st.objects_transferred, (unsigned long long)st.bytes, pc.restored,
			       pc.removed, cli_sync_now() - t0);
		else if (!g_cli.quiet)
			printf("%u file%s restored, %u removed\n", pc.restored, pc.restored == 1 ? "" : "s", pc.removed);
		rc = 0;
	}
	cli_sync_release(&c);
	lmd_repo_free(r);
	return rc;
}
