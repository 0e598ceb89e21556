/* lmdata fsck: verify the store. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "lmdata/sync.h"

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
	static const struct option opts[] = { { "json", no_argument, NULL, 'J' },
					      { "remote", no_argument, NULL, 'R' },
					      { "read-data", no_argument, NULL, 'D' }, { 0 } };
	struct fsck_ctx c = { 0 };
	lmd_sync_opts so = { 0 };
	bool remote = false, read_data = false;
	lmd_fsck_stats st;
	lmd_repo *r;
	int o, rc;

	while ((o = getopt_long(argc, argv, "r:", opts, NULL)) != -1) {
		if (o == 'J')
			c.json = true;
		else if (o == 'R')
			remote = true;
		else if (o == 'r')
			remote = true, so.remote = optarg;
		else if (o == 'D')
			read_data = true;
		else
			return cli_usage_error("fsck", "unknown option");
	}
	if (read_data && !remote)
		return cli_usage_error("fsck", "--read-data goes with --remote");
	if (optind < argc && !remote)
		return cli_usage_error("fsck", "takes no paths (but 'fsck --remote' does)");
	so.paths = (const char *const *)argv + optind;
	so.npaths = (size_t)(argc - optind);
	if ((rc = cli_open_repo(&r)))
		return rc;
	if (c.json)
		printf("{\n  \"problems\": [");
	if (remote)
		rc = lmd_remote_fsck(r, &so, read_data ? LMD_REMOTE_FSCK_READ_DATA : 0, problem, &c, &st);
	else
		rc = lmd_fsck(r, problem, &c, &st);
	if (c.json)
		printf("%s],\n  \"packs\": %llu, \"objects\": %llu, \"bytes\": %llu, \"clean\": %s\n}\n",
		       c.n ? "\n  " : "", (unsigned long long)st.packs, (unsigned long long)st.objects,
		       (unsigned long long)st.bytes, rc == 0 ? "true" : "false");
	if (rc < 0) {
		rc = cli_fail(rc);
	} else {
		if (!c.json && !g_cli.quiet && remote)
			printf("%s: %llu packs, %llu objects on the remote%s%s\n", rc ? "problems found" : "ok",
			       (unsigned long long)st.packs, (unsigned long long)st.objects,
			       read_data ? ", read in full: " : "", read_data ? lmd_human_size(st.bytes) : "");
		else if (!c.json && !g_cli.quiet)
			printf("%s: %llu packs, %llu objects, %s verified\n", rc ? "problems found" : "ok",
			       (unsigned long long)st.packs, (unsigned long long)st.objects, lmd_human_size(st.bytes));
		if (rc && !c.json && remote)
			fprintf(stderr, "lmdata: the remote lacks or has damaged data; push again from a clone that "
					"has it ('lmdata push')\n");
		else if (rc && !c.json)
			fprintf(stderr, "lmdata: the store is damaged; restore the named files from a remote "
					"('lmdata pull') or re-add them from a good copy\n");
		rc = rc ? EXIT_FOUND : EXIT_OK;
	}
	lmd_repo_free(r);
	return rc;
}
