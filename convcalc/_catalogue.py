"""The one catalogue of layer kinds: the single source of names, aliases and parameters.

Validation, ``convcalc layers``, option help, shell completion and the docs all read it; no
other module lists a layer type or a parameter name.
"""

from __future__ import annotations

from ._kind import LayerKind, Param
from ._kinds_basic import BASIC_KINDS
from ._kinds_channels import CHANNEL_KINDS
from ._kinds_depthwise import DEPTHWISE_KINDS
from ._kinds_norm import NORM_KINDS
from ._kinds_resize import RESIZE_KINDS
from ._kinds_tokens import TOKEN_KINDS
from ._kinds_transpose import TRANSPOSE_KINDS
from ._kinds_window import WINDOW_KINDS
from ._kinds_windows import WINDOWED_KINDS
from ._values import normalize_name

CATALOGUE: tuple[LayerKind, ...] = (
    *WINDOW_KINDS,
    *DEPTHWISE_KINDS,
    *TRANSPOSE_KINDS,
    *RESIZE_KINDS,
    *NORM_KINDS,
    *CHANNEL_KINDS,
    *TOKEN_KINDS,
    *WINDOWED_KINDS,
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


FAMILIES: dict[str, str] = {
    "conv": "conv{}d",
    "pool": "maxpool{}d",
    "maxpool": "maxpool{}d",
    "avgpool": "avgpool{}d",
    "averagepool": "avgpool{}d",
    "dwconv": "depthwise_conv{}d",
    "depthwiseconv": "depthwise_conv{}d",
    "sepconv": "separable_conv{}d",
    "separableconv": "separable_conv{}d",
    "deconv": "conv{}d_transpose",
    "convtranspose": "conv{}d_transpose",
    "zeropadding": "zeropadding{}d",
    "cropping": "cropping{}d",
    "crop": "cropping{}d",
    "upsampling": "upsampling{}d",
    "globalmaxpool": "global_maxpool{}d",
    "globalavgpool": "global_avgpool{}d",
    "adaptivemaxpool": "adaptive_maxpool{}d",
    "adaptiveavgpool": "adaptive_avgpool{}d",
}
"""Short names without a rank (``conv``, ``pool``): each means the kind of that family whose
rank is its input's number of spatial axes, as ``convcalc conv SHAPE`` does."""


def family(name: str) -> str | None:
    """The family a type name means (``conv``), or None for a name with a rank of its own."""
    key = normalize_name(name)
    return key if key in FAMILIES else None


def family_member(name: str, rank: int) -> LayerKind | None:
    """The kind of family ``name`` for data with ``rank`` spatial axes; None if it has none."""
    template = FAMILIES.get(normalize_name(name))
    return None if template is None else _BY_NAME.get(normalize_name(template.format(rank)))


def find_kind(name: str, rank: int = 2) -> LayerKind | None:
    """The kind a type name means, in any spelling; None when there is none. A family's short
    name (``conv``) means its member for ``rank`` spatial axes, or its 2-D one."""
    key = normalize_name(name)
    if key in FAMILIES:
        return family_member(key, rank) or family_member(key, 2)
    return _BY_NAME.get(key)


def spellings() -> list[str]:
    """Every name a type may be written as, for "did you mean" hints."""
    names = [spelling for kind in CATALOGUE for spelling in (kind.name, *kind.aliases)]
    return names + [name for name in FAMILIES if name not in names]


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
