/* lmdata ls: list tracked files (of the work tree's manifests, or of REV). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_rev.h"

struct ls_ctx {
	bool json;
	int n;
};

static void entry(const lmd_ls_entry *e, void *payload)
{
	struct ls_ctx *c = payload;
	char hex[LMD_OID_HEXSZ + 1];
	lmd_oid_fmt(hex, &e->id);
	if (c->json) {
		printf("%s\n  {\"path\": ", c->n ? "," : "");
		cli_json_str(stdout, e->path);
		printf(", \"dataset\": ");
		cli_json_str(stdout, e->dataset);
		printf(", \"mode\": \"%06o\", \"size\": %llu, \"sha256\": \"%s\"}", e->mode,
		       (unsigned long long)e->size, hex);
	} else {
		printf("%06o %12llu %s  %s\n", e->mode, (unsigned long long)e->size, hex, lmd_quote(e->path));
	}
	c->n++;
}

int cmd_ls(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'J' },
					      { "at", required_argument, NULL, 'a' }, { 0 } };
	struct ls_ctx c = { 0 };
	const char *at = NULL;
	char **args = NULL, **paths;
	int n, dd, npaths, o, rc;
	int ddpos = cli_dashdash(argc, argv);
	bool has_rev;
	lmd_rev rev;
	lmd_repo *r;

	while ((o = getopt_long(ddpos, argv, "", opts, NULL)) != -1) {
		if (o == 'J')
			c.json = true;
		else if (o == 'a')
			at = optarg;
		else
			return cli_usage_error("ls", "unknown option");
	}
	if ((rc = cli_gather_args(argc, argv, ddpos, optind, &args, &n, &dd)))
		return rc;
	if ((rc = cli_open_repo(&r))) {
		free(args);
		return rc;
	}
	if ((rc = cli_split_rev(r, "ls", args, n, dd, at, &rev, &has_rev, &paths, &npaths)))
		goto done;
	if (c.json)
		printf("[");
	if (has_rev)
		rc = lmd_ls_rev(r, &rev, (const char *const *)paths, (size_t)npaths, entry, &c);
	else
		rc = lmd_ls(r, (const char *const *)paths, (size_t)npaths, entry, &c);
	if (c.json)
		printf("%s]\n", c.n ? "\n" : "");
	rc = rc < 0 ? cli_fail(rc) : 0;
done:
	free(args);
	lmd_repo_free(r);
	return rc;
}
