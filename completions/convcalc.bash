_convcalc_completion() {
    # bash splits words at ':' and '=' (COMP_WORDBREAKS), which would cut zoo:NAME and
    # conv:32,3,stride= apart: ask convcalc with the line as typed, split at spaces only, then
    # hand bash back just the part after the last ':' or '=' of the word being completed.
    local line="${COMP_LINE:0:COMP_POINT}"
    local -a parts
    read -ra parts <<< "$line"
    local cword=$(( ${#parts[@]} - 1 ))
    [[ "$line" =~ [[:space:]]$ ]] && cword=$(( cword + 1 ))
    local word="${parts[cword]}"
    local IFS=$'\n'
    COMPREPLY=( $( env COMP_WORDS="$line" \
                   COMP_CWORD=$cword \
                   _CONVCALC_COMPLETE=complete_bash $1 ) )
    if [[ "$word" == *[:=]* ]]; then
        local prefix="${word%"${word##*[:=]}"}"
        local i
        for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]="${COMPREPLY[i]#"$prefix"}"; done
    fi
    if [[ ${#COMPREPLY[@]} -eq 1 && "${COMPREPLY[0]}" == *[=:/] ]]; then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}

complete -o default -F _convcalc_completion convcalc
