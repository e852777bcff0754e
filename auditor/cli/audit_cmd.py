"""`auditor audit`: documents against the rules; exit 0 clean, 1 findings at --fail-on or above, 2 errors."""

from __future__ import annotations

from pathlib import Path

import click

from .options import document_options, resolve_config

FORMATS = ["console", "json", "html"]


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
@click.option("--regex-timeout", type=click.FloatRange(0.01), default=None,
              help="Seconds one rule's regex may run on one document (default 2).")
@click.option("--no-color", is_flag=True, help="Plain text output.")
@click.option("--quiet", "-q", is_flag=True, help="Only the summary.")
@document_options
def audit(paths, rule_paths, no_default_rules, select, ignore, fmt, output, html_path, fail_on, lang,
          regex_timeout, no_color, quiet, year, max_bytes, config_path) -> int:
    """Audit PATHS (files or folders) and report what the rules find."""
    from ..audit import run_audit
    from ..report.write import write_output

    config = resolve_config(config_path, rules=tuple(rule_paths) or None, no_default_rules=no_default_rules,
                            select=tuple(select) or None, ignore=tuple(ignore) or None, fail_on=fail_on,
                            lang=lang, regex_timeout=regex_timeout, year=year, max_bytes=max_bytes)
    result = run_audit(paths, config)
    if fmt == "console" and output is None:
        from ..report.console import print_console

        print_console(result, color=not no_color, quiet=quiet)
    else:
        write_output(output, _render(fmt, result, color=False, quiet=quiet))
    if html_path is not None:
        write_output(html_path, _render("html", result))
    failing = result.at_or_above(config.fail_on) if config.fail_on != "never" else []
    return 1 if failing else 0


def _render(fmt: str, result, **options) -> str:
    if fmt == "json":
        from ..report.json_report import render_json

        return render_json(result)
    if fmt == "html":
        from ..report.html import render_html

        return render_html(result)
    from ..report.console import render_console_text

    return render_console_text(result, **options)
