/*
 * lmdata gc --remote: delete a remote's packs that no manifest of the work
 * tree needs.  Reached from cmd_gc() when --remote is given.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "commands.h"
#include "lmdata/history.h"
#include "lmdata/sync.h"

int cmd_gc_remote(int argc, char **argv)
{
	static const struct option opts[] = { { "dry-run", no_argument, NULL, 'n' },
					      { "workspace", no_argument, NULL, 'w' },
					      { "remote", no_argument, NULL, 'R' },
					      { "grace", required_argument, NULL, 'g' },
					      { "all-branches", no_argument, NULL, 'a' },
					      { "all-tags", no_argument, NULL, 'T' },
					      { "all-commits", no_argument, NULL, 'A' },
					      { "rev", required_argument, NULL, 'v' },
					      { "keep-since", required_argument, NULL, 's' },
					      { "json", no_argument, NULL, 'J' }, { 0 } };
	lmd_sync_opts so = { 0 };
	lmd_remote_gc_stats st = { 0 };
	unsigned flags = 0;
	uint64_t grace = LMD_REMOTE_GC_GRACE_DEFAULT;
	bool json = false, scope = false;
	const char **revs = calloc((size_t)argc + 1, sizeof(*revs));
	const char *since = NULL;
	lmd_repo *r;
	int o, rc;

	if (!revs)
		return cli_fail(-ENOMEM);
	so.revs = revs;
	while ((o = getopt_long(argc, argv, "nr:aTA", opts, NULL)) != -1) {
		switch (o) {
		case 'n': flags |= LMD_REMOTE_GC_DRY_RUN; break;
		case 'w': scope = true; break;
		case 'a': scope = true; so.scopes |= LMD_GC_ALL_BRANCHES; break;
		case 'T': scope = true; so.scopes |= LMD_GC_ALL_TAGS; break;
		case 'A': scope = true; so.scopes |= LMD_GC_ALL_COMMITS; break;
		case 'v': scope = true; revs[so.nrevs++] = optarg; break;
		case 's': scope = true; since = optarg; so.scopes |= LMD_GC_KEEP_SINCE; break;
		case 'R': break;
		case 'r': so.remote = optarg; break;
		case 'J': json = true; break;
		case 'g': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end || v > 10ull * 365 * 86400) {
				free(revs);
				return cli_usage_error("gc", "--grace wants a number of seconds");
			}
			grace = v;
			break;
		}
		default:
			free(revs);
			return cli_usage_error("gc", "unknown option");
		}
	}
	if (optind < argc || !scope) {
		free(revs);
		if (optind < argc)
			return cli_usage_error("gc", "takes no paths");
		return cli_usage_error("gc", "--remote needs a scope: --workspace, --all-branches, --all-tags, "
					     "--all-commits, --rev REV or --keep-since DATE (a remote is shared: gc never "
					     "guesses)");
	}
	if (since && (rc = lmd_date_parse(since, &so.since)) < 0) {
		free(revs);
		return cli_fail(rc);
	}
	if ((rc = cli_open_repo(&r))) {
		free(revs);
		return rc;
	}
	rc = lmd_remote_gc(r, &so, flags, grace, &st);
	if (rc < 0) {
		rc = cli_fail(rc);
	} else if ((rc = 0), json) {
		printf("{\"remote\": \"%s\", \"dry_run\": %s, \"packs\": %llu, \"packs_removed\": %llu, "
		       "\"packs_too_young\": %llu, \"packs_partly_garbage\": %llu, \"packs_incomplete\": %llu, "
		       "\"bytes_before\": %llu, \"bytes_removed\": %llu}\n",
		       st.remote, (flags & LMD_REMOTE_GC_DRY_RUN) ? "true" : "false", (unsigned long long)st.packs,
		       (unsigned long long)st.packs_removed, (unsigned long long)st.packs_young,
		       (unsigned long long)st.packs_partly, (unsigned long long)st.packs_incomplete,
		       (unsigned long long)st.bytes_before, (unsigned long long)st.bytes_removed);
	} else if (!g_cli.quiet) {
		printf("%s: %s %llu of %llu packs, %s of %s\n", st.remote,
		       (flags & LMD_REMOTE_GC_DRY_RUN) ? "would remove" : "removed",
		       (unsigned long long)st.packs_removed, (unsigned long long)st.packs,
		       lmd_human_size(st.bytes_removed), lmd_human_size(st.bytes_before));
		if (st.packs_young)
			printf("%llu unreferenced pack%s kept: first seen less than %llus ago (run gc again later)\n",
			       (unsigned long long)st.packs_young, st.packs_young == 1 ? "" : "s",
			       (unsigned long long)grace);
		if (st.packs_partly)
			printf("%llu pack%s partly garbage kept\n", (unsigned long long)st.packs_partly,
			       st.packs_partly == 1 ? "" : "s");
		if (st.packs_incomplete)
			printf("%llu pack%s without an index left alone (a push in progress or interrupted)\n",
			       (unsigned long long)st.packs_incomplete, st.packs_incomplete == 1 ? "" : "s");
	}
	free(revs);
	lmd_repo_free(r);
	return rc;
}
