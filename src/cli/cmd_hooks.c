/* lmdata hooks: install or remove lmdata's git hooks (chained with existing ones). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_rev.h"

static void report(const char *hook, const char *what, void *payload)
{
	(void)payload;
	if (!g_cli.quiet)
		printf("%s: %s\n", hook, what);
}

int cmd_hooks(int argc, char **argv)
{
	static const struct option opts[] = { { "hook", required_argument, NULL, 'k' },
					      { "uninstall", no_argument, NULL, 'u' }, { 0 } };
	unsigned which = 0;
	bool uninstall = false;
	char self[PATH_MAX];
	ssize_t sl;
	lmd_repo *r;
	int o, rc;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'k') {
			if (!strcmp(optarg, "pre-commit"))
				which |= LMD_HOOK_PRE_COMMIT;
			else if (!strcmp(optarg, "post-checkout"))
				which |= LMD_HOOK_POST_CHECKOUT;
			else if (!strcmp(optarg, "pre-push"))
				which |= LMD_HOOK_PRE_PUSH;
			else
				return cli_usage_error("hooks", "unknown hook '%s' (pre-commit, post-checkout, pre-push)", optarg);
		} else if (o == 'u') {
			uninstall = true;
		} else {
			return cli_usage_error("hooks", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("hooks", "say 'install' or 'uninstall'");
	if (!strcmp(argv[optind], "uninstall"))
		uninstall = true;
	else if (strcmp(argv[optind], "install"))
		return cli_usage_error("hooks", "unknown subcommand '%s' (install, uninstall)", argv[optind]);
	if (optind + 1 < argc)
		return cli_usage_error("hooks", "unexpected argument '%s'", argv[optind + 1]);
	if (!which)
		which = LMD_HOOK_ALL;
	sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl > 0)
		self[sl] = '\0';
	if ((rc = cli_open_repo(&r)))
		return rc;
	rc = lmd_hooks_install(r, which, uninstall, sl > 0 ? self : NULL, report, NULL);
	rc = rc < 0 ? cli_fail(rc) : 0;
	lmd_repo_free(r);
	return rc;
}
