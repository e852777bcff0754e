"""Errors that end a command with exit code 2 and one clear line for the user."""

from __future__ import annotations


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
        return f"{where}{self.message}"


class InputError(AuditorError):
    """A document or table that cannot be read: missing, empty, binary, undecodable, broken."""


class RuleFileError(AuditorError):
    """A rule file that is not valid YAML or does not fit its kind's schema."""


class UsageError(AuditorError):
    """Options that do not fit together."""
