/*
 * Telling a revision from a path on the command line, as git does:
 * "REV -- PATH..." is explicit; otherwise the first argument is a path if
 * it exists in the work tree (or has a manifest), else a revision.
 */
#ifndef LMD_CLI_REV_H
#define LMD_CLI_REV_H

#include "cli.h"
#include "lmdata/history.h"

/* Index of "--" in argv (argc when absent). */
int cli_dashdash(int argc, char **argv);

/*
 * Split args[0..n) (what is left after options; dd: how many came before
 * "--", or -1 without one) into an optional revision and paths.  at: the
 * --at DATE value or NULL.  Sets *ret_has_rev, *ret_paths, *ret_npaths.
 * Returns 0 or a printed exit code.
 */
int cli_split_rev(lmd_repo *r, const char *cmd, char **args, int n, int dd, const char *at, lmd_rev *ret_rev,
		  bool *ret_has_rev, char ***ret_paths, int *ret_npaths);

#endif

/*
 * After getopt ran over argv[0..dd) (options end at "--"): the arguments
 * left, before and after "--", in one malloc'd array; ret_dd is how many
 * came before "--" (-1 without one).
 */
int cli_gather_args(int argc, char **argv, int dd, int first, char ***ret, int *ret_n, int *ret_dd);
