"""Where a diagram's boxes and edges go: layers from top to bottom, in pure Python.

A network is a graph whose nodes come in execution order (every edge points from an earlier
node to a later one), mostly one long chain with branches, merges and skips. It is laid out
in the layered manner of Sugiyama, Tagawa and Toda, in four steps:

1. **Layers.** Each node sits one layer below its lowest source (longest path from the top),
   so every edge points down.
2. **Long edges.** An edge over several layers passes one waypoint (a *dummy*, no wider than
   a line) in each layer between. A node's long edges share one trunk of waypoints, from
   which each consumer branches off at its own layer.
3. **Order within each layer.** Barycentre sweeps, down and up, ties kept in execution
   order and waypoints after the boxes they pass (so skips and shortcuts run beside the main
   column, on the right, an inner skip nearer than an outer one); the order with the fewest
   crossings is kept.
4. **Horizontal positions.** Each box is aligned with its main neighbour above and below
   (the branch that goes on longest; at a merge, the input made last), which makes vertical
   blocks: a chain is one straight column. Blocks and waypoints are packed left to right with
   gaps, then moved, a few times over, toward the mean of their neighbours within the room
   the ones beside them leave; last, each trunk's waypoints are put in straight runs wherever
   that room allows, so a skip is a straight line beside the column.

Everything is deterministic, and about linear in the nodes and waypoints: a network of a few
hundred rows takes milliseconds, 5,000 boxes under half a second. Waypoints, though, can grow
with the square of the nodes (every row taking one far above it: 1,200 rows, each taking the
row 600 back, need 360,000), so :func:`layout` refuses a graph that needs more than
:data:`MAX_WAYPOINTS` before making any (the zoo's largest, NASNet-Large, needs 1,598).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

from .._errors import SpecError


class Spacing(NamedTuple):
    """The sizes the layout works with, in pixels."""

    box_width: float
    box_height: float
    layer_gap: float = 36.0
    """Between the bottom of one layer's boxes and the top of the next's."""
    box_gap: float = 28.0
    """Between two boxes side by side."""
    line_gap: float = 14.0
    """Between a waypoint of a long edge and whatever is beside it."""


class Route(NamedTuple):
    """One edge: from the bottom of ``source``'s box to the top of ``target``'s."""

    source: int
    target: int
    hops: int
    """Waypoints passed, one per layer between the two boxes (0 for neighbours): the first
    ``hops`` of the source's trunk (:attr:`Layout.trunks`)."""


class Layout(NamedTuple):
    """Where everything is: box centres and tops, layers, and the edges' routes."""

    x: tuple[float, ...]
    """Each node's centre, from 0 at the left edge of the leftmost box or waypoint."""
    layer: tuple[int, ...]
    """Each node's layer, from 0 at the top."""
    routes: tuple[Route, ...]
    """One per edge, in the order the edges were given (each node's sources in turn)."""
    trunks: dict[int, tuple[float, ...]]
    """A node with long edges -> the x of its trunk's waypoints, one per layer from the one
    below it down: in those layers its long edges run straight down, from the layer's top to
    its bottom, together, and each leaves the trunk above its own target."""
    width: float
    height: float
    spacing: Spacing

    def top(self, layer: int) -> float:
        """The y of the top of the boxes in ``layer``."""
        return layer * (self.spacing.box_height + self.spacing.layer_gap)

    def via(self, route: Route) -> tuple[float, ...]:
        """The x of each waypoint ``route`` passes, from the top."""
        return self.trunks[route.source][: route.hops] if route.hops else ()


SWEEPS = 4
"""Rounds of barycentre ordering (each one down and one up)."""

PASSES = 24
"""Rounds of moving blocks toward their neighbours (alternately left to right and back)."""

MAX_WAYPOINTS = 10_000
"""The most waypoints a layout makes (one for each layer a long edge passes; a node's long
edges share them): about 2 seconds and 600 KB of SVG. Beyond, folding blocks (``--depth``)
shortens the edges."""


class TooManyWaypoints(SpecError):
    """A graph whose long edges would need more than :data:`MAX_WAYPOINTS` waypoints."""


def layout(
    sources: Sequence[Sequence[int]], spacing: Spacing, *, max_waypoints: int = MAX_WAYPOINTS
) -> Layout:
    """Lay out a graph of ``len(sources)`` nodes, each given the earlier nodes it takes
    (``sources[0]`` is normally empty: the input). A source that is not an earlier node is
    left out. Every node is a box of ``spacing``'s size. A graph that needs more than
    ``max_waypoints`` waypoints is refused (:class:`TooManyWaypoints`) before any is made."""
    graph = _Graph(sources, max_waypoints)
    order = _order(graph)
    x = _positions(graph, order, spacing)
    left = min((x[node] - graph.width(node, spacing) / 2 for node in range(graph.size)), default=0)
    x = [value - left for value in x]
    width = max((x[node] + graph.width(node, spacing) / 2 for node in range(graph.size)), default=0)
    routes = tuple(Route(source, target, hops) for source, target, hops in graph.edges)
    trunks = {source: tuple(x[dummy] for dummy in trunk) for source, trunk in graph.trunks.items()}
    layers = max(graph.layer[: graph.real], default=-1) + 1
    height = layers * spacing.box_height + max(layers - 1, 0) * spacing.layer_gap
    return Layout(
        x=tuple(x[: graph.real]),
        layer=tuple(graph.layer[: graph.real]),
        routes=routes,
        trunks=trunks,
        width=width,
        height=height,
        spacing=spacing,
    )


class _Graph:
    """The layered graph: the real nodes first (0 to ``real`` - 1), then the waypoints."""

    def __init__(self, sources: Sequence[Sequence[int]], max_waypoints: int) -> None:
        self.real = len(sources)
        edges, layer = _layered(sources)
        self.layer = layer
        needed = _waypoints(layer, edges)
        if needed > max_waypoints:
            raise TooManyWaypoints(
                f"a diagram draws at most {max_waypoints:,} waypoints of long edges (one in "
                f"each layer an edge passes), and this one needs {needed:,}; fold blocks with "
                "a smaller --depth N, or use --format table, json, markdown or csv"
            )
        self.key: list[float] = [float(node) for node in range(self.real)]
        """Initial order within a layer: execution order; a waypoint after its next box."""
        self.height = _heights(self.real, edges)
        self.up: list[list[int]] = [[] for _ in range(self.real)]
        self.down: list[list[int]] = [[] for _ in range(self.real)]
        self.origin: list[int] = list(range(self.real))
        """The real node a waypoint's trunk starts from (a real node: itself)."""
        self.reach: list[int] = list(self.height)
        """How far a node's paths go on: a real node's height, a waypoint's furthest
        consumer's."""
        trunks = self._trunks(edges)
        self.trunks = trunks
        """Each node's chain of waypoints, from the top (none: no long edges)."""
        self.edges: list[tuple[int, int, int]] = []
        """Each edge: source, target and the waypoints it passes."""
        for source, target in edges:
            hops = layer[target] - layer[source] - 1
            self.edges.append((source, target, hops))
            self._link(trunks[source][hops - 1] if hops else source, target)

    @property
    def size(self) -> int:
        return len(self.layer)

    def width(self, node: int, spacing: Spacing) -> float:
        return spacing.box_width if node < self.real else 0.0

    def _link(self, upper: int, lower: int) -> None:
        self.down[upper].append(lower)
        self.up[lower].append(upper)

    def _trunks(self, edges: list[tuple[int, int]]) -> dict[int, list[int]]:
        """One chain of waypoints per node with long edges, down to its furthest consumer's
        layer (less one)."""
        ends: dict[int, list[int]] = {}
        for source, target in edges:
            if self.layer[target] > self.layer[source] + 1:
                ends.setdefault(source, []).append(target)
        trunks: dict[int, list[int]] = {}
        for source, targets in ends.items():
            # the consumers still below each layer of the trunk: a suffix of these, by layer
            targets.sort(key=self.layer.__getitem__)
            nearest, furthest = (
                _suffix(targets, min),
                _suffix([self.height[t] for t in targets], max),
            )
            chain: list[int] = []
            previous, below = source, 0
            for at in range(self.layer[source] + 1, self.layer[targets[-1]]):
                while self.layer[targets[below]] <= at:
                    below += 1
                dummy = len(self.layer)
                self.layer.append(at)
                # After the boxes of its layer (the nearest consumer's position in execution
                # order): a skip runs beside the column, the nearer its end the closer.
                self.key.append(nearest[below] + 0.5)
                self.up.append([])
                self.down.append([])
                self.origin.append(source)
                self.reach.append(furthest[below])
                self._link(previous, dummy)
                chain.append(dummy)
                previous = dummy
            trunks[source] = chain
        return trunks


def waypoints(sources: Sequence[Sequence[int]]) -> int:
    """How many waypoints :func:`layout` makes for ``sources`` (counted, none made)."""
    edges, layer = _layered(sources)
    return _waypoints(layer, edges)


def _layered(sources: Sequence[Sequence[int]]) -> tuple[list[tuple[int, int]], list[int]]:
    """The edges (``(source, target)``, in target order; a source that is not an earlier node
    left out) and each node's layer: one below its lowest source."""
    edges = [
        (source, target)
        for target, taken in enumerate(sources)
        for source in taken
        if 0 <= source < target
    ]
    layer = [0] * len(sources)
    for source, target in edges:  # sources come first: one pass settles every layer
        layer[target] = max(layer[target], layer[source] + 1)
    return edges, layer


def _waypoints(layer: list[int], edges: list[tuple[int, int]]) -> int:
    """How many waypoints the trunks will take: each node's, from the layer below it down to
    its furthest consumer's (less one)."""
    furthest: dict[int, int] = {}
    for source, target in edges:
        if layer[target] > furthest.get(source, 0):
            furthest[source] = layer[target]
    return sum(max(end - layer[source] - 1, 0) for source, end in furthest.items())


def _suffix(values: list[int], pick: Callable[[int, int], int]) -> list[int]:
    """``pick`` (min or max) of each suffix of ``values``: ``[pick(values[i:]) for i]``."""
    found = list(values)
    for index in range(len(found) - 2, -1, -1):
        found[index] = pick(found[index], found[index + 1])
    return found


def _heights(count: int, edges: list[tuple[int, int]]) -> list[int]:
    """Each node's longest path to a node nothing takes, in edges."""
    height = [0] * count
    for source, target in reversed(edges):  # edges are in target order: later ones first
        height[source] = max(height[source], height[target] + 1)
    return height


# --- step 3: the order within each layer -------------------------------------------------------


def _order(graph: _Graph) -> list[list[int]]:
    """Each layer's nodes, left to right."""
    count = max(graph.layer, default=-1) + 1
    layers: list[list[int]] = [[] for _ in range(count)]
    for node in sorted(range(graph.size), key=lambda node: graph.key[node]):
        layers[graph.layer[node]].append(node)
    position = _positions_of(layers, graph.size)
    # The first sweep breaks ties by execution order, the others keep the order they find.
    for index in range(1, count):
        _sort_layer(layers, index, graph.up, position, graph.key)
    best = [list(nodes) for nodes in layers]
    fewest = _crossings(layers, graph.down, position)
    for _ in range(SWEEPS):
        for index in range(count - 2, -1, -1):
            _sort_layer(layers, index, graph.down, position, None)
        for index in range(1, count):
            _sort_layer(layers, index, graph.up, position, None)
        found = _crossings(layers, graph.down, position)
        if found < fewest:
            best, fewest = [list(nodes) for nodes in layers], found
        if fewest == 0:
            break
    return best


def _positions_of(layers: list[list[int]], size: int) -> list[int]:
    position = [0] * size
    for nodes in layers:
        for index, node in enumerate(nodes):
            position[node] = index
    return position


def _sort_layer(
    layers: list[list[int]],
    index: int,
    neighbours: list[list[int]],
    position: list[int],
    key: list[float] | None,
) -> None:
    """Sort one layer by the mean position of each node's neighbours in the layer beside it
    (a node without any keeps its place); ties by ``key``, else as they are."""
    nodes = layers[index]

    def barycentre(node: int) -> float:
        found = neighbours[node]
        if not found:
            return float(position[node])
        return sum(position[other] for other in found) / len(found)

    if key is None:
        nodes.sort(key=barycentre)
    else:
        nodes.sort(key=lambda node: (barycentre(node), key[node]))
    for place, node in enumerate(nodes):
        position[node] = place


def _crossings(layers: list[list[int]], down: list[list[int]], position: list[int]) -> int:
    """How many pairs of edges cross between neighbouring layers."""
    total = 0
    for nodes in layers:
        ends = [
            position[lower]
            for upper in nodes
            for lower in sorted(down[upper], key=position.__getitem__)
        ]
        total += _inversions(ends)
    return total


def _inversions(values: list[int]) -> int:
    """Pairs out of order (i < j, values[i] > values[j]), by merge sort."""
    if len(values) < 2:
        return 0
    middle = len(values) // 2
    left, right = values[:middle], values[middle:]
    count = _inversions(left) + _inversions(right)
    left.sort()
    right.sort()
    merged = 0
    for value in right:  # each value of the right half passes the larger ones of the left
        while merged < len(left) and left[merged] <= value:
            merged += 1
        count += len(left) - merged
    return count


# --- step 4: horizontal positions --------------------------------------------------------------


def _positions(graph: _Graph, layers: list[list[int]], spacing: Spacing) -> list[float]:
    """Each node's centre: boxes aligned into blocks, packed, relaxed toward their
    neighbours; then each long edge's waypoints put in line wherever there is room."""
    position = _positions_of(layers, graph.size)
    root = _align(graph, layers, position)
    room = _Room(graph, layers, root, spacing)
    order = room.order()
    if order is None:  # cannot happen with crossing-free alignments; kept safe regardless
        root = list(range(graph.size))
        room = _Room(graph, layers, root, spacing)
        order = room.order()
    assert order is not None
    x = room.place(order)
    for trunk in graph.trunks.values():
        _straighten(trunk, x, room)
    return [x[root[node]] for node in range(graph.size)]


def _align(graph: _Graph, layers: list[list[int]], position: list[int]) -> list[int]:
    """Each node's block: the topmost box of the vertical chain it is aligned into. A box
    and the box below it align when each is the other's main neighbour and the link crosses
    no other link between the two layers. (Waypoints stay free: blocks of them, many layers
    long, would push everything beside them apart.)"""
    root = list(range(graph.size))
    for nodes in layers:
        links: list[tuple[int, int]] = []
        for upper in nodes:
            if upper >= graph.real:
                continue
            lower = _main_below(graph, upper, position)
            if lower is None or lower >= graph.real:
                continue
            if _main_above(graph, lower, position) != upper:
                continue
            crosses = any(
                (position[a] - position[upper]) * (position[b] - position[lower]) < 0
                for a, b in links
            )
            if not crosses:
                links.append((upper, lower))
                root[lower] = root[upper]
    return root


def _median(candidates: list[int], position: list[int]) -> int:
    ordered = sorted(candidates, key=position.__getitem__)
    return ordered[len(ordered) // 2]


def _main_below(graph: _Graph, node: int, position: list[int]) -> int | None:
    """The neighbour below whose paths go on longest (the middle one of a tie)."""
    below = graph.down[node]
    if not below:
        return None
    longest = max(graph.reach[other] for other in below)
    return _median([other for other in below if graph.reach[other] == longest], position)


def _main_above(graph: _Graph, node: int, position: list[int]) -> int | None:
    """The neighbour above whose data was made last (at a merge: the branch just computed,
    not the skip that waited; the middle one of a tie)."""
    above = graph.up[node]
    if not above:
        return None
    latest = max(graph.layer[graph.origin[other]] for other in above)
    made = [other for other in above if graph.layer[graph.origin[other]] == latest]
    return _median(made, position)


class _Room:
    """The blocks, and how far apart each must stay from those beside it."""

    def __init__(
        self, graph: _Graph, layers: list[list[int]], root: list[int], spacing: Spacing
    ) -> None:
        self.blocks = sorted(set(root))
        self.left: dict[int, dict[int, float]] = {block: {} for block in self.blocks}
        """Block -> the blocks that must be left of it -> the least distance."""
        self.right: dict[int, dict[int, float]] = {block: {} for block in self.blocks}
        for nodes in layers:
            for a, b in zip(nodes, nodes[1:], strict=False):  # each node and the next
                first, second = root[a], root[b]
                boxes = (a < graph.real) + (b < graph.real)
                gap = (graph.width(a, spacing) + graph.width(b, spacing)) / 2 + (
                    spacing.box_gap if boxes == 2 else spacing.line_gap
                )
                if gap > self.left[second].get(first, -1.0):
                    self.left[second][first] = gap
                    self.right[first][second] = gap
        self.neighbours: dict[int, list[int]] = {block: [] for block in self.blocks}
        """Block -> the blocks its edges lead to, once per edge."""
        for node in range(graph.size):
            for other in (*graph.up[node], *graph.down[node]):
                if root[other] != root[node]:
                    self.neighbours[root[node]].append(root[other])

    def order(self) -> list[int] | None:
        """The blocks so that each comes after all that must be left of it; None for a
        cycle."""
        waiting = {block: len(self.left[block]) for block in self.blocks}
        ready = [block for block in self.blocks if waiting[block] == 0]
        order: list[int] = []
        while ready:
            block = ready.pop()
            order.append(block)
            for other in self.right[block]:
                waiting[other] -= 1
                if waiting[other] == 0:
                    ready.append(other)
        return order if len(order) == len(self.blocks) else None

    def bounds(self, block: int, x: dict[int, float]) -> tuple[float, float]:
        """Where ``block`` may go with the others where they are."""
        low = max((x[a] + gap for a, gap in self.left[block].items()), default=-math.inf)
        high = min((x[c] - gap for c, gap in self.right[block].items()), default=math.inf)
        return low, high

    def place(self, order: list[int]) -> dict[int, float]:
        """Packed left to right, then each block moved toward the mean of its neighbours,
        as far as the blocks beside it let it, PASSES times."""
        x: dict[int, float] = {}
        for block in order:
            x[block] = max((x[a] + gap for a, gap in self.left[block].items()), default=0.0)
        backwards = order[::-1]
        for turn in range(PASSES):
            for block in order if turn % 2 == 0 else backwards:
                found = self.neighbours[block]
                if found:
                    low, high = self.bounds(block, x)
                    wanted = sum(x[other] for other in found) / len(found)
                    x[block] = min(max(wanted, low), high)
        return x


def _straighten(trunk: list[int], x: dict[int, float], room: _Room) -> None:
    """A long edge's waypoints in straight runs: from the top, as many as share some room
    go to one x (nearest their mean), and the next run starts where they do not."""
    start = 0
    while start < len(trunk):
        low, high = room.bounds(trunk[start], x)
        end = start + 1
        while end < len(trunk):
            next_low, next_high = room.bounds(trunk[end], x)
            if max(low, next_low) > min(high, next_high):
                break
            low, high = max(low, next_low), min(high, next_high)
            end += 1
        run = trunk[start:end]
        middle = sum(x[dummy] for dummy in run) / len(run)
        for dummy in run:
            x[dummy] = min(max(middle, low), high)
        start = end
