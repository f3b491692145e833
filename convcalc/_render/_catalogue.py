"""``convcalc layers``: the catalogue as text, drawn entirely from the kinds themselves.

Both functions take the width to wrap to (None: no limit); long lines wrap with a hanging
indent under their own column.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

from .._kind import LayerKind

_LIST_WIDTH = 100
"""Without a terminal width, the listing wraps here, for readable files and pages."""


def _hanging(text: str, indent: int, width: int | None, first: str = "") -> list[str]:
    """``first`` + ``text``, wrapped to ``width`` with later lines indented by ``indent``."""
    limit = max((width or _LIST_WIDTH) - indent, 20)
    lines = textwrap.wrap(text, limit, break_on_hyphens=False) or [""]
    pad = " " * indent
    return [first.ljust(indent) + lines[0], *(pad + line for line in lines[1:])]


def short_names(kind: LayerKind) -> list[str]:
    """The short, lower-case names a kind also answers to (``conv``, ``fc``, ``bn``)."""
    return [alias for alias in kind.aliases if alias.islower() and alias != kind.name]


def list_kinds(width: int | None = None) -> str:
    """One entry per kind: name, then its summary and short names, wrapped; then the
    rank-free names and how to see one kind in full."""
    from .._catalogue import CATALOGUE, FAMILIES

    name_width = max(len(kind.name) for kind in CATALOGUE) + 2
    lines: list[str] = []
    for kind in CATALOGUE:
        shorts = short_names(kind)
        also = f" Also: {', '.join(shorts)}." if shorts else ""
        lines += _hanging(f"{kind.summary}.{also}", name_width, width, kind.name)
    lines.append("")
    families = ", ".join(
        f"{name} ({template.format('N')})" for name, template in _readable(FAMILIES.items())
    )
    lines += _hanging(
        "Rank-free names take the kind whose rank is their input's number of spatial axes: "
        + families
        + ".",
        0,
        width,
    )
    lines.append("")
    lines += _hanging(
        "Names match case-insensitively with _ ignored; Keras and PyTorch class names work "
        "too, and PyTorch's spelled exactly (Conv2d, Linear) take PyTorch's positional order. "
        "`convcalc layers TYPE` shows one type in full.",
        0,
        width,
    )
    return "\n".join(lines) + "\n"


def _readable(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The family names as people write them (``global_avgpool``), one per family member."""
    spelled = {
        "depthwiseconv": "depthwise_conv",
        "separableconv": "separable_conv",
        "convtranspose": "conv_transpose",
        "globalmaxpool": "global_maxpool",
        "globalavgpool": "global_avgpool",
        "adaptivemaxpool": "adaptive_maxpool",
        "adaptiveavgpool": "adaptive_avgpool",
    }
    return [(spelled.get(name, name), template) for name, template in pairs]


def _usage(kind: LayerKind, order: tuple[str, ...]) -> str:
    """The shorthand form: ``conv2d:FILTERS,KERNEL[,STRIDE]...``."""
    if not order:
        return kind.name
    parts: list[str] = []
    names = {param.name for param in kind.params if param.required}
    for position, name in enumerate(order):
        comma = "," if position else ""
        parts.append(f"{comma}{name.upper()}" if name in names else f"[{comma}{name.upper()}]")
    return kind.name + ":" + "".join(parts)


def describe_kind(kind: LayerKind, width: int | None = None) -> str:
    """Everything about one kind: summary, aliases, shorthand, each parameter, and the
    framework arguments it accepts without effect."""
    lines = _hanging(kind.summary, len(kind.name) + 2, width, f"{kind.name}:")
    if kind.aliases:
        lines += _hanging(", ".join(kind.aliases), 12, width, "  also:")
    lines += _hanging(_usage(kind, kind.positional), 13, width, "  shorthand:")
    if kind.torch_positional:
        torch = f"{', '.join(kind.torch_names)}: {', '.join(kind.torch_positional)}"
        lines += _hanging(torch, 17, width, "  pytorch order:")
    if kind.rank is not None:
        lines.append(
            f"  input: {kind.rank} spatial ax{'is' if kind.rank == 1 else 'es'} and channels"
        )
    if kind.params:
        lines.append("  parameters:")
        name_width = max(len(param.name) for param in kind.params)
        indent = 4 + name_width + 2 + 8 + 2
        for param in kind.params:
            aliases = f" (also {', '.join(param.aliases)})" if param.aliases else ""
            head = f"    {param.name:<{name_width}}  {param.default_text:<8}  "
            lines += _hanging(param.help + aliases, indent, width, head)
    else:
        lines.append("  parameters: none")
    if kind.ignored:
        lines += _hanging(
            "accepted and ignored (they change no count): " + ", ".join(kind.ignored),
            4,
            width,
            "  ",
        )
    return "\n".join(lines) + "\n"
