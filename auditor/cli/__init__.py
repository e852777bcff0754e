"""The `auditor` command. Each subcommand lives in its own module and imports what it needs when it
runs, so `auditor --help` loads click and nothing heavy."""

from __future__ import annotations

import os
import sys

import click

from .. import __version__
from ..errors import AuditorError

_COMMANDS = {
    "audit": ("auditor.cli.audit_cmd", "audit"),
    "report": ("auditor.cli.report_cmd", "report"),
    "extract": ("auditor.cli.extract_cmd", "extract"),
    "rules": ("auditor.cli.rules_cmd", "rules"),
    "history": ("auditor.cli.history_cmd", "history"),
    "check-table": ("auditor.cli.check_table_cmd", "check_table"),
    "export-suite": ("auditor.cli.check_table_cmd", "export_suite"),
}
_HELP = {
    "audit": "Check documents against the rules and report findings.",
    "report": "Make a report again from the Parquet tables of an audit (--output-dir).",
    "extract": "Write the metrics table (every figure in the text).",
    "rules": "List, show and validate rules.",
    "history": "The archive of published pages for year-over-year checks.",
    "check-table": "Gate incoming metric tables (CSV, JSON lines, Parquet, Excel).",
    "export-suite": "Write the rules as a Great Expectations suite or pandera schema.",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        import importlib.util

        # A command whose module is not there yet (an optional part) is not listed.
        available = {n for n, (module, _) in _COMMANDS.items() if importlib.util.find_spec(module) is not None}
        return sorted(set(super().list_commands(ctx)) | available)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in _COMMANDS:
            import importlib

            module, attr = _COMMANDS[name]
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help without importing every command module.
        rows = [(name, _HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="auditor")
def cli() -> None:
    """auditor: data-quality and consistency checks for Chinese news and work-report text.

    \b
    auditor audit fixtures/ --html reports/fixtures.html
    auditor extract fixtures/ --format csv --output metrics.csv
    auditor rules list
    """


def main(argv: list[str] | None = None) -> None:
    """Entry point: commands return their exit code; AuditorError becomes one line and exit 2."""
    try:
        code = cli.main(args=argv, prog_name="auditor", standalone_mode=False)
        sys.stdout.flush()  # a full disk behind `> report.json` fails here, not silently at exit
    except AuditorError as exc:
        click.echo(f"auditor: error: {exc.one_line()}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("auditor: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except OSError as exc:  # stdout on a full disk, a file that vanished mid-run: one line, not a traceback
        where = f"{exc.filename}: " if exc.filename else "writing output: "
        click.echo(f"auditor: error: {where}{exc.strerror or exc}", err=True)
        _discard_stdout()
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


def _discard_stdout() -> None:
    """Drop what could not be written, so the interpreter does not fail again flushing it at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
