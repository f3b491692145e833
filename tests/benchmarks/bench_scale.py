"""Scale targets, measured as whole processes in one run; run by hand, never by the tests.

    python tests/benchmarks/bench_scale.py [--runs 5]

Prints the median time and the peak memory of each case, and the ratios the targets are set
on (the machine's speed drifts between runs, so each ratio pairs runs made side by side):

- a 10,000-row table takes at most 2x the same model's JSON;
- 10,000 layers listed one by one take at most 2x the same model written with ``repeat``;
- 100,000 layers stay under 500 MB in every format;
- a million rows (``repeat: 1000000``) as JSON: reported, for the record.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LAYER = "conv2d: {filters: 16, kernel: 3, padding: same}"


def write_models(folder: Path) -> dict[str, Path]:
    files = {}
    for count in (10_000, 100_000, 1_000_000):
        repeat = folder / f"repeat_{count}.yaml"
        repeat.write_text(
            f"input: [8, 8, 16]\nlayers:\n  - repeat: {count}\n    layers:\n      - {LAYER}\n"
        )
        files[f"repeat_{count}"] = repeat
    for count in (10_000, 100_000):
        listed = folder / f"listed_{count}.yaml"
        listed.write_text("input: [8, 8, 16]\nlayers:\n" + f"  - {LAYER}\n" * count)
        files[f"listed_{count}"] = listed
    return files


def measure(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak resident MB) of one whole ``convcalc`` process."""
    command = [sys.executable, "-m", "convcalc", *args]
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ}
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed")
    return elapsed, usage.ru_maxrss / 1024


def paired(a: list[str], b: list[str], runs: int) -> tuple[float, float, float]:
    """Median seconds of a and b, run in turn, and the median of their ratios a/b."""
    times_a, times_b, ratios = [], [], []
    measure(a)  # warm-up
    measure(b)
    for _ in range(runs):
        ta, _ = measure(a)
        tb, _ = measure(b)
        times_a.append(ta)
        times_b.append(tb)
        ratios.append(ta / tb)
    return statistics.median(times_a), statistics.median(times_b), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-million", action="store_true")
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        files = {name: str(path) for name, path in write_models(Path(folder)).items()}
        table, json_, ratio = paired(
            ["model", files["repeat_10000"], "--depth", "all"],
            ["model", files["repeat_10000"], "--format", "json"],
            runs,
        )
        print(f"10,000 rows: table {table:.2f} s, JSON {json_:.2f} s: ratio {ratio:.2f} (<= 2)")
        listed, repeat, ratio = paired(
            ["model", files["listed_10000"], "--format", "json"],
            ["model", files["repeat_10000"], "--format", "json"],
            runs,
        )
        print(
            f"10,000 layers listed {listed:.2f} s, as a repeat {repeat:.2f} s: "
            f"ratio {ratio:.2f} (<= 2)"
        )
        for source in ("repeat_100000", "listed_100000"):
            for fmt in ("table", "json", "markdown", "csv"):
                extra = ["--depth", "all"] if fmt == "table" else []
                seconds, peak = measure(["model", files[source], "--format", fmt, *extra])
                print(f"100,000 ({source.split('_')[0]}), {fmt}: {seconds:.2f} s, {peak:.0f} MB")
        if not parser.parse_args().no_million:
            seconds, peak = measure(["model", files["repeat_1000000"], "--format", "json"])
            print(f"1,000,000 rows (repeat), JSON: {seconds:.1f} s, {peak:.0f} MB")


if __name__ == "__main__":
    main()
