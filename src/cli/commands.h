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
	"usage: lmdata status [--check] [--json] [PATH...]\n" \
	"       lmdata status -c [-r NAME] [--check] [--json] [PATH...]\n\n" \
	"Show tracked data that differs from its manifests, and manifests git has\n" \
	"not committed.  With -c, show per dataset what is pushed to the remote,\n" \
	"not pushed (objects, bytes) or missing locally.\n\n" \
	"  --check        print nothing when clean; exit 1 when anything is dirty\n" \
	"  --json         machine-readable output\n" \
	"  -c, --remote   compare the store with the remote instead of the work tree\n" \
	"  -r NAME        the remote to compare with (default: the default remote)\n"
#define USAGE_CHECKOUT \
	"usage: lmdata checkout [-f] [PATH...]\n\n" \
	"Make tracked data match the work tree's manifests: restore deleted or\n" \
	"modified files (verified, atomically) and remove files a folder's manifest\n" \
	"does not list.  Refuses to overwrite changes stored nowhere (exit 1).\n\n" \
	"  -f, --force   overwrite local changes even if they are not stored\n"
#define USAGE_LS \
	"usage: lmdata ls [--json] [PATH...]\n\n" \
	"List tracked files: mode, size, sha256 and path.\n\n" \
	"  --json   machine-readable output\n"
#define USAGE_RM \
	"usage: lmdata rm PATH...\n\n" \
	"Stop tracking PATH: remove PATH.lmd and its .gitignore line and stage both.\n" \
	"The data itself stays on disk.\n"
#define USAGE_FSCK \
	"usage: lmdata fsck [--json]\n" \
	"       lmdata fsck --remote [-r NAME] [--read-data] [--json] [PATH...]\n\n" \
	"Re-verify every pack and object against its hash, and that every object the\n" \
	"manifests need is present.  Exit 1 naming damaged objects and the files\n" \
	"that use them.  With --remote, check instead that the remote has every\n" \
	"object the data (or PATH...) needs, and with --read-data that every pack\n" \
	"on it hashes to its name.\n\n" \
	"  --json          machine-readable output\n" \
	"  --remote        check the remote (the default one, or -r NAME)\n" \
	"  -r NAME         the remote to check\n" \
	"  --read-data     with --remote: download and hash every pack\n"
#define USAGE_GC \
	"usage: lmdata gc [--dry-run] [--workspace] [--json]\n" \
	"       lmdata gc --remote --workspace [-r NAME] [--grace SECONDS] [--dry-run] [--json]\n\n" \
	"Delete objects that no manifest in the work tree references.  With\n" \
	"--remote, delete the remote's packs that hold nothing the manifests need,\n" \
	"once this clone has seen them there for --grace seconds (default 3600);\n" \
	"packs partly garbage are kept.  --remote needs an explicit scope.\n\n" \
	"  -n, --dry-run   say what would be deleted, delete nothing\n" \
	"  --workspace     keep what the work tree's manifests need (the default)\n" \
	"  --json          machine-readable output\n"

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
	"usage: lmdata push [-r NAME] [-j N] [--json] [PATH...]\n\n" \
	"Upload to the remote the packs holding objects that the tracked data (or\n" \
	"PATH...) needs and the remote lacks: packs first, then their indexes.\n" \
	"Interrupted pushes resume: a rerun sends only what is missing.\n\n" \
	"  -r, --remote NAME   the remote (default: the default remote)\n" \
	"  -j, --jobs N        parallel transfers (default: the remote's jobs, 8)\n" \
	"  --json              print a JSON summary\n"
#define USAGE_FETCH \
	"usage: lmdata fetch [-r NAME] [-j N] [--json] [PATH...]\n\n" \
	"Download into the local store the objects the tracked data (or PATH...)\n" \
	"needs and the store lacks, by byte ranges of the remote's packs.  Every\n" \
	"object is checked against its sha256 before it is stored.  The work tree\n" \
	"is not touched (see 'lmdata pull').\n\n" \
	"  -r, --remote NAME   the remote (default: the default remote)\n" \
	"  -j, --jobs N        parallel transfers (default: the remote's jobs, 8)\n" \
	"  --json              print a JSON summary\n"
#define USAGE_PULL \
	"usage: lmdata pull [-r NAME] [-j N] [-f] [--json] [PATH...]\n\n" \
	"Fetch, then check out: make the tracked data (or PATH...) match the\n" \
	"manifests, with objects from the remote.  In CI: git clone, then\n" \
	"'lmdata pull' with credentials in the environment.\n\n" \
	"  -r, --remote NAME   the remote (default: the default remote)\n" \
	"  -j, --jobs N        parallel transfers (default: the remote's jobs, 8)\n" \
	"  -f, --force         overwrite local changes (as 'checkout -f')\n" \
	"  --json              print a JSON summary\n"

#endif
