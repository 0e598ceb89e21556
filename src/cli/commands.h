/*
 * The commands' entry points and --help texts.  Each cmd_<name>() gets
 * argv starting at the command name and returns the exit code.
 */
#ifndef LMD_COMMANDS_H
#define LMD_COMMANDS_H

int cmd_init(int argc, char **argv);
int cmd_add(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_checkout(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_fsck(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_commit(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_hooks(int argc, char **argv);
int cmd_remote(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_gc_remote(int argc, char **argv);

#define USAGE_INIT \
	"usage: lmdata init\n\n" \
	"Set up .lmdata/ (config, object store, ignore rules) in the git work tree\n" \
	"around the current folder, and stage .lmdata/config and .lmdata/.gitignore.\n"
#define USAGE_ADD \
	"usage: lmdata add [-j N] PATH...\n\n" \
	"Chunk, hash and store files, folders or links; write PATH.lmd next to each,\n" \
	"ignore PATH in its folder's .gitignore, and stage both in git.\n\n" \
	"  -j, --jobs N   worker threads for hashing and compression (default: cores)\n"
#define USAGE_STATUS \
	"usage: lmdata status [--check] [--data] [--json] [PATH...]\n" \
	"       lmdata status -c [-r NAME] [--check] [--json] [PATH...]\n\n" \
	"Show tracked data that differs from its manifests, and manifests git has\n" \
	"not committed.  With -c, show per dataset what is pushed to the remote,\n" \
	"not pushed (objects, bytes) or missing locally.\n\n" \
	"  --check        print nothing when clean; exit 1 when anything is dirty\n" \
	"  --data         only data that differs from its manifest (not manifests git\n" \
	"                 has not committed): what a pre-commit hook checks\n" \
	"  --json         machine-readable output\n" \
	"  -c, --remote   compare the store with the remote instead of the work tree\n" \
	"  -r NAME        the remote to compare with (default: the default remote)\n"
#define USAGE_CHECKOUT \
	"usage: lmdata checkout [-f] [PATH...]\n" \
	"   or: lmdata checkout [-f] (REV | --at DATE) [--] [PATH...]\n\n" \
	"Make tracked data match the work tree's manifests: restore deleted or\n" \
	"modified files (verified, atomically) and remove files a folder's manifest\n" \
	"does not list.  Refuses to overwrite changes stored nowhere (exit 1).\n\n" \
	"With REV (a commit, tag, branch, HEAD~3, ...) or --at DATE (the last commit\n" \
	"of the current branch at or before DATE): first put REV's manifests of PATH\n" \
	"(default: every dataset of REV) into the work tree and the index, like\n" \
	"'git checkout REV -- PATH'; HEAD does not move.  Nothing is written unless\n" \
	"every path is tracked at REV and its data is in the local store.\n\n" \
	"  -f, --force   overwrite local changes even if they are not stored\n" \
	"  --at DATE     YYYY-MM-DD[ HH:MM[:SS]][Z|+HH:MM], @SECONDS, 'N days ago'\n"
#define USAGE_LS \
	"usage: lmdata ls [--json] [REV | --at DATE] [--] [PATH...]\n\n" \
	"List tracked files: mode, size, sha256 and path, as the work tree's\n" \
	"manifests record them, or as REV's do.\n\n" \
	"  --at DATE  the last commit of the current branch at or before DATE\n" \
	"  --json     machine-readable output\n"
#define USAGE_COMMIT \
	"usage: lmdata commit [-m MSG]... [-F FILE] [--no-verify] [PATH...]\n\n" \
	"Re-snapshot tracked data that changed (as 'lmdata add' would; PATH limits\n" \
	"which), stage the manifests and ignore rules, run the pre-commit hook, and\n" \
	"record the git index as a commit on HEAD.  Author and committer come from\n" \
	"GIT_AUTHOR_*/GIT_COMMITTER_* or git config user.name/user.email.  Without\n" \
	"-m or -F the editor git would use opens; without a terminal, commit refuses.\n" \
	"Exit 1 when there is nothing to commit or the pre-commit hook refuses.\n\n" \
	"  -m, --message MSG  the commit message (several -m: paragraphs)\n" \
	"  -F, --file FILE    read the message from FILE ('-': stdin)\n" \
	"  -n, --no-verify    do not run the pre-commit and commit-msg hooks\n"
#define USAGE_DIFF \
	"usage: lmdata diff [--stat] [--json] [--exit-code] [A [B]] [--] [PATH...]\n" \
	"   or: lmdata diff [options] --at DATE [--at DATE] [--] [PATH...]\n\n" \
	"Files added, deleted, modified or renamed (same content, new path) between\n" \
	"two versions of tracked data, with sizes: A and B are revisions; with only\n" \
	"A, A against the work tree's manifests; with neither, HEAD against them.\n" \
	"(Changes not yet recorded with 'lmdata add' are what 'lmdata status' shows.)\n\n" \
	"  --stat        only a summary: counts and bytes added/removed\n" \
	"  --json        machine-readable output\n" \
	"  --exit-code   exit 1 when there are differences\n" \
	"  --at DATE     the last commit of the current branch at or before DATE\n"
#define USAGE_LOG \
	"usage: lmdata log [-n N] [--since DATE] [--until DATE] [--oneline] [--json] [--] [PATH...]\n\n" \
	"The commits, newest first from HEAD, that changed tracked data (PATH: these\n" \
	"datasets or the datasets in these folders): commit, author, date, subject,\n" \
	"and per dataset its size and file count after the commit and the change\n" \
	"against the first parent (files +added -deleted ~modified, bytes).\n\n" \
	"  -n, --max-count N  show at most N commits\n" \
	"  --since DATE       only commits made at or after DATE (also --after)\n" \
	"  --until DATE       only commits made at or before DATE (also --before)\n" \
	"  --oneline          one line per commit\n" \
	"  --json             machine-readable output\n"
#define USAGE_HOOKS \
	"usage: lmdata hooks install [--hook NAME]... [--uninstall]\n" \
	"   or: lmdata hooks uninstall [--hook NAME]...\n\n" \
	"Write git hooks (default: all three) that run lmdata:\n" \
	"  pre-commit     'lmdata status --check --data': refuse a commit whose tracked\n" \
	"                 data changed without 'lmdata add'\n" \
	"  post-checkout  'lmdata checkout' after a branch switch (not file checkouts,\n" \
	"                 not during a rebase)\n" \
	"  pre-push       'lmdata push' (a no-op with a message until a remote exists)\n" \
	"A hook already there is kept as HOOK.lmdata-chained and runs first; installing\n" \
	"twice changes nothing; --uninstall removes only lmdata's hook and puts the\n" \
	"previous one back.  core.hooksPath is honoured.\n\n" \
	"  --hook NAME   only this hook (pre-commit, post-checkout, pre-push)\n" \
	"  --uninstall   remove lmdata's hooks\n"
#define USAGE_CAT \
	"usage: lmdata cat [REV | --at DATE] [--] PATH\n\n" \
	"Write one tracked file's exact bytes at REV to stdout (without REV: as the\n" \
	"work tree's manifest records it), verified against its sha256, without\n" \
	"touching the work tree:  lmdata cat v1.2 data/train.jsonl | head\n\n" \
	"  --at DATE  the last commit of the current branch at or before DATE\n"
#define USAGE_RM \
	"usage: lmdata rm PATH...\n\n" \
	"Stop tracking PATH: remove PATH.lmd and its .gitignore line and stage both.\n" \
	"The data itself stays on disk.\n"
#define USAGE_FSCK \
	"usage: lmdata fsck [--repair] [--json]\n" \
	"       lmdata fsck --remote [-r NAME] [--read-data] [--json] [PATH...]\n\n" \
	"Re-verify every pack and object against its hash, and that every object the\n" \
	"manifests need is present.  Exit 1 naming damaged objects and the files\n" \
	"that use them.  With --remote, check instead that the remote has every\n" \
	"object the data (or PATH...) needs, and with --read-data that every pack\n" \
	"on it hashes to its name.\n\n" \
	"  --repair      drop damaged objects (their packs are rewritten without\n" \
	"                them) so 'lmdata add' of a good copy, or a fetch, stores\n" \
	"                them again; still exits 1 while files lack their data\n" \
	"  --json        machine-readable output\n" \
	"  --remote      check the remote (the default one, or -r NAME)\n" \
	"  -r NAME       the remote to check\n" \
	"  --read-data   with --remote: download and hash every pack\n"
#define USAGE_GC \
	"usage: lmdata gc [-n] [--json] SCOPE...\n" \
	"       lmdata gc --remote SCOPE... [-r NAME] [--grace SECONDS] [-n] [--json]\n\n" \
	"Delete objects that no kept version needs.  The work tree's manifests are\n" \
	"always kept; once the repository has commits, say which versions to keep too\n" \
	"(gc refuses otherwise; --dry-run alone shows the --workspace result).  Packs\n" \
	"written in the last hour are never touched, so a concurrent add loses nothing.\n" \
	"With --remote, delete the remote's packs that hold nothing the kept versions\n" \
	"need (same scopes), once this clone has seen them there for --grace seconds\n" \
	"(default 3600); packs partly garbage are kept.\n\n" \
	"  -n, --dry-run        say what would be deleted, delete nothing\n" \
	"  --workspace          only the work tree's manifests\n" \
	"  -a, --all-branches   the tip of every local branch\n" \
	"  -T, --all-tags       every tagged commit\n" \
	"  -A, --all-commits    every commit reachable from any ref\n" \
	"  --rev REV            this commit (repeatable; A..B: every commit in it)\n" \
	"  --keep-since DATE    every reachable commit made at or after DATE\n" \
	"  --json               machine-readable output\n"

#define USAGE_REMOTE \
	"usage: lmdata remote [list] [--json] [-v]\n" \
	"       lmdata remote add [-d|--default] NAME URL\n" \
	"       lmdata remote remove NAME\n" \
	"       lmdata remote rename OLD NEW\n" \
	"       lmdata remote default NAME\n" \
	"       lmdata remote modify [--local] [--unset] NAME KEY [VALUE]\n\n" \
	"Manage remotes: S3-compatible buckets (s3://bucket/prefix) and local folders\n" \
	"(/path or file:///path).  Settings live in .lmdata/config (committed);\n" \
	"credentials only in .lmdata/config.local (--local, never committed).\n\n" \
	"keys: url, endpoint, region, profile, jobs, addressing (auto|path|virtual),\n" \
	"      insecure, anonymous, max_tries, multipart_threshold, part_size,\n" \
	"      access_key_id, secret_access_key, session_token (these three need --local)\n\n" \
	"  -d, --default   make the new remote the default\n" \
	"  --local         write to .lmdata/config.local\n" \
	"  --unset         remove the setting\n" \
	"  --json          list as JSON (secrets masked)\n" \
	"  -v              list every setting (secrets masked)\n"
#define USAGE_PUSH \
	"usage: lmdata push [-r NAME] [-j N] [--json] [--rev REV]... [--all-branches]\n" \
	"                   [--all-tags] [--all-commits] [--workspace] [PATH...]\n\n" \
	"Upload to the remote the packs holding objects that the tracked data (or\n" \
	"PATH...) needs and the remote lacks: packs first, then their indexes.\n" \
	"Interrupted pushes resume: a rerun sends only what is missing.  By default\n" \
	"the work tree's manifests; with --rev or a scope, those versions instead\n" \
	"(add --workspace to include the work tree too).\n\n" \
	"  -r, --remote NAME   the remote (default: the default remote)\n" \
	"  -j, --jobs N        parallel transfers (default: the remote's jobs, 8)\n" \
	"  --rev REV           the data of this commit, tag or branch (repeatable;\n" \
	"                      A..B: every commit in the range, as git rev-list)\n" \
	"  --all-branches      the tip of every local branch\n" \
	"  --all-tags          every tagged commit\n" \
	"  --all-commits       every commit reachable from any ref\n" \
	"  --workspace         the work tree's manifests (with the above)\n" \
	"  --json              print a JSON summary\n"
#define USAGE_FETCH \
	"usage: lmdata fetch [-r NAME] [-j N] [--json] [--rev REV]... [PATH...]\n\n" \
	"Download into the local store the objects the tracked data (or PATH...)\n" \
	"needs and the store lacks, by byte ranges of the remote's packs.  Every\n" \
	"object is checked against its sha256 before it is stored.  The work tree\n" \
	"is not touched (see 'lmdata pull').\n\n" \
	"  -r, --remote NAME   the remote (default: the default remote)\n" \
	"  -j, --jobs N        parallel transfers (default: the remote's jobs, 8)\n" \
	"  --rev REV           the data of this version instead of the work tree's\n" \
	"                      (repeatable; A..B: every commit in the range)\n" \
	"  --json              print a JSON summary\n"
#define USAGE_PULL \
	"usage: lmdata pull [-r NAME] [-j N] [-f] [--json] [--rev REV] [PATH...]\n\n" \
	"Fetch, then check out: make the tracked data (or PATH...) match the\n" \
	"manifests, with objects from the remote.  With --rev, that version's\n" \
	"manifests and data (as 'lmdata checkout REV').  In CI: git clone, then\n" \
	"'lmdata pull --rev v1.3' with credentials in the environment.\n\n" \
	"  -r, --remote NAME   the remote (default: the default remote)\n" \
	"  -j, --jobs N        parallel transfers (default: the remote's jobs, 8)\n" \
	"  -f, --force         overwrite local changes (as 'checkout -f')\n" \
	"  --rev REV           fetch and check out this version\n" \
	"  --json              print a JSON summary\n"

#endif
