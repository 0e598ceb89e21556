/* lmdata gc: delete objects that no kept version needs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "lmdata/history.h"

int cmd_gc(int argc, char **argv)
{
	static const struct option opts[] = { { "dry-run", no_argument, NULL, 'n' },
					      { "workspace", no_argument, NULL, 'w' },
					      { "all-branches", no_argument, NULL, 'a' },
					      { "all-tags", no_argument, NULL, 'T' },
					      { "all-commits", no_argument, NULL, 'A' },
					      { "rev", required_argument, NULL, 'r' },
					      { "keep-since", required_argument, NULL, 's' },
					      { "json", no_argument, NULL, 'J' }, { 0 } };
	lmd_gc_opts go = { .grace = -1 };
	const char **revs;
	const char *since = NULL;
	unsigned flags = 0;
	bool json = false;
	lmd_gc_stats st;
	lmd_repo *r = NULL;
	int o, rc;

	for (int i = 1; i < argc; i++) /* gc --remote lives in gc_remote.c */
		if (!strcmp(argv[i], "--remote"))
			return cmd_gc_remote(argc, argv);
	revs = calloc((size_t)argc + 1, sizeof(*revs));
	if (!revs)
		return cli_fail(-ENOMEM);
	while ((o = getopt_long(argc, argv, "naTA", opts, NULL)) != -1) {
		switch (o) {
		case 'n': flags |= LMD_GC_DRY_RUN; break;
		case 'J': json = true; break;
		case 'w': go.scopes |= LMD_GC_WORKSPACE; break;
		case 'a': go.scopes |= LMD_GC_ALL_BRANCHES; break;
		case 'T': go.scopes |= LMD_GC_ALL_TAGS; break;
		case 'A': go.scopes |= LMD_GC_ALL_COMMITS; break;
		case 'r': revs[go.nrevs++] = optarg; break;
		case 's': since = optarg; go.scopes |= LMD_GC_KEEP_SINCE; break;
		default:
			free(revs);
			return cli_usage_error("gc", "unknown option");
		}
	}
	go.revs = revs;
	if (optind < argc) {
		rc = cli_usage_error("gc", "takes no paths");
		goto done;
	}
	if (since && (rc = lmd_date_parse(since, &go.since)) < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	if ((rc = cli_open_repo(&r)))
		goto done;
	if (!go.scopes && !go.nrevs && lmd_repo_has_history(r)) {
		if (!(flags & LMD_GC_DRY_RUN)) {
			fprintf(stderr, "lmdata: error: this repository has history; say which versions' data to keep:\n"
					"  --workspace (only the work tree's), --all-branches, --all-tags, --all-commits,\n"
					"  --rev REV, --keep-since DATE (try --dry-run first)\n");
			rc = EXIT_USAGE;
			goto done;
		}
		if (!json && !g_cli.quiet)
			printf("(no scope given: showing --workspace)\n");
	}
	go.scopes |= LMD_GC_WORKSPACE;
	rc = lmd_gc_scoped(r, &go, flags, &st);
	if (rc < 0) {
		rc = cli_fail(rc);
	} else if (json) {
		printf("{\"dry_run\": %s, \"objects_kept\": %llu, \"objects_removed\": %llu, \"bytes_before\": %llu, "
		       "\"bytes_after\": %llu, \"packs_removed\": %llu, \"packs_rewritten\": %llu, "
		       "\"packs_merged\": %llu}\n",
		       (flags & LMD_GC_DRY_RUN) ? "true" : "false", (unsigned long long)st.objects_kept,
		       (unsigned long long)st.objects_removed, (unsigned long long)st.bytes_before,
		       (unsigned long long)st.bytes_after, (unsigned long long)st.packs_removed,
		       (unsigned long long)st.packs_rewritten, (unsigned long long)st.packs_merged);
	} else if (!g_cli.quiet) {
		printf("%s %llu unreferenced object%s, %s of %s (%llu packs deleted, %llu rewritten, %llu merged)\n",
		       (flags & LMD_GC_DRY_RUN) ? "would remove" : "removed", (unsigned long long)st.objects_removed,
		       st.objects_removed == 1 ? "" : "s", lmd_human_size(st.bytes_before - st.bytes_after),
		       lmd_human_size(st.bytes_before), (unsigned long long)st.packs_removed,
		       (unsigned long long)st.packs_rewritten, (unsigned long long)st.packs_merged);
	}
done:
	free(revs);
	lmd_repo_free(r);
	return rc;
}
