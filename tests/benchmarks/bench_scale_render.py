"""How the table scales against JSON on a 10,000-layer model, run by hand (never by pytest).

    python tests/benchmarks/bench_scale_render.py [--layers 10000] [--runs 7] [--memory 100000]

Builds a model of ``--layers`` layers with ``repeat`` (a same-padded convolution and a relu,
over and over) through ``convcalc.analyze``, then in one run:

1. in-process: ``render(report, TABLE)`` (natural width, and fitted to 80 and 40 columns)
   against ``render(report, JSON)``, the median of ``--runs`` each, alternated;
2. whole processes: ``convcalc model FILE`` (piped, without and with ``COLUMNS=80``) against
   ``convcalc model FILE --format json``, both writing into a pipe;
3. memory: with ``--memory N`` (default 100,000; 0 skips), the peak memory ``tracemalloc``
   sees while ``print_table`` writes an N-layer model's table to a sink that keeps nothing,
   beside the same for ``render(report, JSON)`` and the size of the report itself.

Target: every table/JSON ratio <= 2.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from convcalc import analyze
from convcalc._render import print_table, render
from convcalc._report import Report
from convcalc._settings import OutputFormat

TARGET = 2.0
CONV = "{conv2d: {filters: 16, kernel: 3, padding: same}}"


def model_yaml(layers: int) -> str:
    return (
        "name: deep\ninput: [32, 32, 16]\nlayers:\n"
        f"  - repeat: {layers // 2}\n    layers:\n      - {CONV}\n      - relu\n"
    )


def model_spec(layers: int) -> dict[str, object]:
    conv = {"conv2d": {"filters": 16, "kernel": 3, "padding": "same"}}
    return {
        "name": "deep",
        "input": [32, 32, 16],
        "layers": [{"repeat": layers // 2, "layers": [conv, "relu"]}],
    }


def median_alternating(jobs: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Seconds per job: one warm-up each, then ``runs`` rounds of every job in turn."""
    for job in jobs.values():
        job()
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(runs):
        for name, job in jobs.items():
            start = time.perf_counter()
            job()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def in_process(report: Report, runs: int) -> dict[str, float]:
    return median_alternating(
        {
            "json": lambda: render(report, OutputFormat.JSON),
            "table": lambda: render(report, OutputFormat.TABLE),
            "table 80": lambda: render(report, OutputFormat.TABLE, width=80),
            "table 40": lambda: render(report, OutputFormat.TABLE, width=40),
        },
        runs,
    )


def whole_process(path: Path, runs: int) -> dict[str, float]:
    base = [sys.executable, "-m", "convcalc", "model", str(path)]
    plain = {key: value for key, value in os.environ.items() if key != "COLUMNS"}

    def run(argv: list[str], env: dict[str, str]) -> Callable[[], object]:
        return lambda: subprocess.run(argv, env=env, stdout=subprocess.PIPE, check=True)

    return median_alternating(
        {
            "json": run([*base, "--format", "json"], plain),
            "table": run(base, plain),
            "table 80": run(base, {**plain, "COLUMNS": "80"}),
        },
        runs,
    )


class Sink(io.TextIOBase):
    """A file that counts what it is given and keeps nothing."""

    def __init__(self) -> None:
        self.count = 0

    def write(self, text: str) -> int:
        self.count += len(text)
        return len(text)

    def isatty(self) -> bool:
        return False


def memory(layers: int) -> None:
    tracemalloc.start()
    report = analyze(model_spec(layers))
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    sink = Sink()
    os.environ.pop("COLUMNS", None)
    print_table(report, sink)  # type: ignore[arg-type]
    table_peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    text = render(report, OutputFormat.JSON)
    json_peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    mib = 1024 * 1024
    print(f"\nmemory, {layers:,} layers (tracemalloc):")
    print(f"  the report itself          {held / mib:8.1f} MiB")
    print(f"  print_table, peak extra    {table_peak / mib:8.1f} MiB  ({sink.count:,} chars out)")
    print(f"  render JSON, peak extra    {json_peak / mib:8.1f} MiB  ({len(text):,} chars)")


def show(title: str, times: dict[str, float]) -> bool:
    print(f"\n{title}:")
    ok = True
    for name, seconds in times.items():
        line = f"  {name:<10} {seconds * 1000:9.1f} ms"
        if name != "json":
            ratio = seconds / times["json"]
            passed = ratio <= TARGET
            ok &= passed
            line += f"   {ratio:5.2f}x JSON  {'ok' if passed else 'OVER'} (target <= {TARGET:g})"
        print(line)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--memory", type=int, default=100_000, help="layers; 0 skips")
    options = parser.parse_args()

    start = time.perf_counter()
    report = analyze(model_spec(options.layers))
    took = time.perf_counter() - start
    print(f"{len(report.layers):,} layers, analysed in {took * 1000:.0f} ms")
    ok = show("in-process render", in_process(report, options.runs))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "deep.yaml"
        path.write_text(model_yaml(options.layers), encoding="utf-8")
        ok &= show("whole process, piped", whole_process(path, options.runs))
    if options.memory:
        memory(options.memory)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
