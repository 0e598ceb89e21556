/* lmdata ls: list tracked files. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

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
	static const struct option opts[] = { { "json", no_argument, NULL, 'J' }, { 0 } };
	struct ls_ctx c = { 0 };
	lmd_repo *r;
	int o, rc;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'J')
			c.json = true;
		else
			return cli_usage_error("ls", "unknown option");
	}
	if ((rc = cli_open_repo(&r)))
		return rc;
	if (c.json)
		printf("[");
	rc = lmd_ls(r, (const char *const *)argv + optind, (size_t)(argc - optind), entry, &c);
	if (c.json)
		printf("%s]\n", c.n ? "\n" : "");
	rc = rc < 0 ? cli_fail(rc) : 0;
	lmd_repo_free(r);
	return rc;
}
