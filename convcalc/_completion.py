"""Shell-completion candidates, drawn from the catalogue and the zoo.

Runs on every TAB, so it imports only the catalogue (standard library) and the file system.
"""

from __future__ import annotations

import os
import re

from ._catalogue import CATALOGUE, find_kind
from ._values import escape


def layer_types(incomplete: str) -> list[str]:
    """Canonical type names, and short forms, that start with what was typed."""
    lowered = incomplete.lower()
    names = [kind.name for kind in CATALOGUE]
    names += [alias for kind in CATALOGUE for alias in kind.aliases if alias.islower()]
    return sorted({name for name in names if name.startswith(lowered)})


def chain_item(incomplete: str) -> list[str]:
    """A chain item: a layer type, or once ``TYPE:`` is typed, its parameter names (``key=``)."""
    if ":" not in incomplete:
        if incomplete[:1].isdigit():
            return []  # still typing the shape
        return layer_types(incomplete)
    head, _, args = incomplete.partition(":")
    kind = find_kind(head)
    if kind is None:
        return []
    done, _, current = args.rpartition(",")
    prefix = f"{head}:{done}{',' if done else ''}"
    if "=" in current:
        return []
    return [f"{prefix}{param.name}=" for param in kind.params if param.name.startswith(current)]


def param_values(kind_name: str, param: str, incomplete: str) -> list[str]:
    """The words a parameter takes (padding: valid, same, causal; an activation's names),
    from its value type in the catalogue; nothing for numbers."""
    kind = find_kind(kind_name)
    if kind is None:
        return []
    value_type = kind.param(param).type
    words = getattr(value_type, "modes", ()) or getattr(value_type, "names", ())
    return sorted({word for word in words if word.startswith(incomplete.lower())})


def zoo_models(incomplete: str) -> list[str]:
    from ._input._zoo import zoo_names

    return [name for name in zoo_names() if name.startswith(incomplete)]


MODEL_FILES = (".yaml", ".yml", ".json", ".keras", ".onnx")
"""Files offered where a model is read: YAML, a Keras config or archive, an ONNX graph."""


def model_source(incomplete: str) -> list[str]:
    """``zoo:NAME`` entries, model files, and directories to descend into."""
    from ._input._zoo import PREFIX

    if incomplete.startswith(PREFIX):
        return [PREFIX + name for name in zoo_models(incomplete.removeprefix(PREFIX))]
    # the zoo's 122 names wait for "zoo:": a bare TAB offers the files and "zoo:" itself
    candidates: list[str] = []
    folder, _, start = incomplete.rpartition("/")
    directory = folder + "/" if folder else ""
    try:
        entries = sorted(os.scandir(folder or "."), key=lambda entry: entry.name)
    except OSError:
        entries = []
    for entry in entries:
        if not entry.name.startswith(start) or (entry.name.startswith(".") and not start):
            continue
        if escape(entry.name) != entry.name:  # control characters: never offered to a shell
            continue
        if entry.is_dir():
            candidates.append(f"{directory}{entry.name}/")
        elif entry.name.endswith(MODEL_FILES):
            candidates.append(f"{directory}{entry.name}")
    if PREFIX.startswith(incomplete):
        candidates.append(PREFIX)
    return candidates


BASH_SCRIPT = r"""
%(complete_func)s() {
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
                   %(autocomplete_var)s=complete_bash $1 ) )
    if [[ "$word" == *[:=]* ]]; then
        local prefix="${word%%"${word##*[:=]}"}"
        local i
        for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]="${COMPREPLY[i]#"$prefix"}"; done
    fi
    if [[ ${#COMPREPLY[@]} -eq 1 && "${COMPREPLY[0]}" == *[=:/] ]]; then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}

complete -o default -F %(complete_func)s %(prog_name)s
"""
"""typer's bash script, mended for words with ':' and '=' in them."""


def use_our_bash_script() -> None:
    """Make typer emit and install :data:`BASH_SCRIPT` for bash (``--show-completion``), and
    keep zsh and fish completion from importing rich.

    typer passes every candidate's help through ``rich_utils`` whenever rich is installed, to
    strip markup; our help texts have none, so a plain pattern does, without rich's ~40 ms.
    """
    from ._typer_compat import use_bash_script

    use_bash_script(BASH_SCRIPT, _strip_markup)


_MARKUP = re.compile(r"\[/?[a-z]+(?: [a-z]+)*(?:=[^\]]*)?\]")


def _strip_markup(text: str) -> str:
    """Help text without rich markup tags such as ``[bold]`` or ``[/]``."""
    return _MARKUP.sub("", text).replace("[/]", "")
