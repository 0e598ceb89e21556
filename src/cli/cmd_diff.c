/* lmdata diff: files added, deleted, modified or renamed between two versions of tracked data. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_rev.h"

struct diff_ctx {
	bool json, stat;
	int n;
	uint64_t added, deleted, modified, renamed;
	uint64_t bytes_added, bytes_removed;   /* size growth and shrinkage */
};

static const char *kind_word(lmd_diff_kind k)
{
	switch (k) {
	case LMD_DIFF_ADDED: return "added";
	case LMD_DIFF_DELETED: return "deleted";
	case LMD_DIFF_MODIFIED: return "modified";
	case LMD_DIFF_RENAMED: return "renamed";
	}
	return "changed";
}

static void signed_size(char *out, size_t n, uint64_t from, uint64_t to)
{
	if (to >= from)
		snprintf(out, n, "+%s", lmd_human_size(to - from));
	else
		snprintf(out, n, "-%s", lmd_human_size(from - to));
}

static void entry(const lmd_diff_entry *e, void *payload)
{
	struct diff_ctx *c = payload;
	char hex_o[LMD_OID_HEXSZ + 1], hex_n[LMD_OID_HEXSZ + 1], delta[64];
	uint64_t from = e->kind == LMD_DIFF_ADDED ? 0 : e->old_size, to = e->kind == LMD_DIFF_DELETED ? 0 : e->new_size;

	switch (e->kind) {
	case LMD_DIFF_ADDED: c->added++; break;
	case LMD_DIFF_DELETED: c->deleted++; break;
	case LMD_DIFF_MODIFIED: c->modified++; break;
	case LMD_DIFF_RENAMED: c->renamed++; break;
	}
	if (to >= from)
		c->bytes_added += to - from;
	else
		c->bytes_removed += from - to;
	if (c->json) {
		lmd_oid_fmt(hex_o, &e->old_id);
		lmd_oid_fmt(hex_n, &e->new_id);
		printf("%s\n    {\"status\": \"%s\", \"path\": ", c->n ? "," : "", kind_word(e->kind));
		cli_json_str(stdout, e->path);
		if (e->kind == LMD_DIFF_RENAMED) {
			printf(", \"old_path\": ");
			cli_json_str(stdout, e->old_path);
		}
		printf(", \"dataset\": ");
		cli_json_str(stdout, e->dataset);
		if (e->kind != LMD_DIFF_ADDED)
			printf(", \"old_size\": %" PRIu64 ", \"old_sha256\": \"%s\"", e->old_size, hex_o);
		if (e->kind != LMD_DIFF_DELETED)
			printf(", \"new_size\": %" PRIu64 ", \"new_sha256\": \"%s\"", e->new_size, hex_n);
		printf(", \"size_delta\": %" PRId64 "}", (int64_t)(to - from));
	} else if (!c->stat && !g_cli.quiet) {
		signed_size(delta, sizeof(delta), from, to);
		switch (e->kind) {
		case LMD_DIFF_ADDED:
		case LMD_DIFF_DELETED:
			printf("%-9s %s  (%s)\n", kind_word(e->kind), lmd_quote(e->path), lmd_human_size(from + to));
			break;
		case LMD_DIFF_MODIFIED:
			printf("%-9s %s  (%s -> %s, %s)\n", "modified", lmd_quote(e->path), lmd_human_size(e->old_size),
			       lmd_human_size(e->new_size), delta);
			break;
		case LMD_DIFF_RENAMED:
			printf("%-9s %s -> %s  (%s)\n", "renamed", lmd_quote(e->old_path), lmd_quote(e->path),
			       lmd_human_size(e->new_size));
			break;
		}
	}
	c->n++;
}

int cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'J' }, { "stat", no_argument, NULL, 's' },
					      { "exit-code", no_argument, NULL, 'e' },
					      { "at", required_argument, NULL, 'a' }, { 0 } };
	struct diff_ctx c = { 0 };
	const char *at[2] = { 0 };
	int nat = 0, exit_code = 0, o, rc, n, dd, nrev = 0;
	int ddpos = cli_dashdash(argc, argv);
	char **args = NULL, **paths;
	lmd_rev rev[2];
	lmd_repo *r;

	while ((o = getopt_long(ddpos, argv, "", opts, NULL)) != -1) {
		if (o == 'J')
			c.json = true;
		else if (o == 's')
			c.stat = true;
		else if (o == 'e')
			exit_code = 1;
		else if (o == 'a' && nat < 2)
			at[nat++] = optarg;
		else
			return cli_usage_error("diff", o == 'a' ? "at most two --at" : "unknown option");
	}
	if ((rc = cli_gather_args(argc, argv, ddpos, optind, &args, &n, &dd)))
		return rc;
	if ((rc = cli_open_repo(&r))) {
		free(args);
		return rc;
	}
	for (int i = 0; i < nat; i++)
		if ((rc = lmd_rev_at(r, at[i], &rev[nrev++])) < 0) {
			rc = cli_fail(rc);
			goto done;
		}
	/* Revisions: up to two before "--", or leading arguments that are not paths. */
	paths = args;
	for (int i = 0; i < n && nrev < 2; i++) {
		lmd_rev tmp;
		bool has;
		char **rest;
		int nrest;
		if (dd >= 0 && i >= dd)
			break;
		if (dd >= 0) {
			if ((rc = lmd_rev_parse(r, args[i], &tmp)) < 0) {
				rc = cli_fail(rc);
				goto done;
			}
			rev[nrev++] = tmp;
			paths = args + i + 1;
			continue;
		}
		if ((rc = cli_split_rev(r, "diff", args + i, n - i, -1, NULL, &tmp, &has, &rest, &nrest)))
			goto done;
		if (!has)
			break;
		rev[nrev++] = tmp;
		paths = rest;
	}
	if (dd >= 0 && paths < args + dd) {
		rc = cli_usage_error("diff", "at most two revisions");
		goto done;
	}
	if (nrev == 0) {
		if ((rc = lmd_rev_parse(r, "HEAD", &rev[0])) < 0) {
			rc = cli_fail(rc);
			goto done;
		}
		nrev = 1;
	}
	if (c.json)
		printf("{\n  \"from\": \"%s\",\n  \"to\": \"%s\",\n  \"changes\": [", rev[0].id,
		       nrev > 1 ? rev[1].id : "worktree");
	rc = lmd_diff(r, &rev[0], nrev > 1 ? &rev[1] : NULL, (const char *const *)paths, (size_t)(n - (paths - args)),
		      entry, &c);
	if (c.json) {
		printf("%s],\n  \"summary\": {\"added\": %" PRIu64 ", \"deleted\": %" PRIu64 ", \"modified\": %" PRIu64
		       ", \"renamed\": %" PRIu64 ", \"bytes_added\": %" PRIu64 ", \"bytes_removed\": %" PRIu64 "}\n}\n",
		       c.n ? "\n  " : "", c.added, c.deleted, c.modified, c.renamed, c.bytes_added, c.bytes_removed);
	} else if (rc >= 0 && c.stat && !g_cli.quiet) {
		printf(" %d file%s changed: %" PRIu64 " added, %" PRIu64 " deleted, %" PRIu64 " modified, %" PRIu64
		       " renamed; +%s", c.n, c.n == 1 ? "" : "s", c.added, c.deleted, c.modified, c.renamed,
		       lmd_human_size(c.bytes_added));
		printf(", -%s\n", lmd_human_size(c.bytes_removed));
	}
	if (rc < 0)
		rc = cli_fail(rc);
	else
		rc = exit_code && rc > 0 ? EXIT_FOUND : EXIT_OK;
done:
	free(args);
	lmd_repo_free(r);
	return rc;
}
