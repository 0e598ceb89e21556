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
} cli_sync;

/* Parse the options of cmd (push/fetch/pull); 0 or an exit code (printed). */
int cli_sync_parse(const char *cmd, int argc, char **argv, cli_sync *ret);
/* Print the summary of a finished sync ("pushed", "fetched"). */
void cli_sync_report(const char *verb, const cli_sync *c, const lmd_sync_stats *st, double secs);
double cli_sync_now(void);

#endif
