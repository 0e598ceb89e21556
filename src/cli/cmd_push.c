/*
 * lmdata push: upload to a remote what it lacks for the tracked data.
 * Also holds the option parsing and summary shared with fetch and pull.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lmdata/history.h"
#include "sync_opts.h"

double cli_sync_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cli_sync_parse(const char *cmd, int argc, char **argv, bool scopes, cli_sync *ret)
{
	static const struct option opts[] = { { "remote", required_argument, NULL, 'r' },
					      { "jobs", required_argument, NULL, 'j' },
					      { "json", no_argument, NULL, 'J' },
					      { "force", no_argument, NULL, 'f' },
					      { "rev", required_argument, NULL, 'R' },
					      { "all-branches", no_argument, NULL, 'a' },
					      { "all-tags", no_argument, NULL, 'T' },
					      { "all-commits", no_argument, NULL, 'A' },
					      { "workspace", no_argument, NULL, 'w' }, { 0 } };
	int o;

	ret->revs = calloc((size_t)argc + 1, sizeof(*ret->revs));
	if (!ret->revs)
		return cli_fail(-ENOMEM);
	while ((o = getopt_long(argc, argv, "r:j:f", opts, NULL)) != -1) {
		switch (o) {
		case 'r': ret->o.remote = optarg; break;
		case 'J': ret->json = true; break;
		case 'f': ret->force = true; break;
		case 'R': ret->revs[ret->o.nrevs++] = optarg; break;
		case 'a': ret->o.scopes |= LMD_GC_ALL_BRANCHES; break;
		case 'T': ret->o.scopes |= LMD_GC_ALL_TAGS; break;
		case 'A': ret->o.scopes |= LMD_GC_ALL_COMMITS; break;
		case 'w': ret->o.scopes |= LMD_GC_WORKSPACE; break;
		case 'j':
			if (!cli_parse_jobs(optarg, &ret->o.jobs))
				return cli_usage_error(cmd, "-j wants a number from 1 to 256");
			break;
		default:
			return cli_usage_error(cmd, "unknown option");
		}
	}
	if (ret->o.scopes && !scopes)
		return cli_usage_error(cmd, "--all-branches, --all-tags, --all-commits and --workspace are push options");
	ret->o.revs = ret->revs;
	ret->o.paths = (const char *const *)argv + optind;
	ret->o.npaths = (size_t)(argc - optind);
	return 0;
}

void cli_sync_release(cli_sync *c)
{
	free(c->revs);
	c->revs = NULL;
}

void cli_sync_report(const char *verb, const cli_sync *c, const lmd_sync_stats *st, double secs)
{
	if (c->json) {
		printf("{\"remote\": ");
		cli_json_str(stdout, st->remote);
		printf(", \"%s\": true, \"objects\": %llu, \"objects_transferred\": %llu, \"already\": %llu, "
		       "\"transfers\": %llu, \"bytes\": %llu, \"requests\": %llu, \"seconds\": %.3f}\n",
		       verb, (unsigned long long)st->objects, (unsigned long long)st->objects_transferred,
		       (unsigned long long)st->already, (unsigned long long)st->packs,
		       (unsigned long long)st->bytes, (unsigned long long)st->requests, secs);
		return;
	}
	if (g_cli.quiet)
		return;
	if (!st->objects_transferred)
		printf("%s: everything is up to date (%llu objects)\n", st->remote, (unsigned long long)st->objects);
	else
		printf("%s: %s %llu object%s in %llu %s, %s in %.1fs\n", st->remote, verb,
		       (unsigned long long)st->objects_transferred, st->objects_transferred == 1 ? "" : "s",
		       (unsigned long long)st->packs,
		       verb[0] == 'p' ? (st->packs == 1 ? "pack" : "packs") : (st->packs == 1 ? "range" : "ranges"),
		       lmd_human_size(st->bytes),
		       secs);
}

int cmd_push(int argc, char **argv)
{
	cli_sync c = { 0 };
	lmd_sync_stats st = { 0 };
	lmd_repo *r;
	double t0 = cli_sync_now();
	int rc;

	if ((rc = cli_sync_parse("push", argc, argv, true, &c)) || (rc = cli_open_repo(&r))) {
		cli_sync_release(&c);
		return rc;
	}
	rc = lmd_push(r, &c.o, &st);
	if (rc < 0)
		rc = cli_fail(rc);
	else {
		cli_sync_report("pushed", &c, &st, cli_sync_now() - t0);
		rc = 0;
	}
	cli_sync_release(&c);
	lmd_repo_free(r);
	return rc;
}
