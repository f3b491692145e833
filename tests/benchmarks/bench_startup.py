"""Whole-process start-up and scale benchmarks for convcalc, run by hand (never by pytest).

    python tests/benchmarks/bench_startup.py [--runs 21] [--warmup 3] [--only a,c]

Each case times two commands, A (ours) and B (its baseline), as whole processes with
``subprocess.run`` and ``time.perf_counter``: after a warm-up, the runs alternate A B A B ...
so drift in the machine's load falls on both alike, and the median of each is compared.

Ours is the installed ``convcalc`` console script: the one beside this interpreter
(``sys.executable``'s folder), not a pyenv or asdf shim in front of it, whose own start-up would
be counted against us. Baselines are ``[sys.executable, "-c", ...]``. The same commands as
``python -m convcalc`` are timed in the same rounds and reported beside them.

Cases and targets (ratio = ours / baseline, medians):
  a  conv (table)          vs  import typer, rich.console, rich.table      <= 1.25
  b  conv --format json    vs  import typer                                <= 1.2
  c  a completion request  vs  import typer                                <= 1.2
  d  model zoo:resnet50    vs  case a's conv command                       <= 1.3  (skipped
     --format json                                                                 if absent)
  e  a 10,000-layer model  vs  a 10-layer model, both --format json        <= 3
  z  zoo (the whole        vs  case a's conv command                       <= 1.5
     listing, table)
  z2 zoo efficientnet      vs  case a's conv command                       <= 1.5
  zl model zoo:regnet_y_128gf, zoo:vit_h_14 --format json: under 0.5 s each (an absolute
     target: the ratio column shows seconds / 0.5)
  t  a minimal typer app   vs  import typer                                (reference, no
     (one command, an int option), to tell typer's own run-time cost from ours     target)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

PYTHON = sys.executable


def find_script() -> tuple[str, str]:
    """The convcalc console script, and a note on where it was found."""
    beside = Path(PYTHON).parent / "convcalc"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside), f"{beside} (beside {PYTHON})"
    found = shutil.which("convcalc")
    if found is None:
        sys.exit("convcalc is not installed: pip install -e .")
    return found, f"{found} (from PATH; may be a shim that adds its own start-up)"


@dataclass
class Command:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)

    def run(self) -> float:
        """Seconds for one whole run; the command must succeed."""
        env = {**os.environ, **self.env}
        start = time.perf_counter()
        done = subprocess.run(
            self.argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
        )
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(self.argv)} exited {done.returncode}: {done.stderr.decode()[-500:]}"
            )
        return elapsed


@dataclass
class Case:
    key: str
    title: str
    ours: Command
    baseline: Command
    target: float | None
    """None: a reference figure, not a goal."""
    ours_module: Command | None = None
    """The same as ``ours`` through ``python -m convcalc``, timed in the same rounds."""
    skip: str | None = None


@dataclass
class Result:
    case: Case
    ours: float
    baseline: float
    module: float | None

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline


def measure(case: Case, runs: int, warmup: int) -> Result:
    commands = [case.ours, case.baseline] + ([case.ours_module] if case.ours_module else [])
    for _ in range(warmup):
        for command in commands:
            command.run()
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for index, command in enumerate(commands):
            times[index].append(command.run())
    medians = [statistics.median(series) for series in times]
    return Result(case, medians[0], medians[1], medians[2] if len(medians) > 2 else None)


def module_twin(script: str, command: Command) -> Command:
    """``command`` (which starts with the console script) as ``python -m convcalc``."""
    assert command.argv[0] == script
    return Command([PYTHON, "-m", "convcalc", *command.argv[1:]], dict(command.env))


def repeat_supported(script: str, folder: Path) -> bool:
    path = folder / "probe.yaml"
    path.write_text(
        "input: [8, 8, 4]\nlayers:\n  - repeat: 2\n    layers:\n      - relu\n", encoding="utf-8"
    )
    done = subprocess.run(
        [script, "model", str(path), "--format", "json"], capture_output=True, check=False
    )
    return done.returncode == 0


def deep_model(folder: Path, count: int, use_repeat: bool) -> Path:
    """A model of ``count`` same-padded convolutions, as a repeat or listed one by one."""
    conv = "conv2d: {filters: 8, kernel: 3, padding: same}"
    head = f"name: deep{count}\ninput: [16, 16, 8]\nlayers:\n"
    if use_repeat:
        body = f"  - repeat: {count}\n    layers:\n      - {conv}\n"
        path = folder / f"repeat{count}.yaml"
    else:
        body = f"  - {conv}\n" * count
        path = folder / f"listed{count}.yaml"
    path.write_text(head + body, encoding="utf-8")
    return path


def zoo_has(script: str, name: str) -> bool:
    done = subprocess.run(
        [script, "model", f"zoo:{name}", "--format", "json"], capture_output=True, check=False
    )
    return done.returncode == 0


MINIMAL_TYPER_APP = """\
import typer

app = typer.Typer()


@app.command()
def conv(shape: list[str], filters: int = typer.Option(...)) -> None:
    print(shape, filters)


@app.command()
def other() -> None:
    pass


app()
"""


def build_cases(script: str, folder: Path) -> list[Case]:
    conv = [script, "conv", "28", "28", "1", "--filters", "32", "--kernel", "3"]
    import_typer = Command([PYTHON, "-c", "import typer"])
    complete = {
        "_CONVCALC_COMPLETE": "complete_bash",
        "COMP_WORDS": "convcalc chain 28 28 1 con",
        "COMP_CWORD": "5",
    }
    cases = [
        Case(
            "a",
            "conv (table)",
            Command(conv),
            Command([PYTHON, "-c", "import typer, rich.console, rich.table"]),
            1.25,
        ),
        Case("b", "conv --format json", Command([*conv, "--format", "json"]), import_typer, 1.2),
        Case("c", "completion: chain ... con", Command([script], complete), import_typer, 1.2),
        Case(
            "d",
            "model zoo:resnet50 --format json",
            Command([script, "model", "zoo:resnet50", "--format", "json"]),
            Command(conv),
            1.3,
            skip=None if zoo_has(script, "resnet50") else "zoo:resnet50 does not exist yet",
        ),
    ]
    cases += [
        Case("z", "zoo (listing, table)", Command([script, "zoo"]), Command(conv), 1.5),
        Case(
            "z2", "zoo efficientnet", Command([script, "zoo", "efficientnet"]), Command(conv), 1.5
        ),
    ]
    half_second = Command([PYTHON, "-c", "import time; time.sleep(0.5)"])
    for name in ("regnet_y_128gf", "vit_h_14"):
        cases.append(
            Case(
                "zl",
                f"model zoo:{name} --format json (vs 0.5 s)",
                Command([script, "model", f"zoo:{name}", "--format", "json"]),
                half_second,
                1.0,
                skip=None if zoo_has(script, name) else f"zoo:{name} does not exist yet",
            )
        )
    use_repeat = repeat_supported(script, folder)
    how = "repeat" if use_repeat else "listed"
    small = deep_model(folder, 10, use_repeat)
    large = deep_model(folder, 10_000, use_repeat)
    cases.append(
        Case(
            "e",
            f"10,000 layers vs 10 ({how}), json",
            Command([script, "model", str(large), "--format", "json"]),
            Command([script, "model", str(small), "--format", "json"]),
            3.0,
        )
    )
    if use_repeat:  # the same sizes written out, since a file may list every layer
        cases.append(
            Case(
                "e2",
                "10,000 layers vs 10 (listed), json",
                Command([script, "model", str(deep_model(folder, 10_000, False)), "-f", "json"]),
                Command([script, "model", str(deep_model(folder, 10, False)), "-f", "json"]),
                3.0,
            )
        )
    minimal = folder / "minimal_typer_app.py"
    minimal.write_text(MINIMAL_TYPER_APP, encoding="utf-8")
    cases.append(
        Case(
            "t",
            "minimal typer app (reference)",
            Command([PYTHON, str(minimal), "conv", "28", "28", "1", "--filters", "32"]),
            import_typer,
            None,
        )
    )
    for case in cases:
        if case.ours.argv[0] == script:
            case.ours_module = module_twin(script, case.ours)
    return cases


def verdict(result: Result) -> str:
    if result.case.target is None:
        return "info"
    return "PASS" if result.ratio <= result.case.target else "FAIL"


def table(results: Sequence[Result], skipped: Sequence[Case]) -> str:
    header = ("case", "ours ms", "-m ms", "baseline ms", "ratio", "target", "")
    rows = [header]
    for result in results:
        rows.append(
            (
                f"{result.case.key} {result.case.title}",
                f"{result.ours * 1000:.1f}",
                f"{result.module * 1000:.1f}" if result.module is not None else "-",
                f"{result.baseline * 1000:.1f}",
                f"{result.ratio:.2f}",
                "-" if result.case.target is None else f"<= {result.case.target:g}",
                verdict(result),
            )
        )
    for case in skipped:
        target = "-" if case.target is None else f"<= {case.target:g}"
        status = "ERROR" if case.skip == "a command failed" else "SKIP"
        rows.append((f"{case.key} {case.title}", "-", "-", "-", "-", target, status))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for row in rows:
        cells = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="timed runs of each command")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs of each first")
    parser.add_argument("--only", default="", help="comma-separated case keys, e.g. a,c")
    options = parser.parse_args(argv)
    # An installed package has its bytecode compiled (pip compiles at install time), and so
    # do typer and rich here; an editable checkout under PYTHONDONTWRITEBYTECODE would instead
    # recompile convcalc on every run and time the compiler, not convcalc.
    import compileall

    compileall.compile_dir(Path(__file__).resolve().parents[2] / "convcalc", quiet=1)
    script, where = find_script()
    print(f"python:   {PYTHON} ({sys.version.split()[0]})")
    print(f"convcalc: {where}")
    print(f"runs:     median of {options.runs}, after {options.warmup} warm-up, interleaved")
    print()
    wanted = {key.strip() for key in options.only.split(",") if key.strip()}
    results: list[Result] = []
    skipped: list[Case] = []
    with tempfile.TemporaryDirectory(prefix="convcalc-bench-") as temp:
        for case in build_cases(script, Path(temp)):
            if wanted and case.key not in wanted:
                continue
            if case.skip:
                print(f"{case.key}: skipped, {case.skip}")
                skipped.append(case)
                continue
            print(f"{case.key}: {case.title} ...", flush=True)
            try:
                results.append(measure(case, options.runs, options.warmup))
            except RuntimeError as problem:  # a command failed: say so, go on with the rest
                print(f"{case.key}: not measured, {problem}")
                case.skip = "a command failed"
                skipped.append(case)
    print()
    print(table(results, skipped))
    failed = any(verdict(result) == "FAIL" for result in results)
    return 1 if failed or any(case.skip == "a command failed" for case in skipped) else 0


if __name__ == "__main__":
    sys.exit(main())
