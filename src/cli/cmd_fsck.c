/* lmdata fsck: verify the store. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

struct fsck_ctx {
	bool json;
	int n;
};

static void problem(const lmd_fsck_problem *p, void *payload)
{
	struct fsck_ctx *c = payload;
	const char *path = p->paths ? p->paths[0] : NULL;
	if (c->json) {
		printf("%s\n    {\"what\": ", c->n ? "," : "");
		cli_json_str(stdout, p->what);
		if (p->pack) {
			printf(", \"pack\": ");
			cli_json_str(stdout, p->pack);
		}
		if (p->object) {
			printf(", \"object\": ");
			cli_json_str(stdout, p->object);
		}
		if (path) {
			printf(", \"path\": ");
			cli_json_str(stdout, path);
		}
		printf("}");
	} else if (path) {
		printf("damaged: %s %s%s%s\n", lmd_quote(path), p->what, p->object ? " " : "",
		       p->object ? p->object : "");
	} else {
		printf("damaged: %s%s%s%s%s\n", p->object ? "object " : "", p->object ? p->object : "",
		       p->pack ? " in pack " : "", p->pack ? p->pack : "", "");
		printf("         %s\n", p->what);
	}
	c->n++;
}

int cmd_fsck(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'J' }, { 0 } };
	struct fsck_ctx c = { 0 };
	lmd_fsck_stats st;
	lmd_repo *r;
	int o, rc;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'J')
			c.json = true;
		else
			return cli_usage_error("fsck", "unknown option");
	}
	if (optind < argc)
		return cli_usage_error("fsck", "takes no paths");
	if ((rc = cli_open_repo(&r)))
		return rc;
	if (c.json)
		printf("{\n  \"problems\": [");
	rc = lmd_fsck(r, problem, &c, &st);
	if (c.json)
		printf("%s],\n  \"packs\": %llu, \"objects\": %llu, \"bytes\": %llu, \"clean\": %s\n}\n",
		       c.n ? "\n  " : "", (unsigned long long)st.packs, (unsigned long long)st.objects,
		       (unsigned long long)st.bytes, rc == 0 ? "true" : "false");
	if (rc < 0) {
		rc = cli_fail(rc);
	} else {
		if (!c.json && !g_cli.quiet)
			printf("%s: %llu packs, %llu objects, %s verified\n", rc ? "problems found" : "ok",
			       (unsigned long long)st.packs, (unsigned long long)st.objects, lmd_human_size(st.bytes));
		if (rc && !c.json)
			fprintf(stderr, "lmdata: the store is damaged; restore the named files from a remote "
					"('lmdata pull') or re-add them from a good copy\n");
		rc = rc ? EXIT_FOUND : EXIT_OK;
	}
	lmd_repo_free(r);
	return rc;
}
