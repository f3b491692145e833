"""Everything convcalc takes from typer beyond its public API, in one place.

typer is pinned (``>=0.28,<0.29``, see pyproject.toml); these are the names a typer upgrade
must be checked against: its vendored click (exceptions, the help formatter), its completion
internals (for our bash script), and its command builders (to build only the command that
runs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from typer._click import exceptions as click_errors  # typer 0.26+ vendors click
from typer._click.core import Context
from typer._click.formatting import HelpFormatter

__all__ = ["click_errors", "command_builders", "narrow_help", "use_bash_script"]

NARROW = 60
"""Below this many columns, help puts each option's text under its name."""


class _Formatter(HelpFormatter):
    """click's help formatter, which on a narrow terminal writes a definition list as name,
    then the text indented beneath it, instead of squeezing the text into a sliver."""

    def write_dl(
        self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        if self.width >= NARROW:
            super().write_dl(rows, col_max, col_spacing)
            return
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}\n")
            if second:
                self.current_indent += 4
                self.write_text(second)
                self.current_indent -= 4


def narrow_help() -> None:
    """Make every help screen readable at 40 columns."""
    Context.formatter_class = _Formatter


def use_bash_script(script: str, sanitize: Callable[[str], str]) -> None:
    """Make typer emit and install ``script`` for bash (``--show-completion``), and strip help
    markup with ``sanitize`` instead of importing rich for it."""
    from typer import _completion_classes, _completion_shared

    _completion_shared._completion_scripts["bash"] = script
    _completion_classes.BashComplete.source_template = script
    _completion_classes._sanitize_help_text = sanitize  # type: ignore[assignment]


def command_builders(app: Any, commands: Any) -> Iterator[tuple[str, Callable[[], Any]]]:
    """(name, how typer builds it) for each command and group registered on ``commands``,
    built with ``app``'s settings."""
    import functools

    from typer.main import get_command_from_info, get_command_name, get_group_from_info

    short, markup = app.pretty_exceptions_short, app.rich_markup_mode
    infos: Iterable[Any] = commands.registered_commands
    for info in infos:
        assert info.callback is not None
        name = info.name or get_command_name(info.callback.__name__)
        yield (
            name,
            functools.partial(
                get_command_from_info, info, pretty_exceptions_short=short, rich_markup_mode=markup
            ),
        )
    for group in commands.registered_groups:
        assert group.name is not None
        yield (
            group.name,
            functools.partial(
                get_group_from_info,
                group,
                pretty_exceptions_short=short,
                rich_markup_mode=markup,
                suggest_commands=app.suggest_commands,
            ),
        )
