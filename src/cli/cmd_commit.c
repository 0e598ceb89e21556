/*
 * lmdata commit: re-snapshot changed tracked data, stage the manifests,
 * run the pre-commit hook, take the message (-m, -F or the editor) and
 * record the commit with libgit2.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_rev.h"

static void added(const lmd_add_result *res, void *payload)
{
	(void)payload;
	if (g_cli.quiet || !res->changed)
		return;
	printf("snapshot %s (%llu file%s, %s)\n", res->path, (unsigned long long)res->manifest->files,
	       res->manifest->files == 1 ? "" : "s", lmd_human_size(res->manifest->size));
}

/* Run argv with the work tree as the current folder; returns its exit status (or -1). */
static int run_in(const char *dir, char *const *av)
{
	pid_t pid = fork();
	int st;
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (chdir(dir) < 0)
			_exit(127);
		execv(av[0], av);
		execvp(av[0], av);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static int append_file(lmd_repo *r, const char *path, char **msg)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char buf[4096];
	size_t n, len = *msg ? strlen(*msg) : 0;
	(void)r;
	if (!f) {
		fprintf(stderr, "lmdata: error: cannot read the message file '%s': %s\n", path, lmd_strerror(-errno));
		return EXIT_USAGE;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		char *nm = realloc(*msg, len + n + 1);
		if (!nm)
			return cli_fail(-ENOMEM);
		memcpy(nm + len, buf, n);
		len += n;
		nm[len] = '\0';
		*msg = nm;
	}
	if (f != stdin)
		fclose(f);
	if (!*msg)
		*msg = strdup("");
	return 0;
}

static int edit_message(lmd_repo *r, char **msg)
{
	char *gitdir = lmd_repo_gitdir(r), *path = NULL, *editor = lmd_git_editor(r), *branch = lmd_repo_head_name(r);
	FILE *f;
	int rc = 0, st;

	if (!gitdir || !editor || !branch || asprintf(&path, "%s/COMMIT_EDITMSG", gitdir) < 0) {
		rc = cli_fail(-ENOMEM);
		goto done;
	}
	if (!getenv("GIT_EDITOR") && (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))) {
		fprintf(stderr, "lmdata: error: no commit message and no terminal to edit one: use -m MSG or -F FILE\n");
		rc = EXIT_USAGE;
		goto done;
	}
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "lmdata: error: cannot write '%s': %s\n", path, lmd_strerror(-errno));
		rc = EXIT_FAIL;
		goto done;
	}
	fprintf(f, "\n# Please enter the commit message for your changes. Lines starting\n"
		   "# with '#' will be ignored, and an empty message aborts the commit.\n#\n# On branch %s\n", branch);
	fclose(f);
	{
		/* As git does: the editor is a shell command line. */
		char *av[] = { "/bin/sh", "-c", NULL, "editor", path, NULL };
		char *cmd = NULL;
		if (asprintf(&cmd, "%s \"$@\"", editor) < 0) {
			rc = cli_fail(-ENOMEM);
			goto done;
		}
		av[2] = cmd;
		st = run_in(lmd_repo_workdir(r), av);
		free(cmd);
	}
	if (st != 0) {
		fprintf(stderr, "lmdata: error: the editor '%s' failed (exit %d); nothing was committed\n", editor, st);
		rc = EXIT_FAIL;
		goto done;
	}
	rc = append_file(r, path, msg);
done:
	free(gitdir);
	free(path);
	free(editor);
	free(branch);
	return rc;
}

/* The commit-msg hook gets the message in .git/COMMIT_EDITMSG, may edit it, or refuse. */
static int run_commit_msg_hook(lmd_repo *r, char **msg)
{
	char *hook = lmd_hook_path(r, "commit-msg"), *gitdir = NULL, *path = NULL, *nm = NULL;
	FILE *f;
	int rc = 0, st;

	if (!hook)
		return 0;
	gitdir = lmd_repo_gitdir(r);
	if (!gitdir || asprintf(&path, "%s/COMMIT_EDITMSG", gitdir) < 0) {
		rc = cli_fail(-ENOMEM);
		goto done;
	}
	f = fopen(path, "w");
	if (f) {
		bool ok = fputs(*msg, f) >= 0 && (!**msg || (*msg)[strlen(*msg) - 1] == '\n' || fputc('\n', f) != EOF);
		if (fclose(f) != 0 || !ok)
			f = NULL;
	}
	if (!f) {
		fprintf(stderr, "lmdata: error: cannot write '%s': %s\n", path, lmd_strerror(-errno));
		rc = EXIT_FAIL;
		goto done;
	}
	{
		char *av[] = { hook, path, NULL };
		fflush(stdout);
		st = run_in(lmd_repo_workdir(r), av);
	}
	if (st != 0) {
		fprintf(stderr, "lmdata: error: the commit-msg hook refused the message (exit %d); nothing was committed "
				"(or skip it with --no-verify)\n", st);
		rc = EXIT_FOUND;
		goto done;
	}
	if ((rc = append_file(r, path, &nm)) == 0) {
		free(*msg);
		*msg = nm;
	}
done:
	free(hook);
	free(gitdir);
	free(path);
	return rc;
}

int cmd_commit(int argc, char **argv)
{
	static const struct option opts[] = { { "message", required_argument, NULL, 'm' },
					      { "file", required_argument, NULL, 'F' },
					      { "no-verify", no_argument, NULL, 'n' }, { 0 } };
	char *msg = NULL, *hook = NULL, *branch = NULL;
	bool verify = true;
	lmd_rev id;
	lmd_repo *r;
	int o, rc;

	while ((o = getopt_long(argc, argv, "m:F:n", opts, NULL)) != -1) {
		if (o == 'm') {
			/* Several -m are paragraphs, as in git. */
			size_t l = msg ? strlen(msg) : 0;
			char *nm = realloc(msg, l + strlen(optarg) + 3);
			if (!nm)
				return cli_fail(-ENOMEM);
			if (l)
				strcpy(nm + l, "\n\n"), l += 2;
			strcpy(nm + l, optarg);
			msg = nm;
		} else if (o == 'F') {
			if ((rc = append_file(NULL, optarg, &msg))) {
				free(msg);
				return rc;
			}
		} else if (o == 'n') {
			verify = false;
		} else {
			free(msg);
			return cli_usage_error("commit", "unknown option");
		}
	}
	if ((rc = cli_open_repo(&r))) {
		free(msg);
		return rc;
	}
	rc = lmd_commit_prepare(r, (const char *const *)argv + optind, (size_t)(argc - optind), added, NULL);
	if (rc >= 0)
		rc = lmd_commit_pending(r);
	if (rc < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	if (rc == 0) {
		fprintf(stderr, "nothing to commit: tracked data and staged files match HEAD\n");
		rc = EXIT_FOUND;
		goto done;
	}
	if (verify && (hook = lmd_hook_path(r, "pre-commit"))) {
		char *av[] = { hook, NULL };
		fflush(stdout);
		int st = run_in(lmd_repo_workdir(r), av);
		if (st != 0) {
			fprintf(stderr, "lmdata: error: the pre-commit hook refused the commit (exit %d); nothing was "
					"committed (fix what it reports, or skip it with --no-verify)\n", st);
			rc = EXIT_FOUND;
			goto done;
		}
		/* The hook may have staged or unstaged things. */
		if ((rc = lmd_commit_pending(r)) <= 0) {
			if (rc == 0)
				fprintf(stderr, "nothing to commit after the pre-commit hook ran\n");
			rc = rc < 0 ? cli_fail(rc) : EXIT_FOUND;
			goto done;
		}
	}
	if (!msg && (rc = edit_message(r, &msg)))
		goto done;
	if (verify && (rc = run_commit_msg_hook(r, &msg)))
		goto done;
	if ((rc = lmd_commit_create(r, msg, &id)) < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	branch = lmd_repo_head_name(r);
	if (!g_cli.quiet) {
		const char *s = msg;
		while (*s == '\n' || *s == ' ')
			s++;
		printf("[%s %.7s] %.*s\n", branch ? branch : "HEAD", id.id, (int)strcspn(s, "\n"), s);
	}
	{
		/* post-commit: informational, its status does not matter (as in git). */
		char *pc = lmd_hook_path(r, "post-commit");
		if (pc) {
			char *av[] = { pc, NULL };
			fflush(stdout);
			run_in(lmd_repo_workdir(r), av);
			free(pc);
		}
	}
	rc = 0;
done:
	free(branch);
	free(hook);
	free(msg);
	lmd_repo_free(r);
	return rc;
}
