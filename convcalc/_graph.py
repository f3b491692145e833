"""Networks that are not chains: blocks, ``residual``, ``branches`` and ``repeat`` (CONTRACT §9).

The :class:`Reader` walks the model's ``layers`` in execution order and expands everything into
plain nodes: leaf layers (:class:`LayerSpec`) and merges (:class:`MergeSpec`), each with its row
number, a unique dotted name and a depth. Blocks are named, parameterised sub-networks; their
``$name`` values are substituted (``_expr``) at each use. Before anything is expanded, the whole
model is measured, so a ``repeat`` that would build more than a million rows is refused without
spending memory on it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

from ._catalogue import find_kind, spellings
from ._errors import SpecError, did_you_mean
from ._expr import ExprError, evaluate, has_reference
from ._kind import REQUIRED
from ._spec import (
    LAYER_KEYS,
    Checked,
    MergeSpec,
    Node,
    Scope,
    build_layer,
    place_positional,
    split_forms,
)
from ._values import Choice, Flag, Invalid, WholeNumber, normalize_name, show

MAX_NESTING = 64
"""Blocks within blocks, constructs within constructs: deeper than any real network."""

MAX_ROWS = 1_000_000
"""More reported rows than any real network has; a bigger expansion is a mistake."""

MERGES = Choice(
    ("concat", "add", "multiply"), (("sum", "add"), ("mul", "multiply"), ("concatenate", "concat"))
)
CONSTRUCTS = ("residual", "branches", "repeat")


class BlockDef(NamedTuple):
    """A named, parameterised sub-network from the model's ``blocks``."""

    name: str
    params: tuple[tuple[str, object], ...]
    """(name, default) in order; the default is REQUIRED when the block must be given it."""
    layers: Sequence[object]


def read_blocks(raw: object) -> dict[str, BlockDef]:
    """The ``blocks`` mapping, checked; keyed by normalised name."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise SpecError("'blocks' must map block names to {params: ..., layers: [...]}")
    blocks: dict[str, BlockDef] = {}
    for name, body in raw.items():
        where = f"block {show(str(name))}"
        if not isinstance(name, str) or not name.isidentifier():
            raise SpecError(f"{where}: a block name is a word like basic or bottleneck")
        if find_kind(name) is not None or normalize_name(name) in CONSTRUCTS:
            raise SpecError(f"{where}: that is already a layer type; give the block another name")
        if isinstance(body, Sequence) and not isinstance(body, str):
            body = {"layers": body}
        if not isinstance(body, Mapping):
            raise SpecError(f"{where}: a block is {{params: {{...}}, layers: [...]}}")
        for key in body:
            if key not in ("params", "layers"):
                raise SpecError(
                    f"{where}: unknown key {show(str(key))}"
                    f"{did_you_mean(str(key), ['params', 'layers'])}; "
                    "a block takes params and layers"
                )
        layers = body.get("layers")
        if not isinstance(layers, Sequence) or isinstance(layers, str) or not layers:
            raise SpecError(f"{where}: 'layers' must be a non-empty list of layers")
        blocks[normalize_name(name)] = BlockDef(
            name, _block_params(body.get("params"), where), layers
        )
    return blocks


def _block_params(raw: object, where: str) -> tuple[tuple[str, object], ...]:
    if raw is None:
        return ()
    if isinstance(raw, Mapping):
        pairs = [(str(k), REQUIRED if v is None else v) for k, v in raw.items()]
    elif isinstance(raw, Sequence) and not isinstance(raw, str):
        pairs = [(str(k), REQUIRED) for k in raw]
    else:
        raise SpecError(
            f"{where}: 'params' maps parameter names to defaults, e.g. "
            "{filters: 64, stride: 1} (null for a parameter without a default)"
        )
    for key, _ in pairs:
        if key in LAYER_KEYS:
            raise SpecError(
                f"{where}: a parameter cannot be called '{key}': every use of a block takes "
                f"{key} for itself; choose another name"
            )
        if not key.isidentifier():
            raise SpecError(f"{where}: parameter {show(key)} must be a word, used as ${key}")
    return tuple(pairs)


def substitute(value: object, env: Mapping[str, object], where: str, key: str = "") -> object:
    """``value`` with every ``$`` expression replaced; the same object when there is none.

    ``key`` is the parameter the value belongs to, for messages."""
    if isinstance(value, str):
        if not has_reference(value):
            return value
        try:
            return evaluate(value, env)
        except ExprError as problem:
            named = f"{key} {show(value)}: " if key else ""
            raise SpecError(f"{where}: {named}{problem}") from None
    if isinstance(value, Mapping):
        changed = {k: substitute(v, env, where, str(k)) for k, v in value.items()}
        same = all(changed[k] is v for k, v in value.items())
        return value if same else changed
    if isinstance(value, list):
        items = [substitute(v, env, where, key) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def _layer_keys_apart(
    body: object, extra: Mapping[str, object], where: str
) -> tuple[object, Mapping[str, object]]:
    """A block use's or construct's own ``name`` and ``trainable``, wherever they were written:
    beside the type (``{basic: {...}, name: b1}``) or among its arguments (``basic: {name: b1,
    ...}``, ``{type: basic, name: b1, ...}``)."""
    if not isinstance(body, Mapping) or not any(key in body for key in LAYER_KEYS):
        return body, extra
    merged = dict(extra)
    for key in LAYER_KEYS:
        if key in body:
            if key in merged:
                raise SpecError(f"{where}: {key} is given twice; give it once")
            merged[key] = body[key]
    return {k: v for k, v in body.items() if k not in LAYER_KEYS}, merged


class Reader:
    """Expands a model's layers into nodes in execution order (see the module docstring)."""

    def __init__(self, blocks: Mapping[str, BlockDef]) -> None:
        self.blocks = blocks
        self.rows = 0
        self.scopes: dict[str, str] = {}
        """Dotted path of every block use and construct -> its type."""
        self._checked: dict[int, tuple[object, Checked]] = {}
        """Layer items already checked, by identity (the item is kept, so ids stay unique)."""
        self._forms: dict[
            tuple[int, int],
            tuple[object, object, tuple[object, str, object, Mapping[str, object]]],
        ] = {}
        """Items already substituted and split, by identity of the item and its parameters."""

    def read_model(self, items: Sequence[object]) -> list[Node]:
        total = self.measure(items, {}, ())
        if total > MAX_ROWS:
            raise SpecError(
                f"the model would have {total:,} layers once its repeats and blocks are "
                f"expanded; convcalc refuses more than {MAX_ROWS:,}: lower a repeat count"
            )
        return self.read_list(items, Scope(), {}, ())

    # -- measuring (no expansion) --------------------------------------------------------------
    def measure(
        self, items: Sequence[object], env: Mapping[str, object], stack: tuple[str, ...]
    ) -> int:
        total = 0
        for item in items:
            total += self._measure_item(item, env, stack)
            if total > MAX_ROWS:
                return total
        return total

    def _measure_item(self, item: object, env: Mapping[str, object], stack: tuple[str, ...]) -> int:
        try:
            return self._measure_checked(item, env, stack)
        except SpecError:
            return 1  # reading reports the problem, with the layer's position

    def _measure_checked(
        self, item: object, env: Mapping[str, object], stack: tuple[str, ...]
    ) -> int:
        where = "a layer"
        if isinstance(item, Mapping) and "repeat" in item:
            count = self._repeat_count(item, env, where)
            return count * self.measure(self._list(item.get("layers"), "repeat", where), env, stack)
        if not isinstance(item, (str, Mapping)):
            return 1  # reading it reports the problem with its position
        item = substitute(item, env, where)
        if not isinstance(item, (str, Mapping)):
            return 1
        type_name, body, _ = split_forms(item, where)
        key = normalize_name(type_name)
        body, _ = _layer_keys_apart(body, {}, where)
        if key == "residual":
            layers, shortcut = self._residual_parts(body, where)
            return self.measure(layers, env, stack) + self.measure(shortcut, env, stack) + 1
        if key == "branches":
            _, paths = self._branches_parts(body, where)
            return sum(self.measure(path, env, stack) for path in paths) + 1
        block = self.blocks.get(key)
        if block is None or block.name in stack or len(stack) > MAX_NESTING:
            return 1  # reading reports it
        inner = self._bind(block, body, where)
        return self.measure(block.layers, inner, (*stack, block.name))

    # -- reading -----------------------------------------------------------------------------
    def read_list(
        self,
        items: Sequence[object],
        scope: Scope,
        env: Mapping[str, object],
        stack: tuple[str, ...],
    ) -> list[Node]:
        nodes: list[Node] = []
        for item in items:
            nodes.extend(self.read_item(item, scope, env, stack))
        return nodes

    def read_item(
        self, item: object, scope: Scope, env: Mapping[str, object], stack: tuple[str, ...]
    ) -> Iterator[Node]:
        where = f"layer {self.rows + 1}" + (f" (in block '{stack[-1]}')" if stack else "")
        if scope.depth > MAX_NESTING or len(stack) > MAX_NESTING:
            raise SpecError(
                f"{where}: blocks and constructs are nested more than {MAX_NESTING} deep "
                f"(blocks in use: {' -> '.join(stack[:3])} ...); no network needs that"
            )
        if isinstance(item, Mapping) and "repeat" in item:
            yield from self._repeat(item, scope, env, stack, where)
            return
        # Copies of a repeated item meet the same item and parameters again: read it once.
        seen = self._forms.get((id(item), id(env)))
        if seen is not None and seen[0] is item and seen[1] is env:
            item, type_name, body, extra = seen[2]
        else:
            original = item
            item = substitute(item, env, where)
            type_name, body, extra = split_forms(item, where)
            self._forms[(id(original), id(env))] = (original, env, (item, type_name, body, extra))
        key = normalize_name(type_name)
        # A construct or block checks its `trainable` here; a leaf checks its own, with its name.
        grouping = key in ("residual", "branches") or key in self.blocks
        if grouping:
            body, extra = _layer_keys_apart(body, extra, where)
        trainable = self._trainable(extra, where) if grouping else True
        if key == "residual":
            yield self._residual(body, extra, scope, env, stack, where, trainable)
            return
        if key == "branches":
            yield self._branches(body, extra, scope, env, stack, where, trainable)
            return
        kind = find_kind(type_name)
        if kind is not None:
            self.rows += 1
            params = place_positional(kind, body, where, type_name)
            params.update(extra)
            # An unchanged item (the same object: a repeat, a block without $ in it) is
            # checked once; `substitute` returns a new object whenever anything changed.
            prior = self._checked.get(id(item))
            cached = prior[1] if prior is not None and prior[0] is item else None
            layer, checked = build_layer(kind, params, where, scope, self.rows, cached)
            self._checked[id(item)] = (item, checked)
            yield layer
            return
        block = self.blocks.get(key)
        if block is None:
            names = [*spellings(), *CONSTRUCTS, *(b.name for b in self.blocks.values())]
            raise SpecError(
                f"{where}: unknown layer type {show(type_name)}"
                f"{did_you_mean(type_name, names)}; `convcalc layers` lists them"
            )
        self._check_cycle(block, stack)
        path = scope.assign(block.name, extra.get("name"), where)
        self.scopes[path] = block.name
        inner_env = self._bind(block, body, f"{where} ({path})")
        yield from self.read_list(
            block.layers, scope.child(path, trainable), inner_env, (*stack, block.name)
        )

    def _repeat(
        self,
        item: Mapping[object, object],
        scope: Scope,
        env: Mapping[str, object],
        stack: tuple[str, ...],
        where: str,
    ) -> Iterator[Node]:
        for key in item:
            if key not in ("repeat", "layers"):
                raise SpecError(
                    f"{where}: a repeat takes 'repeat' (the count) and 'layers'; "
                    f"unknown key {show(str(key))}"
                )
        count = self._repeat_count(item, env, where)
        layers = self._list(item.get("layers"), "repeat", where)
        for _ in range(count):
            yield from self.read_list(layers, scope, env, stack)

    def _residual(
        self,
        body: object,
        extra: Mapping[str, object],
        scope: Scope,
        env: Mapping[str, object],
        stack: tuple[str, ...],
        where: str,
        trainable: bool,
    ) -> MergeSpec:
        layers, shortcut = self._residual_parts(body, where)
        paths = [("layers", layers, None), ("shortcut", shortcut, "shortcut")]
        return self._merge_node(
            "residual", "add", paths, extra, scope, env, stack, where, trainable
        )

    def _branches(
        self,
        body: object,
        extra: Mapping[str, object],
        scope: Scope,
        env: Mapping[str, object],
        stack: tuple[str, ...],
        where: str,
        trainable: bool,
    ) -> MergeSpec:
        merge, paths = self._branches_parts(body, where)
        labelled: list[tuple[str, Sequence[object], str | None]] = [
            (f"path {number}", path, None) for number, path in enumerate(paths, 1)
        ]
        return self._merge_node(
            "branches", merge, labelled, extra, scope, env, stack, where, trainable
        )

    def _merge_node(
        self,
        construct: str,
        merge: str,
        paths: list[tuple[str, Sequence[object], str | None]],
        extra: Mapping[str, object],
        scope: Scope,
        env: Mapping[str, object],
        stack: tuple[str, ...],
        where: str,
        trainable: bool,
    ) -> MergeSpec:
        """Paths read in order inside the construct's scope, then the merge row.

        Each path is (label for messages, its layers, the name of a sub-scope or None to share
        the construct's own scope, as a residual's main layers do).
        """
        path = scope.assign(construct, extra.get("name"), where)
        self.scopes[path] = construct
        inner = scope.child(path, trainable)
        read: list[tuple[Node, ...]] = []
        for _, layers, sub in paths:
            target = inner
            if sub is not None and layers:
                sub_path = inner.assign(sub, None, where)
                self.scopes[sub_path] = sub
                target = inner.child(sub_path)
            read.append(tuple(self.read_list(layers, target, env, stack)))
        self.rows += 1
        inner.assign(merge, None, where)
        labels = tuple(label for label, _, _ in paths)
        return MergeSpec(construct, path, merge, tuple(read), labels, self.rows, inner.depth)

    # -- the parts of each construct -----------------------------------------------------------
    def _residual_parts(
        self, body: object, where: str
    ) -> tuple[Sequence[object], Sequence[object]]:
        if isinstance(body, Sequence) and not isinstance(body, str):
            return body, ()
        if not isinstance(body, Mapping):
            raise SpecError(
                f"{where}: residual takes {{layers: [...], shortcut: [...]}} "
                "(shortcut optional: identity when absent)"
            )
        for key in body:
            if key not in ("layers", "shortcut"):
                raise SpecError(
                    f"{where}: residual takes layers and shortcut; unknown key "
                    f"{show(str(key))}{did_you_mean(str(key), ['layers', 'shortcut'])}"
                )
        layers = self._list(body.get("layers"), "residual", where)
        shortcut = body.get("shortcut") or []
        if not isinstance(shortcut, Sequence) or isinstance(shortcut, str):
            raise SpecError(f"{where}: a residual's 'shortcut' is a list of layers")
        return layers, shortcut

    def _branches_parts(self, body: object, where: str) -> tuple[str, list[Sequence[object]]]:
        if not isinstance(body, Mapping):
            raise SpecError(
                f"{where}: branches takes {{merge: concat|add|multiply, paths: [[...], [...]]}}}}"
            )
        for key in body:
            if key not in ("merge", "paths"):
                raise SpecError(
                    f"{where}: branches takes merge and paths; unknown key "
                    f"{show(str(key))}{did_you_mean(str(key), ['merge', 'paths'])}"
                )
        try:
            merge = MERGES.parse(body.get("merge", "concat"), 0)
        except Invalid as problem:
            raise SpecError(
                f"{where}: merge {show(body.get('merge'))} is not valid: {problem.reason}"
            ) from None
        paths = body.get("paths")
        if not isinstance(paths, Sequence) or isinstance(paths, str) or len(paths) < 2:
            raise SpecError(
                f"{where}: branches needs 'paths': a list of at least two paths, "
                "each a list of layers ([] is the identity)"
            )
        for number, path in enumerate(paths, start=1):
            if path is None:
                continue
            if not isinstance(path, Sequence) or isinstance(path, str):
                raise SpecError(f"{where}: path {number} of branches must be a list of layers")
        return merge, [p or [] for p in paths]

    @staticmethod
    def _list(value: object, construct: str, where: str) -> Sequence[object]:
        if not isinstance(value, Sequence) or isinstance(value, str) or not value:
            raise SpecError(f"{where}: {construct} needs 'layers': a non-empty list of layers")
        return value

    @staticmethod
    def _repeat_count(item: Mapping[object, object], env: Mapping[str, object], where: str) -> int:
        raw = substitute(item.get("repeat"), env, where)
        try:
            return WholeNumber(minimum=0).parse(raw, 0)
        except Invalid:
            raise SpecError(
                f"{where}: repeat {show(raw)} is not valid: it is how many times "
                "to repeat the layers, an integer >= 0"
            ) from None

    @staticmethod
    def _trainable(extra: Mapping[str, object], where: str) -> bool:
        raw = extra.get("trainable", True)
        try:
            return Flag().parse(raw, 0)
        except Invalid as problem:
            raise SpecError(
                f"{where}: trainable {show(raw)} is not valid: {problem.reason}"
            ) from None

    def _check_cycle(self, block: BlockDef, stack: tuple[str, ...]) -> None:
        if block.name in stack:
            loop = " -> ".join((*stack[stack.index(block.name) :], block.name))
            raise SpecError(
                f"block '{block.name}' uses itself ({loop}); a block cannot "
                "contain itself, directly or through another block"
            )

    @staticmethod
    def _bind(block: BlockDef, body: object, where: str) -> dict[str, object]:
        """The block's parameters for one use: the arguments given, then the defaults."""
        names = [name for name, _ in block.params]
        if isinstance(body, Mapping):
            given = {str(k): v for k, v in body.items()}
        elif body is None:
            given = {}
        else:
            values = list(body) if isinstance(body, (list, tuple)) else [body]
            if len(values) > len(names):
                raise SpecError(
                    f"{where}: block '{block.name}' takes {len(names)} "
                    f"parameter{'s' if len(names) != 1 else ''}"
                    f" ({', '.join(names) or 'none'}), got {len(values)} values"
                )
            given = dict(zip(names, values, strict=False))
        env: dict[str, object] = {}
        for key, value in given.items():
            if key not in names:
                raise SpecError(
                    f"{where}: block '{block.name}' has no parameter "
                    f"{show(key)}{did_you_mean(key, names)}; it takes: "
                    f"{', '.join(names) or 'none'}"
                )
            env[key] = value
        for name, default in block.params:
            if name not in env:
                if default is REQUIRED:
                    raise SpecError(
                        f"{where}: block '{block.name}' needs its parameter "
                        f"'{name}'; give it, e.g. {block.name}: {{{name}: ...}}"
                    )
                env[name] = default
        return env
