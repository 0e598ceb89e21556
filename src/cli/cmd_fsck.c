/* lmdata fsck: verify the store. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lmdata/sync.h"

struct fsck_ctx {
	bool json;
	int n;
	char pack[LMD_OID_HEXSZ + 1];   /* pack of the last object lines */
	unsigned in_pack, hidden;       /* lines for it, lines not shown */
};

#define MAX_LINES_PER_PACK 10

/* A damaged block names every object in it: show a few, count the rest. */
static void flush_hidden(struct fsck_ctx *c)
{
	if (c->hidden)
		printf("         ... and %u more damaged objects in pack %.16s\n", c->hidden, c->pack);
	c->hidden = 0;
}

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
		flush_hidden(c);
		printf("damaged: %s %s%s%s\n", lmd_quote(path), p->what, p->object ? " " : "",
		       p->object ? p->object : "");
	} else {
		if (p->pack && p->object && !strcmp(p->pack, c->pack)) {
			if (++c->in_pack > MAX_LINES_PER_PACK) {
				c->hidden++;
				c->n++;
				return;
			}
		} else {
			flush_hidden(c);
			snprintf(c->pack, sizeof(c->pack), "%s", p->pack ? p->pack : "");
			c->in_pack = 1;
		}
		if (p->object)
			printf("damaged: object %s%s%s\n", p->object, p->pack ? " in pack " : "", p->pack ? p->pack : "");
		else
			printf("damaged: pack %s\n", p->pack ? p->pack : "(unknown)");
		printf("         %s\n", p->what);
	}
	c->n++;
}

int cmd_fsck(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'J' },
					      { "repair", no_argument, NULL, 'P' },
					      { "remote", no_argument, NULL, 'R' },
					      { "read-data", no_argument, NULL, 'D' }, { 0 } };
	unsigned flags = 0;
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
		else if (o == 'P')
			flags |= LMD_FSCK_REPAIR;
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
	if (remote) {
		rc = lmd_remote_fsck(r, &so, read_data ? LMD_REMOTE_FSCK_READ_DATA : 0, problem, &c, &st);
	} else {
		rc = lmd_fsck_ext(r, flags, problem, &c, &st);
		if (!c.json)
			flush_hidden(&c);
	}
	if (c.json)
		printf("%s],\n  \"packs\": %llu, \"objects\": %llu, \"bytes\": %llu, \"dropped\": %llu, "
		       "\"clean\": %s\n}\n",
		       c.n ? "\n  " : "", (unsigned long long)st.packs, (unsigned long long)st.objects,
		       (unsigned long long)st.bytes, (unsigned long long)st.dropped, rc == 0 ? "true" : "false");
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
		if (st.dropped && !c.json && !g_cli.quiet)
			printf("repaired: dropped %llu damaged object%s; the files named above need their data again\n",
			       (unsigned long long)st.dropped, st.dropped == 1 ? "" : "s");
		if (rc && !c.json && remote)
			fprintf(stderr, "lmdata: the remote lacks or has damaged data; push again from a clone that "
					"has it ('lmdata push')\n");
		else if (rc && !c.json)
			fprintf(stderr, "lmdata: the store is damaged: run 'lmdata fsck --repair' to drop the damaged "
					"objects, then re-add them from a good copy with 'lmdata add', or fetch them "
					"with 'lmdata pull'\n");
		rc = rc ? EXIT_FOUND : EXIT_OK;
	}
	lmd_repo_free(r);
	return rc;
}
