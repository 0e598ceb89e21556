/*
 * Options shared by push, fetch and pull (-r NAME, -j N, --json) and their
 * summary line; see cmd_push.c.
 */
#ifndef LMD_CLI_SYNC_OPTS_H
#define LMD_CLI_SYNC_OPTS_H

#include "cli.h"
#include "lmdata/sync.h"

typedef struct cli_sync {
	lmd_sync_opts o;
	bool json;
	bool force;   /* pull: checkout -f */
	const char **revs;   /* --rev (malloc'd array; the strings are argv's) */
} cli_sync;

/*
 * Parse the options of cmd (push/fetch/pull); 0 or an exit code (printed).
 * scopes: whether --all-branches/--all-tags/--all-commits/--workspace are
 * accepted (push).  Free with cli_sync_release().
 */
int cli_sync_parse(const char *cmd, int argc, char **argv, bool scopes, cli_sync *ret);
void cli_sync_release(cli_sync *c);
/* Print the summary of a finished sync ("pushed", "fetched"). */
void cli_sync_report(const char *verb, const cli_sync *c, const lmd_sync_stats *st, double secs);
double cli_sync_now(void);

#endif
