"""Errors that end a command with exit code 2 and one clear line for the user."""

from __future__ import annotations

import re


class AuditorError(Exception):
    """Base for every error the CLI reports as one line with exit code 2."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        return _printable(f"{where}{self.message}")


# Characters that would break the one line or drive the terminal (a file named "a\nb.txt", an ESC
# sequence, a bidi override): written as escapes.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _printable(text: str) -> str:
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class InputError(AuditorError):
    """A document or table that cannot be read: missing, empty, binary, undecodable, broken."""


class RuleFileError(AuditorError):
    """A rule file that is not valid YAML or does not fit its kind's schema."""


class UsageError(AuditorError):
    """Options that do not fit together."""
