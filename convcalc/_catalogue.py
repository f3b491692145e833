"""The one catalogue of layer kinds: the single source of names, aliases and parameters.

Validation, ``convcalc layers``, option help, shell completion and the docs all read it; no
other module lists a layer type or a parameter name.
"""

from __future__ import annotations

from ._kind import LayerKind, Param
from ._kinds_basic import BASIC_KINDS
from ._kinds_depthwise import DEPTHWISE_KINDS
from ._kinds_more import MORE_KINDS
from ._kinds_norm import NORM_KINDS
from ._kinds_transpose import TRANSPOSE_KINDS
from ._kinds_window import WINDOW_KINDS
from ._values import normalize_name

CATALOGUE: tuple[LayerKind, ...] = (
    *WINDOW_KINDS,
    *DEPTHWISE_KINDS,
    *TRANSPOSE_KINDS,
    *MORE_KINDS,
    *NORM_KINDS,
    *BASIC_KINDS,
)
"""Every kind, in the order ``convcalc layers`` lists them."""


def _index() -> dict[str, LayerKind]:
    index: dict[str, LayerKind] = {}
    for kind in CATALOGUE:
        for spelling in (kind.name, *kind.aliases):
            key = normalize_name(spelling)
            if index.get(key, kind) is not kind:
                raise AssertionError(f"{spelling!r} names both {index[key].name} and {kind.name}")
            index[key] = kind
    return index


_BY_NAME = _index()


def find_kind(name: str) -> LayerKind | None:
    """The kind a type name means, in any spelling; None when there is none."""
    return _BY_NAME.get(normalize_name(name))


def spellings() -> list[str]:
    """Every name a type may be written as, for "did you mean" hints."""
    return [spelling for kind in CATALOGUE for spelling in (kind.name, *kind.aliases)]


_PARAMS: dict[str, dict[str, Param]] = {}
"""Per kind, every spelling of every parameter -> the parameter; built on first use."""


_IGNORED: dict[str, frozenset[str]] = {}
"""Per kind, the normalised spellings of the framework arguments it accepts and ignores."""


def is_ignored(kind: LayerKind, name: str) -> bool:
    """Whether ``name`` is a framework argument ``kind`` accepts without effect on any count."""
    ignored = _IGNORED.get(kind.name)
    if ignored is None:
        ignored = _IGNORED[kind.name] = frozenset(normalize_name(n) for n in kind.ignored)
    return normalize_name(name) in ignored


def find_param(kind: LayerKind, name: str) -> Param | None:
    """The parameter of ``kind`` a key means, in any spelling."""
    index = _PARAMS.get(kind.name)
    if index is None:
        index = {
            normalize_name(spelling): param
            for param in kind.params
            for spelling in (param.name, *param.aliases)
        }
        _PARAMS[kind.name] = index
    return index.get(normalize_name(name))
