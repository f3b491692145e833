"""Networks that are not chains: blocks, ``residual``, ``branches`` and ``repeat`` (CONTRACT §9).

The :class:`Reader` walks the model's ``layers`` in execution order and expands everything into
plain nodes: leaf layers (:class:`LayerSpec`) and merges (:class:`MergeSpec`), each with its row
number, a unique dotted name and a depth. Blocks are named, parameterised sub-networks; their
``$name`` values are substituted (``_expr``) at each use.

Work follows what the model really contains, never what a small file could expand to:

- Before anything is expanded the model is *measured*: its rows, and the block uses and repeats
  reading would expand. Measuring costs about the file's size, not the expansion's: a ``repeat``
  measures its layers once and multiplies (``repeat: 0`` measures nothing inside), unused blocks
  are never looked at, and each list of layers is measured once per set of the values of the
  parameters that can change its size (:meth:`Reader._sizing_of`), then remembered. A model of
  more than :data:`MAX_ROWS` rows or :data:`MAX_STEPS` block uses and repeats is refused at
  once, naming the construct that crosses the line.
- Reading counts as it goes too, so even a model that measuring cannot follow (it stops at the
  first problem, which reading then reports) never builds more than the limits.
- Values are substituted with a memory of what was already done, so a structure that shares
  parts (YAML aliases, a Python mapping reusing one list) costs its size, not its expansion; it
  nests at most :data:`MAX_VALUE_DEPTH` deep.
- Block uses with equal arguments share one parameter mapping and one binding, so their layers
  are substituted and checked once and every row of them shares its checked values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

from ._catalogue import find_kind, spellings
from ._errors import SpecError, did_you_mean
from ._expr import ExprError, evaluate, has_reference, references
from ._kind import REQUIRED
from ._settings import Merge
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

MAX_STEPS = 100_000
"""Block uses and repeats the reader may expand, each time it meets them: a thousand times what
a real network has (ResNet-152 uses its blocks 50 times). They make no rows of their own, but
cost reading time all the same (some 10 µs each: a chain of blocks, each using the next twice,
with ``repeat: 0`` at the bottom, makes no rows at all), so they are bounded too."""

MAX_VALUE_DEPTH = 4 * MAX_NESTING + 8
"""Lists and mappings inside one another in one layer's value: the deepest nesting of
constructs the reader follows, written out, at four per level."""

_CANON_DEPTH = 32
"""How deep values are compared for sharing; deeper parts are compared by identity."""

MERGES = Choice(
    tuple(merge.value for merge in Merge),
    (("sum", "add"), ("mul", "multiply"), ("concatenate", "concat")),
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

    ``key`` is the parameter the value belongs to, for messages. A part met twice (shared, as
    YAML aliases make them) is substituted once, and nesting deeper than
    :data:`MAX_VALUE_DEPTH` is refused, so no value costs more than its own size."""
    if isinstance(value, str):  # the common case, without the memory below
        return _substitute_text(value, env, where, key)
    if not isinstance(value, (Mapping, list)):
        return value
    return _Substitution(env, where).value(value, key, 0)


def _substitute_text(text: str, env: Mapping[str, object], where: str, key: str) -> object:
    if not has_reference(text):
        return text
    try:
        return evaluate(text, env)
    except ExprError as problem:
        named = f"{key} {show(text)}" if key else show(text)
        raise SpecError(f"{where}: {named}: {problem}") from None


class _Substitution:
    """One call of :func:`substitute`: remembers each part it has done, by identity."""

    def __init__(self, env: Mapping[str, object], where: str) -> None:
        self.env = env
        self.where = where
        self.done: dict[int, tuple[object, object]] = {}

    def value(self, value: object, key: str, depth: int) -> object:
        if isinstance(value, str):
            return _substitute_text(value, self.env, self.where, key)
        if not isinstance(value, (Mapping, list)):
            return value
        seen = self.done.get(id(value))
        if seen is not None:
            return seen[1]
        if depth >= MAX_VALUE_DEPTH:
            named = f"{key} " if key else ""
            raise SpecError(
                f"{self.where}: {named}nests lists and mappings more than {MAX_VALUE_DEPTH} "
                "deep, too deeply to follow; no network needs that: flatten it"
            )
        result: object
        if isinstance(value, Mapping):
            changed: dict[object, object] = {}
            same = True
            for k, v in value.items():
                new = self.value(v, str(k), depth + 1)
                same = same and new is v
                changed[k] = new
            result = value if same else changed
        else:
            items = []
            same = True
            for v in value:
                new = self.value(v, key, depth + 1)
                same = same and new is v
                items.append(new)
            result = value if same else items
        self.done[id(value)] = (value, result)  # the value is kept: its id stays its own
        return result


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


# -- what can change a block's size ----------------------------------------------------------
class _Sizing(NamedTuple):
    """What one block's own layers say about the parameters its expansion depends on."""

    direct: frozenset[str]
    """Parameters named where they shape the expansion: repeat counts, layer lists, whole items,
    construct bodies, types."""
    passed: tuple[tuple[str, str, frozenset[str]], ...]
    """(block used, its parameter, the parameters named in the argument given for it)."""


def _all_references(value: object) -> set[str]:
    """Every ``$name`` anywhere in a value (its values, not its keys); shared parts once."""
    names: set[str] = set()
    seen: set[int] = set()
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            names |= references(item)
        elif isinstance(item, (Mapping, list, tuple)):
            if id(item) in seen:
                continue
            seen.add(id(item))
            todo.extend(item.values() if isinstance(item, Mapping) else item)
    return names


def _own_sizing(block: BlockDef, blocks: Mapping[str, BlockDef]) -> _Sizing:
    """Where ``block``'s layers name its parameters in a way that can change how much they
    expand to; everything else (a leaf's own parameters, a merge's kind) cannot. Anything not
    understood here counts as shaping, which only makes measuring remember less."""
    direct: set[str] = set()
    passed: list[tuple[str, str, frozenset[str]]] = []
    seen: set[int] = set()
    todo: list[object] = [block.layers]  # lists of layer items

    def layers(value: object) -> None:
        """A place that holds a list of layers (or an expression giving one)."""
        if isinstance(value, str):
            direct.update(references(value))
        elif isinstance(value, Sequence):
            todo.append(value)
        else:
            direct.update(_all_references(value))

    while todo:
        items = todo.pop()
        if not isinstance(items, Sequence) or isinstance(items, str) or id(items) in seen:
            continue
        seen.add(id(items))
        for item in items:
            if isinstance(item, str):
                direct.update(references(item))  # a lone $name may stand for a whole item
                continue
            if not isinstance(item, Mapping):
                continue  # reading refuses it
            if "repeat" in item:
                direct.update(_all_references(item.get("repeat")))
                layers(item.get("layers"))
                continue
            if "type" in item:
                type_name = item["type"]
                if not isinstance(type_name, str) or has_reference(type_name):
                    direct.update(_all_references(item))
                    continue
                body: object = {k: v for k, v in item.items() if k != "type"}
            else:
                keys = [k for k in item if k not in LAYER_KEYS]
                if len(keys) != 1 or not isinstance(keys[0], str):
                    direct.update(_all_references(item))
                    continue
                type_name, body = keys[0], item[keys[0]]
            key = normalize_name(type_name.strip())
            if find_kind(type_name) is not None and key not in ("residual", "branches"):
                continue  # one row, whatever its parameters
            if isinstance(body, str):
                direct.update(references(body))  # the whole body from one parameter
                continue
            if key == "residual":
                if isinstance(body, Mapping):
                    layers(body.get("layers"))
                    layers(body.get("shortcut") or [])
                else:
                    layers(body)
            elif key == "branches":
                paths = body.get("paths") if isinstance(body, Mapping) else None
                if isinstance(paths, Sequence) and not isinstance(paths, str):
                    for path in paths:
                        layers(path or [])
                else:
                    layers(paths or [])
            elif key in blocks:
                used = blocks[key]
                names = [name for name, _ in used.params]
                if isinstance(body, Mapping):
                    given = [(str(k), v) for k, v in body.items() if k not in LAYER_KEYS]
                elif body is None:
                    given = []
                elif isinstance(body, (list, tuple)):
                    given = list(zip(names, body, strict=False))
                else:
                    given = list(zip(names, [body], strict=False))
                for name, value in given:
                    passed.append((key, name, frozenset(_all_references(value))))
    return _Sizing(frozenset(direct), tuple(passed))


class _Stop(Exception):
    """Measuring cannot follow an item: reading it reports why, and counts as it goes."""


class _TooMany(SpecError):
    """The model expands beyond MAX_ROWS or MAX_STEPS."""

    def __init__(self, message: str, placed: bool) -> None:
        super().__init__(message)
        self.placed = placed
        """Whether the message names a top-level layer (where the user can act)."""


class Reader:
    """Expands a model's layers into nodes in execution order (see the module docstring)."""

    def __init__(self, blocks: Mapping[str, BlockDef], input_rank: int = 2) -> None:
        self.blocks = blocks
        self.input_rank = input_rank
        """Spatial axes of the model's input: a rank-free name (``conv``) is first read as its
        family's kind for that rank, so its row is named as its kind (the engine reads it again
        if its input turns out to have another rank)."""
        self.rows = 0
        self.steps = 0
        """Block uses and repeats expanded while reading (see MAX_STEPS)."""
        self.scopes: dict[str, str] = {}
        """Dotted path of every block use and construct -> its type."""
        self._checked: dict[int, tuple[object, Checked, dict[str, object]]] = {}
        """Layer items already checked, by identity (the item is kept, so ids stay unique):
        (item, its checked values, its parameters by name)."""
        self._forms: dict[
            tuple[int, int],
            tuple[object, object, tuple[object, str, object, Mapping[str, object]]],
        ] = {}
        """Items already substituted and split, by identity of the item and its parameters."""
        self._uses: dict[
            tuple[int, int], tuple[object, object, BlockDef, object, bool, Mapping[str, object]]
        ] = {}
        """Block uses already bound, by identity of the (substituted) item and its parameters:
        (item, parameters, block, name, trainable, the block's parameters)."""
        self._envs: dict[object, dict[str, object]] = {}
        """One parameter mapping per block and equal arguments, so that equal uses share the
        work above."""
        self._sizes: dict[tuple[int, object], tuple[object, int, int]] = {}
        """Lists of layers measured: (id, parameters that matter) -> (the list, rows, steps)."""
        self._sizing: dict[str, tuple[str, ...]] = {}
        """Per block: the parameters its size can depend on, in order."""
        self._interned: dict[object, int] = {}
        """Hash-consing of values compared for sharing: structure -> a number."""
        self._kept: list[object] = []
        """Values compared by identity, kept alive so that their ids stay theirs."""

    def read_model(self, items: Sequence[object]) -> list[Node]:
        try:
            self._measure(items, {}, (), (), 0, 0, 0)
        except _Stop:
            pass  # reading reports the problem, with the layer's position
        return self.read_list(items, Scope(), {}, ())

    def measure(self, items: Sequence[object]) -> int:
        """Rows the top-level ``items`` expand to, without expanding them; raises SpecError when
        over the limits, and for anything it cannot follow (reading would say why)."""
        try:
            return self._measure(items, {}, (), (), 0, 0, 0)[0]
        except _Stop:
            raise SpecError("the model cannot be measured: read it to see why") from None

    # -- measuring (no expansion) --------------------------------------------------------------
    def _measure(
        self,
        items: Sequence[object],
        env: Mapping[str, object],
        env_key: object,
        stack: tuple[str, ...],
        depth: int,
        rows_before: int,
        steps_before: int,
    ) -> tuple[int, int]:
        """(rows, block uses and repeats expanded) of a list of layers; ``rows_before`` and
        ``steps_before`` are the totals before it, for positions and the limits."""
        memo_key = (id(items), env_key)
        known = self._sizes.get(memo_key)
        if known is not None and known[0] is items:
            return known[1], known[2]
        rows = steps = 0
        for item in items:
            more_rows, more_steps = self._measure_item(
                item, env, env_key, stack, depth, rows_before + rows, steps_before + steps
            )
            rows += more_rows
            steps += more_steps
        self._sizes[memo_key] = (items, rows, steps)  # the list is kept: its id stays its own
        return rows, steps

    def _measure_item(
        self,
        item: object,
        env: Mapping[str, object],
        env_key: object,
        stack: tuple[str, ...],
        depth: int,
        rows_before: int,
        steps_before: int,
    ) -> tuple[int, int]:
        where = _where(rows_before + 1, stack)
        if depth > MAX_NESTING or len(stack) > MAX_NESTING:
            raise _Stop
        try:
            rows, steps, what, detail = self._measure_checked(
                item, env, env_key, stack, depth, rows_before, steps_before, where
            )
        except _TooMany as problem:
            if problem.placed or depth:
                raise
            raise _TooMany(f"{problem}; it is part of {_describe(item)} at {where}", True) from None
        except SpecError:
            raise _Stop from None
        _limit(what, where, rows, steps, rows_before, steps_before, detail, not depth)
        return rows, steps

    def _measure_checked(
        self,
        item: object,
        env: Mapping[str, object],
        env_key: object,
        stack: tuple[str, ...],
        depth: int,
        rows_before: int,
        steps_before: int,
        where: str,
    ) -> tuple[int, int, str, str]:
        """(rows, steps, what to call the item, how its rows come about) for one item. Only
        what shapes the expansion is substituted: a leaf is one row, whatever its values."""
        if isinstance(item, Mapping) and "repeat" in item:
            count = self._repeat_count(item, env, where)
            if count == 0:
                return 0, 1, "repeat", ""
            layers = self._list(item.get("layers"), "repeat", where)
            rows, steps = self._measure(
                layers, env, env_key, stack, depth, rows_before, steps_before + 1
            )
            return count * rows, 1 + count * steps, "repeat", f"{count:,} times {rows:,}"
        if isinstance(item, str):
            item = _open(item, env, where, "")
        elif isinstance(item, Mapping) and isinstance(item.get("type"), str):
            item = {**item, "type": _open(item["type"], env, where, "type")}
        type_name, body, extra = split_forms(item, where)
        key = normalize_name(type_name)
        if key in self.blocks:  # its arguments, as reading substitutes them
            body = substitute(body, env, where)
        elif key in ("residual", "branches"):
            body = _open(body, env, where, key)
        if key in ("residual", "branches") or key in self.blocks:
            body, extra = _layer_keys_apart(body, extra, where)
        if key == "residual":
            if isinstance(body, Mapping):
                body = {k: _open(v, env, where, str(k)) for k, v in body.items()}
            layers, shortcut = self._residual_parts(body, where)
            main = self._measure(layers, env, env_key, stack, depth + 1, rows_before, steps_before)
            side = self._measure(
                shortcut,
                env,
                env_key,
                stack,
                depth + 1 + bool(layers),
                rows_before + main[0],
                steps_before + main[1],
            )
            return main[0] + side[0] + 1, main[1] + side[1], "residual", ""
        if key == "branches":
            if isinstance(body, Mapping):
                body = {k: _open(v, env, where, str(k)) for k, v in body.items()}
                paths = body.get("paths")
                if isinstance(paths, list):
                    body["paths"] = [_open(path, env, where, "paths") for path in paths]
            _, paths = self._branches_parts(body, where)
            rows = steps = 0
            for path in paths:
                more = self._measure(
                    path,
                    env,
                    env_key,
                    stack,
                    depth + 1,
                    rows_before + rows,
                    steps_before + steps,
                )
                rows += more[0]
                steps += more[1]
            return rows + 1, steps, "branches", ""
        if find_kind(type_name) is not None:
            return 1, 0, show(type_name), ""
        block = self.blocks.get(key)
        if block is None or block.name in stack:
            raise _Stop  # reading says what is wrong
        inner = self._bind(block, body, where)
        rows, steps = self._measure(
            block.layers,
            inner,
            self._env_key(block, inner),
            (*stack, block.name),
            depth + 1,
            rows_before,
            steps_before + 1,
        )
        return rows, 1 + steps, f"block '{block.name}'", ""

    def _env_key(self, block: BlockDef, env: Mapping[str, object]) -> object:
        """What measuring a block's layers under ``env`` depends on: the values of the
        parameters that can change its size, compared by value (lists too). When one of them
        holds a ``$`` expression still to be worked out, every parameter counts."""
        names = self._sizing_of(block)
        canon = _Canon(self)
        parts = []
        for name in names:
            if name in env:
                value_key, pending = canon.key(env[name], 0)
                if pending:
                    break
                parts.append((name, value_key))
        else:
            return (block.name, tuple(parts))
        return (block.name, "all", tuple((k, canon.key(v, 0)[0]) for k, v in env.items()))

    def _sizing_of(self, block: BlockDef) -> tuple[str, ...]:
        """The parameters of ``block`` its expansion can depend on (worked out once, for it and
        every block it reaches, by a fixed point over what each passes to the next)."""
        key = normalize_name(block.name)
        done = self._sizing.get(key)
        if done is not None:
            return done
        own: dict[str, _Sizing] = {}
        todo = [key]
        while todo:
            name = todo.pop()
            if name in own or name in self._sizing or name not in self.blocks:
                continue
            own[name] = _own_sizing(self.blocks[name], self.blocks)
            todo.extend(used for used, _, _ in own[name].passed)
        # What a block needs grows with what the blocks it uses need: a worklist to the fixed
        # point, callees first, each block again whenever one it uses needs more.
        callers: dict[str, set[str]] = {}
        for name, sizing in own.items():
            for used, _, _ in sizing.passed:
                callers.setdefault(used, set()).add(name)
        found: dict[str, set[str]] = {name: set() for name in own}
        queue = list(own)  # popped from the end: the deepest blocks found first
        queued = set(queue)
        while queue:
            name = queue.pop()
            queued.discard(name)
            sizing = own[name]
            defined = dict(self.blocks[name].params)
            needed = set(sizing.direct)
            for used, param, named in sizing.passed:
                theirs = self._sizing.get(used)
                if param in (theirs if theirs is not None else found.get(used, ())):
                    needed |= named
            # A default is substituted where it is used: what it names counts as well.
            grow = [p for p in needed if p in defined]
            while grow:
                for other in _all_references(defined[grow.pop()]):
                    if other not in needed and other in defined:
                        needed.add(other)
                        grow.append(other)
            needed &= defined.keys()
            if needed != found[name]:
                found[name] = needed
                for caller in callers.get(name, ()):
                    if caller not in queued:
                        queue.append(caller)
                        queued.add(caller)
        for name, needed in found.items():
            params = [p for p, _ in self.blocks[name].params]
            self._sizing[name] = tuple(p for p in params if p in needed)
        return self._sizing[key]

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
        where = _where(self.rows + 1, stack)
        if scope.depth > MAX_NESTING or len(stack) > MAX_NESTING:
            raise SpecError(
                f"{where}: blocks and constructs are nested more than {MAX_NESTING} deep "
                f"(blocks in use: {' -> '.join(stack[:3])} ...): too deeply for any network; "
                "flatten it"
            )
        if isinstance(item, Mapping) and "repeat" in item:
            self._count_step(where)
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
        use = self._uses.get((id(item), id(env))) if key in self.blocks else None
        if use is not None and use[0] is item and use[1] is env:  # a block used again
            _, _, used, name, trainable, inner_env = use
            self._check_cycle(used, stack)
            self._count_step(where)
            path = scope.assign(used.name, name, where)
            yield from self._enter(used, path, trainable, inner_env, scope, stack)
            return
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
        kind = find_kind(type_name, self.input_rank)
        if kind is not None:
            self._count_row(where)
            # An unchanged item (the same object: a repeat, a block without $ in it, a block
            # used again with equal arguments) is checked once; `substitute` returns a new
            # object whenever anything changed.
            # Its rows share the checked values and the parameters as placed (kept by a
            # rank-free layer), so a row costs its name and its number.
            prior = self._checked.get(id(item))
            if prior is not None and prior[0] is item:
                yield build_layer(kind, prior[2], where, scope, self.rows, prior[1])[0]
                return
            params = place_positional(kind, body, where, type_name)
            params.update(extra)
            layer, checked = build_layer(kind, params, where, scope, self.rows)
            self._checked[id(item)] = (item, checked, params)
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
        self._count_step(where)
        name = extra.get("name")
        path = scope.assign(block.name, name, where)
        inner_env = self._shared_env(block, self._bind(block, body, f"{where} ({path})"))
        self._uses[(id(item), id(env))] = (item, env, block, name, trainable, inner_env)
        yield from self._enter(block, path, trainable, inner_env, scope, stack)

    def _enter(
        self,
        block: BlockDef,
        path: str,
        trainable: bool,
        inner_env: Mapping[str, object],
        scope: Scope,
        stack: tuple[str, ...],
    ) -> Iterator[Node]:
        """The layers of one use of a block, named ``path``, under its parameters."""
        self.scopes[path] = block.name
        yield from self.read_list(
            block.layers, scope.child(path, trainable), inner_env, (*stack, block.name)
        )

    def _count_row(self, where: str) -> None:
        self.rows += 1
        if self.rows > MAX_ROWS:
            raise SpecError(
                f"{where}: the model has more than {MAX_ROWS:,} rows once its repeats and "
                "blocks are expanded (MAX_ROWS); lower a repeat count"
            )

    def _count_step(self, where: str) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise SpecError(
                f"{where}: the model expands more than {MAX_STEPS:,} block uses and repeats "
                "(MAX_STEPS), even if few rows come out of them; lower a repeat count"
            )

    def _shared_env(self, block: BlockDef, env: dict[str, object]) -> dict[str, object]:
        """The one parameter mapping for this block and these values (compared by value)."""
        canon = _Canon(self)
        key = (block.name, tuple((k, canon.key(v, 0)[0]) for k, v in env.items()))
        return self._envs.setdefault(key, env)

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
            "residual", Merge.ADD, paths, extra, scope, env, stack, where, trainable
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
        merge: Merge,
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
        self._count_row(where)
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

    def _branches_parts(
        self, body: object, where: str
    ) -> tuple[Merge, list[Sequence[object]]]:
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
            merge = Merge(MERGES.parse(body.get("merge", "concat"), 0))
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
        raw = substitute(item.get("repeat"), env, where, "repeat")
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
        listed = ", ".join(names[:8]) + (f", ... ({len(names):,} in all)" if len(names) > 8 else "")
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
                    f" ({listed or 'none'}), got {len(values):,} values"
                )
            given = dict(zip(names, values, strict=False))
        env: dict[str, object] = {}
        known = set(names)
        for key, value in given.items():
            if key not in known:
                raise SpecError(
                    f"{where}: block '{block.name}' has no parameter "
                    f"{show(key)}{did_you_mean(key, names)}; it takes: "
                    f"{listed or 'none'}"
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


def _where(row: int, stack: tuple[str, ...]) -> str:
    """How messages place an item: its row, and the block it is in."""
    return f"layer {row}" + (f" (in block '{stack[-1]}')" if stack else "")


def _open(value: object, env: Mapping[str, object], where: str, key: str) -> object:
    """A value in a place that shapes the expansion: substituted when it is an expression (a
    list of layers from a parameter), as it is otherwise (its items are measured one by one)."""
    if isinstance(value, str) and has_reference(value):
        return substitute(value, env, where, key)
    return value


def _describe(item: object) -> str:
    """What to call a top-level item in a message."""
    if isinstance(item, Mapping) and "repeat" in item:
        return "the repeat"
    try:
        type_name = split_forms(item, "")[0]
    except SpecError:
        return "the layer"
    return f"block '{type_name}'" if find_kind(type_name) is None else show(type_name)


def _limit(
    what: str,
    where: str,
    rows: int,
    steps: int,
    rows_before: int,
    steps_before: int,
    how: str,
    placed: bool,
) -> None:
    """Refuse an item that takes the model over MAX_ROWS rows or MAX_STEPS items."""
    fix = (
        "lower the repeat count" if what == "repeat" else "lower a repeat count or use fewer blocks"
    )
    if rows_before + rows > MAX_ROWS:
        said = (
            f"would make {rows:,} rows" + (f" ({how})" if how else "")
            if rows > MAX_ROWS
            else f"brings the model to {rows_before + rows:,} rows"
        )
        raise _TooMany(
            f"{what} at {where} {said}; a model may have at most {MAX_ROWS:,} rows once its "
            f"repeats and blocks are expanded (MAX_ROWS): {fix}",
            placed,
        )
    if steps_before + steps > MAX_STEPS:
        said = (
            f"would expand {steps:,} block uses and repeats"
            if steps > MAX_STEPS
            else f"brings the block uses and repeats to expand to {steps_before + steps:,}"
        )
        raise _TooMany(
            f"{what} at {where} {said}, making {rows:,} rows; convcalc expands at most "
            f"{MAX_STEPS:,} (MAX_STEPS), even when they make few rows or none: {fix}",
            placed,
        )


class _Canon:
    """Keys that are equal exactly when values are (types included: a list is not a tuple,
    ``1`` is not ``true``), for remembering work by value. Each container is looked at once per
    call (shared parts cost once); structures are numbered in the reader's table."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.done: dict[int, tuple[object, bool]] = {}

    def key(self, value: object, depth: int) -> tuple[object, bool]:
        """(the key, whether the value holds a ``$`` expression not yet worked out)."""
        if isinstance(value, str):
            return (str, value), "$" in value
        if value is None or isinstance(value, (bool, int)):
            return (type(value), value), False
        if isinstance(value, float):
            return (float, repr(value)), False  # -0.0 is not 0.0; nan is nan
        seen = self.done.get(id(value))
        if seen is not None:
            return seen
        result: tuple[object, bool]
        if depth < _CANON_DEPTH and isinstance(value, (list, tuple, Mapping)):
            pending = False
            parts: list[object] = []
            if isinstance(value, Mapping):
                for k, v in value.items():
                    key_of_k = self.key(k, depth + 1)[0]
                    key_of_v, more = self.key(v, depth + 1)
                    parts.append((key_of_k, key_of_v))
                    pending = pending or more
            else:
                for v in value:
                    key_of_v, more = self.key(v, depth + 1)
                    parts.append(key_of_v)
                    pending = pending or more
            table = self.reader._interned
            result = ("value", table.setdefault((type(value), tuple(parts)), len(table))), pending
        else:
            self.reader._kept.append(value)
            result = ("object", id(value)), True
        self.done[id(value)] = result  # `value` lives in the caller's structure meanwhile
        return result
