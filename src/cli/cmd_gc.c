/* lmdata gc: delete objects that no manifest needs. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

int cmd_gc(int argc, char **argv)
{
	static const struct option opts[] = { { "dry-run", no_argument, NULL, 'n' },
					      { "workspace", no_argument, NULL, 'w' },
					      { "json", no_argument, NULL, 'J' }, { 0 } };
	unsigned flags = 0;
	bool json = false;
	lmd_gc_stats st;
	lmd_repo *r;
	int o, rc;

	for (int i = 1; i < argc; i++) /* gc --remote lives in cmd_gc_remote.c */
		if (!strcmp(argv[i], "--remote"))
			return cmd_gc_remote(argc, argv);
	while ((o = getopt_long(argc, argv, "n", opts, NULL)) != -1) {
		if (o == 'n')
			flags |= LMD_GC_DRY_RUN;
		else if (o == 'J')
			json = true;
		else if (o != 'w')
			return cli_usage_error("gc", "unknown option");
	}
	if (optind < argc)
		return cli_usage_error("gc", "takes no paths");
	if ((rc = cli_open_repo(&r)))
		return rc;
	rc = lmd_gc(r, flags, &st);
	if (rc < 0) {
		rc = cli_fail(rc);
	} else if (json) {
		printf("{\"dry_run\": %s, \"objects_kept\": %llu, \"objects_removed\": %llu, \"bytes_before\": %llu, "
		       "\"bytes_after\": %llu, \"packs_removed\": %llu, \"packs_rewritten\": %llu}\n",
		       (flags & LMD_GC_DRY_RUN) ? "true" : "false", (unsigned long long)st.objects_kept,
		       (unsigned long long)st.objects_removed, (unsigned long long)st.bytes_before,
		       (unsigned long long)st.bytes_after, (unsigned long long)st.packs_removed,
		       (unsigned long long)st.packs_rewritten);
	} else if (!g_cli.quiet) {
		printf("%s %llu unreferenced object%s, %s of %s (%llu packs deleted, %llu rewritten)\n",
		       (flags & LMD_GC_DRY_RUN) ? "would remove" : "removed", (unsigned long long)st.objects_removed,
		       st.objects_removed == 1 ? "" : "s", lmd_human_size(st.bytes_before - st.bytes_after),
		       lmd_human_size(st.bytes_before), (unsigned long long)st.packs_removed,
		       (unsigned long long)st.packs_rewritten);
	}
	lmd_repo_free(r);
	return rc < 0 ? rc : rc;
}
