/* Revisions vs paths on the command line (see cli_rev.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_rev.h"

int cli_dashdash(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--"))
			return i;
	return argc;
}

/*
 * Does a name a path lmdata knows: something in the work tree, or tracked
 * data (a manifest for it or for a folder around it: a deleted file of a
 * tracked folder is still a path)?
 */
static bool looks_like_path(const char *a)
{
	struct stat st;
	size_t l = strlen(a);
	char *m;
	bool yes = false;

	if (lstat(a, &st) == 0)
		return true;
	m = malloc(l + 5);
	if (!m)
		return false;
	memcpy(m, a, l + 1);
	while (l > 0 && m[l - 1] == '/')
		m[--l] = '\0';
	while (!yes && l > 0) {
		memcpy(m + l, ".lmd", 5);
		yes = lstat(m, &st) == 0;
		while (l > 0 && m[l - 1] != '/')
			l--;
		while (l > 0 && m[l - 1] == '/')
			l--;
		m[l] = '\0';
	}
	free(m);
	return yes;
}

int cli_split_rev(lmd_repo *r, const char *cmd, char **args, int n, int dd, const char *at, lmd_rev *ret_rev,
		  bool *ret_has_rev, char ***ret_paths, int *ret_npaths)
{
	int rc;
	*ret_has_rev = false;
	if (at) {
		if (dd > 0)
			return cli_usage_error(cmd, "give either --at DATE or a revision, not both");
		if ((rc = lmd_rev_at(r, at, ret_rev)) < 0)
			return cli_fail(rc);
		*ret_has_rev = true;
		*ret_paths = args;
		*ret_npaths = n;
		return 0;
	}
	if (dd >= 0) {
		if (dd > 1)
			return cli_usage_error(cmd, "only one revision may come before '--'");
		if (dd == 1) {
			if ((rc = lmd_rev_parse(r, args[0], ret_rev)) < 0)
				return cli_fail(rc);
			*ret_has_rev = true;
		}
		*ret_paths = args + dd;
		*ret_npaths = n - dd;
		return 0;
	}
	if (n > 0 && !looks_like_path(args[0])) {
		if ((rc = lmd_rev_parse(r, args[0], ret_rev)) < 0) {
			if (rc == LMD_ENOTFOUND) {
				fprintf(stderr, "lmdata: error: '%s' is neither a revision nor a path in the work tree: %s\n"
					"(use 'REV -- PATH' for a path that exists only in REV)\n", args[0], lmd_error_last());
				return EXIT_USAGE;
			}
			return cli_fail(rc);
		}
		*ret_has_rev = true;
		*ret_paths = args + 1;
		*ret_npaths = n - 1;
		return 0;
	}
	*ret_paths = args;
	*ret_npaths = n;
	return 0;
}

int cli_gather_args(int argc, char **argv, int dd, int first, char ***ret, int *ret_n, int *ret_dd)
{
	int nb = (dd < argc ? dd : argc) - first, na = dd < argc ? argc - dd - 1 : 0;
	char **v = calloc((size_t)(nb + na + 1), sizeof(*v));
	if (!v)
		return cli_fail(-ENOMEM);
	for (int i = 0; i < nb; i++)
		v[i] = argv[first + i];
	for (int i = 0; i < na; i++)
		v[nb + i] = argv[dd + 1 + i];
	*ret = v;
	*ret_n = nb + na;
	*ret_dd = dd < argc ? nb : -1;
	return 0;
}
