/*
 * lmdata's entry point: global options, then dispatch to one command
 * (one file per command, cmd_<name>.c) through the table below.
 */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"

static const cli_command commands[] = {
	{ "init", cmd_init, "set up .lmdata/ in this git work tree", USAGE_INIT },
	{ "add", cmd_add, "snapshot files or folders and write their manifests", USAGE_ADD },
	{ "status", cmd_status, "show tracked data that differs from its manifests", USAGE_STATUS },
	{ "commit", cmd_commit, "snapshot changed data and record a git commit", USAGE_COMMIT },
	{ "checkout", cmd_checkout, "make the data match the manifests", USAGE_CHECKOUT },
	{ "diff", cmd_diff, "files added, deleted, changed between versions", USAGE_DIFF },
	{ "log", cmd_log, "the commits that changed tracked data", USAGE_LOG },
	{ "ls", cmd_ls, "list tracked files with size and sha256", USAGE_LS },
	{ "cat", cmd_cat, "stream one tracked file's bytes at a version", USAGE_CAT },
	{ "rm", cmd_rm, "stop tracking data (the data stays)", USAGE_RM },
	{ "fsck", cmd_fsck, "verify every object in the store", USAGE_FSCK },
	{ "gc", cmd_gc, "delete objects no manifest needs", USAGE_GC },
	{ "remote", cmd_remote, "add, list, remove, rename, default or modify remotes", USAGE_REMOTE },
	{ "push", cmd_push, "upload what a remote lacks", USAGE_PUSH },
	{ "fetch", cmd_fetch, "download (verified) what the local store lacks", USAGE_FETCH },
	{ "pull", cmd_pull, "fetch, then checkout", USAGE_PULL },
	{ "hooks", cmd_hooks, "install git hooks (pre-commit, post-checkout, pre-push)", USAGE_HOOKS },
	{ "help", cmd_help, "show help for a command", "usage: lmdata help [COMMAND]\n" },
};

const cli_command *cli_find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void usage(FILE *f)
{
	fputs("usage: lmdata [-C DIR] [-q] [-v] [-j N] [--no-progress] [--version] COMMAND [ARGS]\n\n"
	      "Version LLM fine-tuning data alongside git.\n\ncommands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nglobal options:\n"
	      "  -C DIR          run as if started in DIR\n"
	      "  -q, --quiet     print only errors\n"
	      "  -v, --verbose   print more detail\n"
	      "  -j, --jobs N    threads for hashing, compression and restoring (default: one per CPU)\n"
	      "  --no-progress   no progress bar (it is shown only on a terminal anyway)\n"
	      "  --version       print the version\n\n"
	      "exit codes: 0 ok, 1 found something (dirty, damaged, refused), 2 usage or bad input, 3 failure\n"
	      "'lmdata COMMAND --help' shows a command's options.\n", f);
}

int cmd_help(int argc, char **argv)
{
	if (argc > 1) {
		const cli_command *c = cli_find_command(argv[1]);
		if (!c)
			return cli_usage_error("help", "unknown command '%s'", argv[1]);
		fputs(c->usage, stdout);
		return 0;
	}
	usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "no-progress", no_argument, NULL, 'P' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool no_progress = false;
	const cli_command *c;
	int o;

	/* Blocks of about 1 MiB are allocated and freed per pack block; keep
	 * them on the heap instead of fresh mmaps that page-fault every time. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 128 << 20);

	/* '+': stop at the command name; its options are its own. */
	while ((o = getopt_long(argc, argv, "+C:qvhj:", opts, NULL)) != -1) {
		switch (o) {
		case 'C':
			if (chdir(optarg) < 0) {
				fprintf(stderr, "lmdata: error: cannot change to '%s': %s\n", optarg, lmd_strerror(-errno));
				return EXIT_USAGE;
			}
			break;
		case 'q': g_cli.quiet++; break;
		case 'v': g_cli.verbose++; break;
		case 'P': no_progress = true; break;
		case 'j':
			if (!cli_parse_jobs(optarg, &g_cli.jobs)) {
				fprintf(stderr, "lmdata: error: -j wants a number of threads from 1 to 256, not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'V': printf("lmdata %s\n", LMD_VERSION_STRING); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	g_cli.progress = !no_progress && !g_cli.quiet && isatty(STDERR_FILENO) && !getenv("CI");
	c = cli_find_command(argv[optind]);
	if (!c) {
		fprintf(stderr, "lmdata: '%s' is not a command; see 'lmdata --help'\n", argv[optind]);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	optind = 0; /* reset getopt fully (GNU: 0 re-reads the ordering, so options may follow operands) */
	if (cli_help_requested(c, argc, argv))
		return 0;
	return c->fn(argc, argv);
}
