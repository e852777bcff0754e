"""`auditor report`: a report made again from the Parquet tables of an earlier audit."""

from __future__ import annotations

from pathlib import Path

import click

from .audit_cmd import FORMATS, emit


@click.command("report")
@click.argument("tables")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="console", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, help="Write the report here.")
@click.option("--html", "html_path", type=click.Path(path_type=Path), default=None,
              help="Also write the HTML report for editors to this file.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info", "never"]), default="error",
              show_default=True, help="Exit 1 when a finding of this severity or higher is in the tables.")
@click.option("--no-color", is_flag=True, help="Plain text output.")
@click.option("--quiet", "-q", is_flag=True, help="Only the summary.")
@click.option("--write-baseline", "write_baseline_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Record the findings (by fingerprint) in this baseline file.")
def report(tables, fmt, output, html_path, fail_on, no_color, quiet, write_baseline_path) -> int:
    """Report the audit whose tables are in TABLES (written by `auditor audit --output-dir`, on
    either engine; a folder or a URL such as s3://bucket/run). The report is the one the audit
    would have written: same findings, messages in the audit's language, same rules. Needs neither
    the documents nor the rule files, nor Spark.

    \b
    auditor audit archive/ --engine spark --output-dir out/ --format console -q
    auditor report out/ --format sarif -o audit.sarif --html audit.html
    """
    from ..engines.local import resolve_jobs
    from ..report.from_tables import read_audit

    result = read_audit(tables, jobs=resolve_jobs(None))
    return emit(result, fmt=fmt, output=output, fail_on=fail_on, no_color=no_color, quiet=quiet,
                write_baseline_path=write_baseline_path, html_path=html_path)
