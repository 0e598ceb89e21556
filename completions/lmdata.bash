# bash completion for lmdata                              -*- shell-script -*-
#
# Completes global options, commands, each command's options and paths:
# any file or folder for `add`, tracked paths (those with a PATH.lmd
# manifest next to them) and folders for status/checkout/ls/rm.

_lmdata_commands="init add status checkout ls rm fsck gc help commit diff log cat hooks remote push fetch pull"

# Remote names from .lmdata/config ([remote "NAME"] sections).
_lmdata_remotes()
{
    local top
    top=$(git rev-parse --show-toplevel 2>/dev/null) || return
    sed -n 's/^[[:space:]]*\[remote "\([^"]*\)"\].*/\1/p' "$top/.lmdata/config" "$top/.lmdata/config.local" 2>/dev/null | sort -u
}

# Tracked paths under the word being completed: each NAME.lmd offered as
# NAME, plus folders to descend into.
_lmdata_tracked()
{
    local cur=$1 f
    local -A seen=()
    local IFS=$'\n'
    for f in $(compgen -f -- "$cur"); do
        if [[ $f == *.lmd && -f $f ]]; then
            f=${f%.lmd}
        elif [[ ! -d $f ]]; then
            continue
        fi
        [[ -n ${seen[$f]-} ]] && continue
        seen[$f]=1
        COMPREPLY+=("$f")
    done
}

# Revisions: branches and tags (for checkout/ls/diff/cat REV).
_lmdata_revs()
{
    local IFS=$'\n'
    COMPREPLY+=($(compgen -W "HEAD $(git for-each-ref --format='%(refname:short)' refs/heads refs/tags 2>/dev/null)" -- "$1"))
}

_lmdata()
{
    local cur prev words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi
    COMPREPLY=()

    # Find the command: the first word that is neither a global option nor
    # the argument of -C.
    local i cmd= cmd_at=0
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            -C|-j|--jobs) ((i++)) ;;
            -*) ;;
            *) cmd=${words[i]}; cmd_at=$i; break ;;
        esac
    done

    if [[ -z $cmd ]]; then
        if [[ $prev == -C ]]; then
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -d -- "$cur"))
        elif [[ $prev == -j || $prev == --jobs ]]; then
            COMPREPLY=()
        elif [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W '-C -q --quiet -v --verbose -j --jobs --no-progress --version -h --help' -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$_lmdata_commands" -- "$cur"))
        fi
        return
    fi

    local opts='-h --help'
    case $cmd in
        init) ;;
        add) opts+=' -j --jobs' ;;
        status) opts+=' --json --check --data -c --remote -r' ;;
        push) opts+=' -r --remote -j --jobs --json --rev --all-branches --all-tags --all-commits --workspace' ;;
        fetch) opts+=' -r --remote -j --jobs --json --rev' ;;
        pull) opts+=' -r --remote -j --jobs -f --force --json --rev' ;;
        remote)
            if ((cword == cmd_at + 1)); then
                COMPREPLY=($(compgen -W 'add list remove rename default modify' -- "$cur"))
                return
            fi
            local sub=${words[cmd_at+1]}
            case $sub in
                add) opts+=' -d --default' ;;
                list) opts+=' --json -v' ;;
                modify) opts+=' --local --unset' ;;
            esac
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$opts" -- "$cur"))
            elif [[ $sub == modify && $prev != modify && $prev != -* && $(( cword - cmd_at )) -ge 3 ]]; then
                COMPREPLY=($(compgen -W 'url endpoint region profile jobs addressing insecure anonymous max_tries multipart_threshold part_size access_key_id secret_access_key session_token' -- "$cur"))
            elif [[ $sub == remove || $sub == rename || $sub == default || $sub == modify ]]; then
                COMPREPLY=($(compgen -W "$(_lmdata_remotes)" -- "$cur"))
            fi
            return ;;
        checkout) opts+=' -f --force --at' ;;
        ls) opts+=' --json --at' ;;
        rm) ;;
        fsck) opts+=' --repair --json --remote -r --read-data' ;;
        gc) opts+=' -n --dry-run --workspace --json -a --all-branches -T --all-tags -A --all-commits --rev --keep-since --remote -r --grace' ;;
        commit) opts+=' -m --message -F --file -n --no-verify' ;;
        diff) opts+=' --stat --json --exit-code --at' ;;
        log) opts+=' -n --max-count --since --until --oneline --json' ;;
        cat) opts+=' --at' ;;
        hooks)
            if ((cword == cmd_at + 1)); then
                COMPREPLY=($(compgen -W 'install uninstall' -- "$cur"))
                return
            fi
            [[ $prev == --hook ]] && { COMPREPLY=($(compgen -W 'pre-commit post-checkout pre-push' -- "$cur")); return; }
            opts+=' --hook --uninstall' ;;
        help)
            ((cword == cmd_at + 1)) &&
                COMPREPLY=($(compgen -W "${_lmdata_commands% help}" -- "$cur"))
            return ;;
        *) return ;;
    esac

    if [[ ( $cmd == add || $cmd == push || $cmd == fetch || $cmd == pull ) && ( $prev == -j || $prev == --jobs ) ]]; then
        return
    fi
    if [[ $prev == -r || $prev == --remote ]]; then
        COMPREPLY=($(compgen -W "$(_lmdata_remotes)" -- "$cur"))
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    case $cmd in
        add)
            compopt -o filenames 2>/dev/null
            local IFS=$'\n'
            COMPREPLY=($(compgen -f -X '*.lmd' -- "$cur")) ;;
        status|checkout|ls|rm|push|fetch|pull)
            compopt -o filenames 2>/dev/null
            [[ $cmd == checkout || $cmd == ls ]] && ((cword == cmd_at + 1)) && _lmdata_revs "$cur"
            _lmdata_tracked "$cur" ;;
        diff|cat)
            compopt -o filenames 2>/dev/null
            _lmdata_revs "$cur"
            _lmdata_tracked "$cur" ;;
        commit|log)
            compopt -o filenames 2>/dev/null
            _lmdata_tracked "$cur" ;;
    esac
} &&
complete -F _lmdata lmdata

# ex: filetype=sh
