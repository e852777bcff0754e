"""`auditor audit`: documents against the rules; exit 0 clean, 1 findings at --fail-on or above, 2 errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterable

import click

from .options import document_options, resolve_config

FORMATS = ["console", "json", "html", "sarif", "junit", "github", "markdown"]


@click.command("audit")
@click.argument("paths", nargs=-1, required=True)
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(), help="Extra rule file or folder (repeatable).")
@click.option("--no-default-rules", is_flag=True, default=None, help="Use only the rules given with --rules.")
@click.option("--select", multiple=True, help="Run only these rules: id prefix (D, U001), name or category.")
@click.option("--ignore", multiple=True, help="Skip these rules (same forms as --select).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="console", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, help="Write the report here.")
@click.option("--html", "html_path", type=click.Path(path_type=Path), default=None,
              help="Also write the HTML report for editors to this file.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info", "never"]), default=None,
              help="Exit 1 when a finding of this severity or higher is found (default: error).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None, help="Language of messages (default zh).")
@click.option("--regex-timeout", type=click.FloatRange(0.01, 1e6), default=None,
              help="Seconds one rule's regex may run on one document (default 2).")
@click.option("--no-color", is_flag=True, help="Plain text output.")
@click.option("--quiet", "-q", is_flag=True, help="Only the summary.")
@click.option("--jobs", "-j", type=click.IntRange(1), default=None,
              help="Worker processes of the local engine (default: one per core).")
@click.option("--engine", type=click.Choice(["local", "spark"]), default=None,
              help="local (process pool, default) or spark (needs auditor[spark]).")
@click.option("--spark-master", default=None, help="Spark master URL for --engine spark (default local[*]).")
@click.option("--spark-remote", default=None, help="Spark Connect URL (sc://host:port) for --engine spark.")
@click.option("--output-dir", default=None,
              help="Also write documents, metrics and findings as Parquet tables under this folder (or URL).")
@click.option("--history", "history_path", type=click.Path(dir_okay=False), default=None,
              help="History store of earlier pages (default .auditor/history.duckdb, when it exists).")
@click.option("--no-history", is_flag=True, help="Ignore the history store.")
@click.option("--baseline", "baseline", type=click.Path(dir_okay=False), default=None,
              help="Report only findings not in this baseline file (the others are listed as suppressed).")
@click.option("--write-baseline", "write_baseline_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Record the current findings (by fingerprint) in this baseline file.")
@document_options
def audit(paths, rule_paths, no_default_rules, select, ignore, fmt, output, html_path, fail_on, lang,
          regex_timeout, no_color, quiet, history_path, no_history, baseline, write_baseline_path, year, max_bytes, config_path,
          jobs=None, engine=None, spark_master=None, spark_remote=None, output_dir=None) -> int:
    """Audit PATHS (files or folders) and report what the rules find."""
    config = resolve_config(config_path, rules=tuple(rule_paths) or None, no_default_rules=no_default_rules,
                            select=tuple(select) or None, ignore=tuple(ignore) or None, fail_on=fail_on,
                            lang=lang, regex_timeout=regex_timeout, year=year, max_bytes=max_bytes)
    if history_path and no_history:
        raise click.UsageError("--history and --no-history exclude each other")
    if history_path:  # relative to the working folder, not to the config file
        config = replace(config, history=str(Path(history_path).absolute()))
    config = replace(config, **{k: v for k, v in (("jobs", jobs), ("engine", engine)) if v is not None})
    result = _run_engine(paths, config, baseline=baseline, history=False if no_history else None, quiet=quiet,
                         spark_master=spark_master, spark_remote=spark_remote, output_dir=output_dir)
    return emit(result, fmt=fmt, output=output, fail_on=config.fail_on, no_color=no_color, quiet=quiet,
                write_baseline_path=write_baseline_path, html_path=html_path)


def emit(result, *, fmt: str, output, fail_on: str, no_color: bool, quiet: bool, write_baseline_path=None,
         html_path=None) -> int:
    """Write the baseline and the reports of a finished audit (text or table); the exit code."""
    from ..report.write import write_output

    if write_baseline_path is not None:
        from ..baseline import write_baseline

        n = write_baseline(write_baseline_path, result.findings)
        click.echo(f"auditor: wrote {n} finding(s) to baseline {write_baseline_path}", err=True)
    if fmt == "console" and output is None:
        from ..report.console import print_console

        print_console(result, color=not no_color, quiet=quiet)
    else:
        write_output(output, _render(fmt, result, color=False, quiet=quiet, fail_on=fail_on))
    if html_path is not None:
        write_output(html_path, _render("html", result))
    return 1 if fail_on != "never" and result.fails_at(fail_on) else 0


def _render(fmt: str, result, **options) -> str | Iterable[str]:
    """The report as text, or as the pieces of text for the three that grow with the corpus (JSON,
    SARIF and HTML: written as they are made, never held whole)."""
    if fmt == "json":
        from ..report.json_report import iter_json

        return iter_json(result)
    if fmt == "html":
        from ..report.html import iter_html

        return iter_html(result)
    if fmt == "sarif":
        from ..report.sarif import iter_sarif

        return iter_sarif(result)
    if fmt == "junit":
        from ..report.junit import render_junit

        return render_junit(result, fail_on=options.get("fail_on"))
    if fmt == "github":
        from ..report.github import render_github

        return render_github(result)
    if fmt == "markdown":
        from ..report.markdown import render_markdown

        return render_markdown(result)
    from ..report.console import render_console_text

    options.pop("fail_on", None)
    return render_console_text(result, **options)


def _run_engine(paths, config, *, quiet: bool, spark_master, spark_remote, output_dir, **audit_options):
    """The audit on the chosen engine (auditor/engines): the local process pool, with a progress
    bar on stderr unless --quiet; or Spark, when pyspark is installed. Parquet tables go to
    --output-dir, all or nothing."""
    from ..errors import UsageError

    if config.engine == "spark":
        from ..engines import SPARK_MISSING, spark_available

        if not spark_available():
            raise UsageError(SPARK_MISSING)
        from ..engines.spark import run_spark_audit

        return run_spark_audit(paths, config, master=spark_master, remote=spark_remote, output_dir=output_dir,
                               **audit_options)
    if spark_master or spark_remote:
        raise UsageError("--spark-master and --spark-remote need --engine spark")
    from ..audit import run_audit
    from ..engines.local import show_progress, write_tables

    with show_progress(not quiet):
        result = run_audit(paths, config, **audit_options)
    if output_dir is not None:
        write_tables(result, output_dir)
    return result
