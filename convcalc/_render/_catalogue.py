"""``convcalc layers``: the catalogue as text, drawn entirely from the kinds themselves."""

from __future__ import annotations

from .._kind import LayerKind


def list_kinds() -> str:
    """One line per kind: name, positional order, summary; then how to see one in full."""
    from .._catalogue import CATALOGUE

    rows = [(kind.name, _usage(kind), kind.summary) for kind in CATALOGUE]
    name_width = max(len(row[0]) for row in rows)
    usage_width = max(len(row[1]) for row in rows)
    lines = [
        f"{name:<{name_width}}  {usage:<{usage_width}}  {summary}" for name, usage, summary in rows
    ]
    lines.append("")
    lines.append(
        "Names match case-insensitively with _ ignored; Keras and PyTorch class names work "
        "too. `convcalc layers TYPE` shows one type in full."
    )
    return "\n".join(lines) + "\n"


def _usage(kind: LayerKind) -> str:
    """The shorthand form: ``conv2d:FILTERS,KERNEL[,STRIDE]``."""
    if not kind.positional:
        return kind.name
    text = kind.name + ":"
    for position, name in enumerate(kind.positional):
        comma = "," if position else ""
        text += (
            f"{comma}{name.upper()}" if kind.param(name).required else f"[{comma}{name.upper()}]"
        )
    return text


def describe_kind(kind: LayerKind) -> str:
    """Everything about one kind: summary, aliases, shorthand, and each parameter."""
    lines = [f"{kind.name}: {kind.summary}"]
    if kind.aliases:
        lines.append(f"  also: {', '.join(kind.aliases)}")
    lines.append(f"  shorthand: {_usage(kind)}")
    if kind.rank is not None:
        lines.append(
            f"  input: {kind.rank} spatial ax{'is' if kind.rank == 1 else 'es'} and channels"
        )
    if kind.params:
        lines.append("  parameters:")
        width = max(len(param.name) for param in kind.params)
        for param in kind.params:
            aliases = f" (also {', '.join(param.aliases)})" if param.aliases else ""
            lines.append(
                f"    {param.name:<{width}}  {param.default_text:<8}  {param.help}{aliases}"
            )
    else:
        lines.append("  parameters: none")
    return "\n".join(lines) + "\n"
