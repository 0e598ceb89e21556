# fish completion for lmdata: global options, commands, each command's
# options, any path for `add`, tracked paths (NAME for each NAME.lmd) and
# folders for status/checkout/ls/rm.

set -l __lmdata_cmds init add status checkout ls rm fsck gc help commit diff log cat hooks remote push fetch pull

# Tracked paths under the token being completed, plus folders to descend into.
function __lmdata_tracked
    set -l tok (commandline -ct)
    set -l dir (string unescape -- $tok | string match -r '^.*/')
    for f in $dir*.lmd
        test -f $f; and string replace -r '\.lmd$' '' -- $f
    end
    __fish_complete_directories $tok ''
end

complete -c lmdata -f

# Global options (before the command).
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -s C -r -a '(__fish_complete_directories)' -d 'Run as if started in DIR'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -s q -l quiet -d 'Print only errors'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -s v -l verbose -d 'Print more detail'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -s j -l jobs -x -d 'Threads for hashing, compression and restoring'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -l no-progress -d 'Never draw a progress bar'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -l version -d 'Print the version and exit'
complete -c lmdata -s h -l help -d 'Print help and exit'

# Commands.
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -a init -d 'Set up .lmdata/ in a git work tree'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -a add -d 'Store files or folders and track them'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -a status -d 'Show changes in tracked data'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -a checkout -d 'Restore data to match its manifests'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -a ls -d 'List tracked files'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -a rm -d 'Stop tracking data (it stays on disk)'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -a fsck -d 'Verify the object store'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -a gc -d 'Delete objects no manifest references'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -a remote -d 'Add, list, remove, rename or configure remotes'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -a push -d 'Upload what a remote lacks'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -a fetch -d 'Download (verified) what the store lacks'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -a pull -d 'Fetch, then check out'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -a help -d 'Show the help of a command'

# help COMMAND
complete -c lmdata -n '__fish_seen_subcommand_from help' -a 'init add status checkout ls rm fsck gc commit diff log cat hooks remote push fetch pull'

# add [-j N] PATH...
complete -c lmdata -n '__fish_seen_subcommand_from add' -s j -l jobs -x -d 'Read, hash and compress with N threads'
complete -c lmdata -n '__fish_seen_subcommand_from add' -F

# status [--json] [--check] [PATH...]
complete -c lmdata -n '__fish_seen_subcommand_from status' -l json -d 'Print JSON'
complete -c lmdata -n '__fish_seen_subcommand_from status' -l check -d 'Print nothing when clean, exit 1 when dirty'

# checkout [-f|--force] [PATH...]
complete -c lmdata -n '__fish_seen_subcommand_from checkout' -s f -l force -d 'Overwrite local changes not in the store'

# ls [--json] [PATH...]
complete -c lmdata -n '__fish_seen_subcommand_from ls' -l json -d 'Print JSON'

# Tracked paths for status, checkout, ls and rm.
complete -c lmdata -n '__fish_seen_subcommand_from status checkout ls rm' -a '(__lmdata_tracked)'

# fsck [--repair] [--json]
complete -c lmdata -n '__fish_seen_subcommand_from fsck' -l json -d 'Print JSON'
complete -c lmdata -n '__fish_seen_subcommand_from fsck' -l repair -d 'Drop damaged objects'

# gc [--dry-run] [--workspace] [--json]
complete -c lmdata -n '__fish_seen_subcommand_from gc' -s n -l dry-run -d 'Say what would be freed, delete nothing'
complete -c lmdata -n '__fish_seen_subcommand_from gc' -l workspace -d 'Keep what the work tree manifests reference (default)'
complete -c lmdata -n '__fish_seen_subcommand_from gc' -l json -d 'Print JSON'

# ---- history: commit, diff, log, cat, hooks, revisions, gc scopes ----
function __lmdata_revs
    echo HEAD
    git for-each-ref --format='%(refname:short)' refs/heads refs/tags 2>/dev/null
end
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -a commit -d 'Snapshot changed data and record a git commit'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -a diff -d 'Files added, deleted, changed between versions'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -a log -d 'The commits that changed tracked data'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -a cat -d 'Write one tracked file at a version to stdout'
complete -c lmdata -n "not __fish_seen_subcommand_from $__lmdata_cmds" -a hooks -d 'Install git hooks'
complete -c lmdata -n '__fish_seen_subcommand_from status' -l data -d 'Only data that differs from its manifest'
complete -c lmdata -n '__fish_seen_subcommand_from checkout ls cat diff' -l at -x -d 'The version current at DATE'
complete -c lmdata -n '__fish_seen_subcommand_from checkout ls cat diff' -a '(__lmdata_revs)'
complete -c lmdata -n '__fish_seen_subcommand_from cat diff commit log' -a '(__lmdata_tracked)'
complete -c lmdata -n '__fish_seen_subcommand_from commit' -s m -l message -x -d 'The commit message'
complete -c lmdata -n '__fish_seen_subcommand_from commit' -s F -l file -r -d 'Read the message from FILE'
complete -c lmdata -n '__fish_seen_subcommand_from commit' -s n -l no-verify -d 'Do not run the pre-commit hook'
complete -c lmdata -n '__fish_seen_subcommand_from diff' -l stat -d 'Only a summary'
complete -c lmdata -n '__fish_seen_subcommand_from diff log' -l json -d 'Print JSON'
complete -c lmdata -n '__fish_seen_subcommand_from diff' -l exit-code -d 'Exit 1 when different'
complete -c lmdata -n '__fish_seen_subcommand_from log' -s n -l max-count -x -d 'At most N commits'
complete -c lmdata -n '__fish_seen_subcommand_from log' -l since -x -d 'Commits at or after DATE'
complete -c lmdata -n '__fish_seen_subcommand_from log' -l until -x -d 'Commits at or before DATE'
complete -c lmdata -n '__fish_seen_subcommand_from log' -l oneline -d 'One line per commit'
complete -c lmdata -n '__fish_seen_subcommand_from hooks' -a 'install uninstall'
complete -c lmdata -n '__fish_seen_subcommand_from hooks' -l hook -x -a 'pre-commit post-checkout pre-push' -d 'Only this hook'
complete -c lmdata -n '__fish_seen_subcommand_from hooks' -l uninstall -d 'Remove lmdata hooks'
complete -c lmdata -n '__fish_seen_subcommand_from gc' -s a -l all-branches -d 'Keep the tip of every branch'
complete -c lmdata -n '__fish_seen_subcommand_from gc' -s T -l all-tags -d 'Keep every tagged version'
complete -c lmdata -n '__fish_seen_subcommand_from gc' -s A -l all-commits -d 'Keep every reachable version'
complete -c lmdata -n '__fish_seen_subcommand_from gc' -l rev -x -a '(__lmdata_revs)' -d 'Keep this version'
complete -c lmdata -n '__fish_seen_subcommand_from gc' -l keep-since -x -d 'Keep versions since DATE'

# Remote names from .lmdata/config.
function __lmdata_remotes
    set -l top (git rev-parse --show-toplevel 2>/dev/null); or return
    sed -n 's/^[[:space:]]*\[remote "\([^"]*\)"\].*/\1/p' $top/.lmdata/config $top/.lmdata/config.local 2>/dev/null | sort -u
end

# status -c/--remote [-r NAME]
complete -c lmdata -n '__fish_seen_subcommand_from status' -s c -l remote -d 'Compare with a remote: pushed, not pushed, missing'
complete -c lmdata -n '__fish_seen_subcommand_from status' -s r -x -a '(__lmdata_remotes)' -d 'The remote for -c'

# push / fetch / pull [-r NAME] [-j N] [--json] [PATH...]
complete -c lmdata -n '__fish_seen_subcommand_from push fetch pull' -s r -l remote -x -a '(__lmdata_remotes)' -d 'The remote'
complete -c lmdata -n '__fish_seen_subcommand_from push fetch pull' -s j -l jobs -x -d 'Parallel transfers'
complete -c lmdata -n '__fish_seen_subcommand_from push fetch pull' -l json -d 'Print a JSON summary'
complete -c lmdata -n '__fish_seen_subcommand_from pull' -s f -l force -d 'Overwrite local changes'
complete -c lmdata -n '__fish_seen_subcommand_from push fetch pull' -a '(__lmdata_tracked)'

# remote add|list|remove|rename|default|modify
set -l __lmdata_remote_subs add list remove rename default modify
complete -c lmdata -n "__fish_seen_subcommand_from remote; and not __fish_seen_subcommand_from $__lmdata_remote_subs" -a "$__lmdata_remote_subs"
complete -c lmdata -n '__fish_seen_subcommand_from remote; and __fish_seen_subcommand_from add' -s d -l default -d 'Make it the default'
complete -c lmdata -n '__fish_seen_subcommand_from remote; and __fish_seen_subcommand_from list' -l json -d 'Print JSON (secrets masked)'
complete -c lmdata -n '__fish_seen_subcommand_from remote; and __fish_seen_subcommand_from modify' -l local -d 'Write to .lmdata/config.local'
complete -c lmdata -n '__fish_seen_subcommand_from remote; and __fish_seen_subcommand_from modify' -l unset -d 'Remove the setting'
complete -c lmdata -n '__fish_seen_subcommand_from remote; and __fish_seen_subcommand_from remove rename default modify' -a '(__lmdata_remotes)'

# fsck --remote [-r NAME] [--read-data]
complete -c lmdata -n '__fish_seen_subcommand_from fsck' -l remote -d 'Check the remote instead of the local store'
complete -c lmdata -n '__fish_seen_subcommand_from fsck' -s r -x -a '(__lmdata_remotes)' -d 'The remote to check'
complete -c lmdata -n '__fish_seen_subcommand_from fsck' -l read-data -d 'With --remote: read and hash every pack'

# gc --remote --workspace [-r NAME] [--grace SECONDS]
complete -c lmdata -n '__fish_seen_subcommand_from gc' -l remote -d 'Collect the garbage of a remote'
complete -c lmdata -n '__fish_seen_subcommand_from gc' -s r -x -a '(__lmdata_remotes)' -d 'The remote'
complete -c lmdata -n '__fish_seen_subcommand_from gc' -l grace -x -d 'Seconds a remote pack must have been seen'

# push/fetch/pull --rev; push scopes
complete -c lmdata -n '__fish_seen_subcommand_from push fetch pull' -l rev -x -a '(__lmdata_revs)' -d 'The data of this version'
complete -c lmdata -n '__fish_seen_subcommand_from push' -l all-branches -d 'Every branch tip'
complete -c lmdata -n '__fish_seen_subcommand_from push' -l all-tags -d 'Every tagged version'
complete -c lmdata -n '__fish_seen_subcommand_from push' -l all-commits -d 'Every reachable version'
complete -c lmdata -n '__fish_seen_subcommand_from push' -l workspace -d 'The work tree too'
