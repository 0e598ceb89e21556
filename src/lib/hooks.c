/*
 * lmdata's git hooks.  Each hook is a small sh script marked as lmdata's;
 * a hook that was there before (another tool's, the user's) is renamed to
 * HOOK.lmdata-chained and run first by ours, with the same arguments and
 * input, so nothing is ever overwritten, and uninstalling puts it back.
 * Installing twice rewrites the same bytes (idempotent).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "history_int.h"

#define MARK "# lmdata-hook v1"
#define CHAINED ".lmdata-chained"

static const char *const names[] = { "pre-commit", "post-checkout", "pre-push" };

static const char *const bodies[] = {
	/* pre-commit */
	"\"$LMDATA\" status --check --data\n"
	"rc=$?\n"
	"if [ $rc = 1 ]; then\n"
	"\techo \"lmdata: tracked data changed without 'lmdata add' (listed above); run 'lmdata add PATH'\" >&2\n"
	"\techo \"lmdata: (or 'lmdata commit'), or skip this check with 'git commit --no-verify'\" >&2\n"
	"fi\n"
	"exit $rc\n",
	/* post-checkout: branch switches only, not file checkouts, not inside a rebase */
	"[ \"$3\" = 1 ] || exit 0\n"
	"gitdir=$(git rev-parse --git-dir) || exit 0\n"
	"if [ -d \"$gitdir/rebase-merge\" ] || [ -d \"$gitdir/rebase-apply\" ]; then exit 0; fi\n"
	"[ -d \"$(git rev-parse --show-toplevel)/.lmdata\" ] || exit 0\n"
	"\"$LMDATA\" checkout || {\n"
	"\techo \"lmdata: the data does not match the new manifests yet (see above); deal with it, then run 'lmdata checkout'\" >&2\n"
	"\texit 1\n"
	"}\n",
	/* pre-push */
	"if ! \"$LMDATA\" help push >/dev/null 2>&1 || [ -z \"$(\"$LMDATA\" remote list 2>/dev/null)\" ]; then\n"
	"\techo \"lmdata: no data remote configured, data not pushed (add one with 'lmdata remote add')\" >&2\n"
	"\texit 0\n"
	"fi\n"
	/* The data of every commit being pushed that the remote lacks (not
	 * only the tips: a clone may check out any of them), and of the work
	 * tree.  git gives the remote's old tip for an update; for a new ref,
	 * the commits on none of the remote's tracking refs.  xargs splits a
	 * long list over several pushes, each of which resumes the last. */
	"revs=$(printf '%s\\n' \"$input\" | while read -r lref lsha rref rsha; do\n"
	"\tcase $lsha in *[!0]*) ;; *) continue ;; esac\n"
	"\tcase $rsha in *[!0]*) git rev-list \"$lsha\" \"^$rsha\" -- 2>/dev/null && continue ;; esac\n"
	"\tgit rev-list \"$lsha\" --not --remotes=\"$1\" --\n"
	"done | sort -u)\n"
	"[ -n \"$revs\" ] || exec \"$LMDATA\" push --workspace\n"
	"printf -- '--rev=%s\\n' $revs | xargs \"$LMDATA\" push --workspace\n",
};

static char *script(int i, const char *self)
{
	const char *stdin_save = i == 2 ? "input=$(cat)\n" : "";
	const char *run_chained = i == 2 ? "\tprintf '%s\\n' \"$input\" | \"$chained\" \"$@\" || exit $?\n"
					 : "\t\"$chained\" \"$@\" || exit $?\n";
	return lmd_asprintf(
		"#!/bin/sh\n"
		MARK ": written by 'lmdata hooks install'; 'lmdata hooks install --uninstall' removes it\n"
		"# and puts back the hook that was here before (kept as %s" CHAINED ").\n"
		"%s"
		"chained=\"$(dirname \"$0\")/%s" CHAINED "\"\n"
		"if [ -x \"$chained\" ]; then\n%s"
		"fi\n"
		"LMDATA=$(command -v lmdata 2>/dev/null || echo '%s')\n"
		"if [ ! -x \"$LMDATA\" ]; then\n"
		"\techo \"lmdata hook (%s): lmdata is not installed (not on PATH); install it or remove the hook with 'lmdata hooks install --uninstall'\" >&2\n"
		"\texit %d\n"
		"fi\n"
		"%s",
		names[i], stdin_save, names[i], run_chained, self ? self : "lmdata", names[i], i == 0 ? 1 : 0, bodies[i]);
}

static bool is_ours(const char *path)
{
	lmd_buf b = LMD_BUF_INIT;
	bool yes = false;
	if (lmd_read_file(path, 1 << 20, &b) == 0 && lmd_buf_cstr(&b) == 0)
		yes = strstr((const char *)b.ptr, MARK) != NULL;
	lmd_error_clear();
	lmd_buf_release(&b);
	return yes;
}

static int install_one(int i, const char *dir, const char *self, bool uninstall, lmd_hook_cb cb, void *payload)
{
	char *path = lmd_path_join(dir, names[i]), *chained = lmd_asprintf("%s/%s" CHAINED, dir, names[i]);
	char *text = NULL;
	struct stat st;
	lmd_buf cur = LMD_BUF_INIT;
	bool exists, ours;
	int rc = 0;

	if (!path || !chained) {
		rc = -ENOMEM;
		goto done;
	}
	exists = lstat(path, &st) == 0;
	ours = exists && is_ours(path);
	if (uninstall) {
		if (!ours) {
			if (cb)
				cb(names[i], "not installed", payload);
			goto done;
		}
		if (unlink(path) < 0) {
			rc = lmd_errno_path("cannot remove hook", path);
			goto done;
		}
		if (lstat(chained, &st) == 0) {
			if (rename(chained, path) < 0) {
				rc = lmd_errno_path("cannot restore hook", chained);
				goto done;
			}
			if (cb)
				cb(names[i], "removed (the previous hook is back)", payload);
		} else if (cb) {
			cb(names[i], "removed", payload);
		}
		goto done;
	}
	if (!(text = script(i, self))) {
		rc = -ENOMEM;
		goto done;
	}
	if (ours) {
		if (lmd_read_file(path, 1 << 20, &cur) == 0 && cur.len == strlen(text) && !memcmp(cur.ptr, text, cur.len) &&
		    (st.st_mode & 0111)) {
			if (cb)
				cb(names[i], "already installed", payload);
			goto done;
		}
		lmd_error_clear();
	} else if (exists) {
		if (lstat(chained, &st) == 0) {
			rc = lmd_error_set(LMD_EBADINPUT,
				"cannot install the %s hook: both '%s' and '%s' exist and neither is lmdata's; merge them "
				"by hand", names[i], path, chained);
			goto done;
		}
		if (rename(path, chained) < 0) {
			rc = lmd_errno_path("cannot keep the existing hook", path);
			goto done;
		}
	}
	if ((rc = lmd_write_file_atomic(path, text, strlen(text), 0755)) < 0) {
		if (exists && !ours)
			rename(chained, path); /* put the user's hook back */
		goto done;
	}
	if (cb)
		cb(names[i], ours ? "updated" : exists ? "installed (the existing hook runs first)" : "installed", payload);
done:
	lmd_buf_release(&cur);
	free(text);
	free(path);
	free(chained);
	return rc;
}

int lmd_hooks_install(lmd_repo *r, unsigned hooks, bool uninstall, const char *self, lmd_hook_cb cb, void *payload)
{
	char *dir = lmd_git_hooks_dir(r->git);
	int rc = 0;
	if (!dir)
		return -ENOMEM;
	if (!uninstall && (rc = lmd_mkdir_p(dir, 0755)) < 0)
		goto done;
	for (int i = 0; i < 3 && rc >= 0; i++)
		if (hooks & (1u << i))
			rc = install_one(i, dir, self, uninstall, cb, payload);
done:
	free(dir);
	return rc;
}
