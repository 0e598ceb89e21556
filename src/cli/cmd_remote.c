/*
 * lmdata remote: add, list, remove, rename, default and modify remotes
 * (see include/lmdata/sync.h).  Secrets are never printed: the library
 * hands them over masked.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lmdata/sync.h"

struct list_ctx {
	bool json, verbose;
	int n;
};

static void list_cb(const lmd_remote_entry *e, void *payload)
{
	struct list_ctx *c = payload;
	if (c->json) {
		printf("%s\n  {\"name\": ", c->n ? "," : "");
		cli_json_str(stdout, e->name);
		printf(", \"url\": ");
		cli_json_str(stdout, e->url);
		printf(", \"default\": %s, \"settings\": {", e->is_default ? "true" : "false");
		for (size_t i = 0; i < e->nsettings; i++) {
			printf("%s", i ? ", " : "");
			cli_json_str(stdout, e->keys[i]);
			printf(": ");
			cli_json_str(stdout, e->values[i]);
		}
		printf("}}");
	} else {
		printf("%s%s\t%s\n", e->name, e->is_default ? " (default)" : "", e->url);
		if (c->verbose)
			for (size_t i = 0; i < e->nsettings; i++)
				printf("\t%s = %s%s\n", e->keys[i], e->values[i], e->local[i] ? "  (config.local)" : "");
	}
	c->n++;
}

static int do_list(lmd_repo *r, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'J' },
					      { "verbose", no_argument, NULL, 'v' }, { 0 } };
	struct list_ctx c = { .verbose = g_cli.verbose > 0 };
	int o, rc;

	while ((o = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		if (o == 'J')
			c.json = true;
		else if (o == 'v')
			c.verbose = true;
		else
			return cli_usage_error("remote list", "unknown option");
	}
	if (optind < argc)
		return cli_usage_error("remote list", "takes no arguments");
	if (c.json)
		printf("[");
	rc = lmd_remote_foreach(r, list_cb, &c);
	if (c.json)
		printf("%s]\n", c.n ? "\n" : "");
	if (rc < 0)
		return cli_fail(rc);
	return 0;
}

static int nargs(const char *sub, int argc, int want, const char *what)
{
	if (argc - optind != want)
		return cli_usage_error(sub, "expects %s", what);
	return 0;
}

int cmd_remote(int argc, char **argv)
{
	static const struct option opts[] = { { "default", no_argument, NULL, 'd' },
					      { "local", no_argument, NULL, 'l' },
					      { "unset", no_argument, NULL, 'u' }, { 0 } };
	const char *sub;
	bool def = false, local = false, unset = false;
	lmd_repo *r;
	int o, rc;

	if (argc < 2)
		sub = "list";
	else
		sub = argv[1];
	argc--;
	argv++;
	if (!strcmp(sub, "list") || argc <= 0) {
		if ((rc = cli_open_repo(&r)))
			return rc;
		if (argc <= 0) {
			char *fake[] = { (char *)"list", NULL };
			rc = do_list(r, 1, fake);
		} else {
			rc = do_list(r, argc, argv);
		}
		lmd_repo_free(r);
		return rc;
	}
	while ((o = getopt_long(argc, argv, "d", opts, NULL)) != -1) {
		if (o == 'd')
			def = true;
		else if (o == 'l')
			local = true;
		else if (o == 'u')
			unset = true;
		else
			return cli_usage_error("remote", "unknown option");
	}
	if (!strcmp(sub, "add")) {
		if ((rc = nargs("remote add", argc, 2, "NAME URL")))
			return rc;
	} else if (!strcmp(sub, "remove") || !strcmp(sub, "rm") || !strcmp(sub, "default")) {
		if ((rc = nargs(sub, argc, 1, "NAME")))
			return rc;
	} else if (!strcmp(sub, "rename")) {
		if ((rc = nargs("remote rename", argc, 2, "OLD NEW")))
			return rc;
	} else if (!strcmp(sub, "modify")) {
		if ((rc = nargs("remote modify", argc, unset ? 2 : 3, unset ? "NAME KEY" : "NAME KEY VALUE")))
			return rc;
	} else {
		return cli_usage_error("remote", "unknown subcommand '%s' (add, list, remove, rename, default, modify)",
				       sub);
	}
	if ((rc = cli_open_repo(&r)))
		return rc;
	char **a = argv + optind;
	if (!strcmp(sub, "add"))
		rc = lmd_remote_add(r, a[0], a[1], def);
	else if (!strcmp(sub, "remove") || !strcmp(sub, "rm"))
		rc = lmd_remote_remove(r, a[0]);
	else if (!strcmp(sub, "default"))
		rc = lmd_remote_set_default(r, a[0]);
	else if (!strcmp(sub, "rename"))
		rc = lmd_remote_rename(r, a[0], a[1]);
	else
		rc = lmd_remote_modify(r, a[0], a[1], unset ? NULL : a[2], local);
	if (rc < 0)
		rc = cli_fail(rc);
	else
		rc = 0;
	lmd_repo_free(r);
	return rc;
}
