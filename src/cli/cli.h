/*
 * Shared pieces of the command-line front: global options, error printing
 * with the documented exit codes, the progress bar, JSON string output.
 * The core library never prints; everything the user sees is drawn here.
 */
#ifndef LMD_CLI_H
#define LMD_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "lmdata/lmdata.h"

enum { EXIT_OK = 0, EXIT_FOUND = 1, EXIT_USAGE = 2, EXIT_FAIL = 3 };

typedef struct cli_globals {
	int quiet, verbose;
	bool progress;       /* a terminal on stderr and not --no-progress/-q */
	unsigned jobs;
} cli_globals;

extern cli_globals g_cli;

typedef int (*cmd_fn)(int argc, char **argv);

typedef struct cli_command {
	const char *name;
	cmd_fn fn;
	const char *summary;
	const char *usage;   /* full --help text */
} cli_command;

/* Print "lmdata: error: <message>" and return the exit code for rc. */
int cli_fail(int rc);
/* Print a usage error for cmd and return 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A -j argument: a thread or transfer count from 1 to 256; false otherwise. */
bool cli_parse_jobs(const char *s, unsigned *ret);
/* Exit code for a library result. */
int cli_exit_code(int rc);
/* Open the repository around the current folder: 0, or (printed) an exit code. */
int cli_open_repo(lmd_repo **ret);
/* Draw progress events on stderr (NULL event: clear the line). */
void cli_progress(const lmd_progress *p, void *payload);
/* Write s as a JSON string (with quotes). */
void cli_json_str(FILE *f, const char *s);
/* Is argv[i] "-h"/"--help"?  Print the command's help and return true. */
bool cli_help_requested(const cli_command *c, int argc, char **argv);
const cli_command *cli_find_command(const char *name);

#endif
