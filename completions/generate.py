"""Regenerate the shell-completion scripts in this folder from the CLI itself.

    python completions/generate.py          # rewrite convcalc.bash, convcalc.zsh, convcalc.fish
    python completions/generate.py --check  # exit 1, naming the files, if any has drifted

Each script is exactly what ``convcalc --show-completion SHELL`` prints. Typer only takes a
shell name there when ``_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION`` is set; without it the
option is a flag and the shell is guessed from the parent process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHELLS = ("bash", "zsh", "fish")


def script(shell: str) -> str:
    """The completion script the CLI generates now for ``shell``."""
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "convcalc", "--show-completion", shell],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return done.stdout


def path(shell: str) -> Path:
    return HERE / f"convcalc.{shell}"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    drifted = []
    for shell in SHELLS:
        text = script(shell)
        target = path(shell)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        if check:
            drifted.append(target.name)
        else:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target}")
    if drifted:
        print(f"out of date: {', '.join(drifted)}; run python {Path(__file__).name}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
