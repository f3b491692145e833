"""The one error type convcalc raises for anything a user gave it.

Every message is written to be shown as it is, after ``Error: ``: it names what is wrong,
where (layer number and name, parameter, value) and what would fix it. The CLI maps the
whole hierarchy to exit code 2 in one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


class ConvCalcError(ValueError):
    """Something in the user's input is wrong; the message is ready to show them.

    Its text never carries a control character: names are data, and a name from a file
    (``"a\x1b]0;TITLE\x07"``) is written escaped wherever a message quotes it, for the Python
    API as for the command line. Escaping is idempotent, so a message built from escaped parts
    stays as it is."""

    def __init__(self, message: object = "") -> None:
        super().__init__(escape(str(message)))


class SpecError(ConvCalcError):
    """A model or layer description is malformed: unknown name, bad value, missing field."""


class ShapeError(ConvCalcError):
    """A layer cannot take the shape it is given: a size collapses, ranks or channels do not fit."""


class InputError(ConvCalcError):
    """A file or stream cannot be read or parsed."""


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice most like ``word``, for a "did you mean" hint; None when nothing is close."""
    import difflib  # only on the error path: keeps start-up lean

    if len(word) > 100:  # no name is that long: a pasted file, not a misspelling
        return None

    lowered: dict[str, str] = {}
    for choice in choices:  # the first spelling of a name wins: catalogues list canonical first
        lowered.setdefault(choice.lower(), choice)
    matches = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[matches[0]] if matches else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or an empty string."""
    match = closest(word, choices)
    return f" (did you mean '{match}'?)" if match else ""


_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def escape(text: str) -> str:
    """``text`` with every control character (and line or direction mark) written as an
    escape, so a name never moves the cursor, retitles a terminal or reorders a line."""
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(lambda match: match.group().encode("unicode_escape").decode(), text)
