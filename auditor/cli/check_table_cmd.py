"""`auditor check-table` (gate incoming metric tables) and `auditor export-suite` (the compiled rules).

Exit codes as for `audit`: 0 clean, 1 findings at --fail-on or above, 2 a usage or input error (a
malformed table names the file, line and column). pandas, pandera and great_expectations load only
inside the commands, and great_expectations only for --engine gx.
"""

from __future__ import annotations

from pathlib import Path

import click

from .options import resolve_config

TABLE_FORMATS = ["console", "json", "sarif", "junit", "github", "markdown"]


def _rule_options(f):
    f = click.option("--ignore", multiple=True, help="Skip these rules (same forms as --select).")(f)
    f = click.option("--select", multiple=True, help="Run only these rules: id prefix (P, U001), name or category.")(f)
    f = click.option("--no-default-rules", is_flag=True, default=None, help="Use only the rules given with --rules.")(f)
    f = click.option("--rules", "rule_paths", multiple=True, type=click.Path(),
                     help="Extra rule file or folder (repeatable).")(f)
    return f


def _table_options(f):
    f = click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="auditor.toml or pyproject.toml to read instead of the nearest one.")(f)
    f = click.option("--history", "history", multiple=True, type=click.Path(),
                     help="Figures of earlier years for year-over-year checks: a metric table (CSV, JSON lines, "
                          "Parquet, Excel, e.g. `auditor extract` output) or a DuckDB history store. Repeatable.")(f)
    f = click.option("--sheet", default=None, help="Excel: the sheet to read (default: the first).")(f)
    f = click.option("--encoding", default="utf-8", show_default=True,
                     help="Encoding of CSV and JSON-lines tables (e.g. gb18030).")(f)
    f = click.option("--column", "columns", multiple=True, metavar="CANONICAL=HEADER",
                     help="Map a table column to a canonical one (entity, year, label, metric, value, unit), "
                          "e.g. --column value=金额. Repeatable.")(f)
    f = click.option("--engine", type=click.Choice(["pandera", "gx"]), default="pandera", show_default=True,
                     help="pandera: the compiled pandera schema (fast); gx: a Great Expectations suite and "
                          "validation.")(f)
    return f


@click.command("check-table")
@click.argument("files", nargs=-1, required=True)
@_table_options
@_rule_options
@click.option("--gx-project", type=click.Path(file_okay=False), default=None,
              help="--engine gx: use this GX project (its data source, suite and stores) instead of an "
                   "ephemeral context.")
@click.option("--gx-data-docs", "gx_data_docs", is_flag=False, flag_value="", default=None, metavar="[DIR]",
              help="--engine gx: also build GX Data Docs (the project's sites, or DIR; default gx-data-docs/). "
                   "Give the table files before it, or DIR explicitly.")
@click.option("--format", "fmt", type=click.Choice(TABLE_FORMATS), default="console", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, help="Write the report here.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info", "never"]), default=None,
              help="Exit 1 when a finding of this severity or higher is found (default: error).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None, help="Language of messages (default zh).")
@click.option("--baseline", type=click.Path(dir_okay=False), default=None,
              help="Report only findings not in this baseline file (the others are listed as suppressed).")
@click.option("--write-baseline", "write_baseline_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Record the current findings (by fingerprint) in this baseline file.")
@click.option("--no-history", is_flag=True,
              help="Do not read the configured history store (default .auditor/history.duckdb, when it exists).")
@click.option("--max-bytes", type=click.IntRange(1), default=None, help="Refuse larger files (default 64 MiB).")
@click.option("--no-color", is_flag=True, help="Plain text output.")
@click.option("--quiet", "-q", is_flag=True, help="Only the summary.")
def check_table(files, engine, columns, encoding, sheet, history, config_path, rule_paths, no_default_rules, select,
                ignore, gx_project, gx_data_docs, fmt, output, fail_on, lang, baseline, write_baseline_path,
                no_history, max_bytes, no_color, quiet) -> int:
    """Check metric tables FILES (CSV, TSV, JSON lines, Parquet, Excel; folders are walked) against the
    rules: placeholders in cells, units per metric, year over year, totals.

    \b
    auditor check-table incoming/*.csv --format sarif -o auditor.sarif
    auditor check-table report.xlsx --column entity=填报单位 --column value=金额
    auditor check-table t.csv --engine gx --gx-data-docs site/
    """
    from ..errors import UsageError
    from ..tables.gate import GateOptions, check_tables
    from ..tables.read import parse_column_map
    from .audit_cmd import emit

    if engine != "gx" and (gx_project is not None or gx_data_docs is not None):
        raise UsageError("--gx-project and --gx-data-docs need --engine gx")
    config = resolve_config(config_path, rules=tuple(rule_paths) or None, no_default_rules=no_default_rules,
                            select=tuple(select) or None, ignore=tuple(ignore) or None, fail_on=fail_on,
                            lang=lang, max_bytes=max_bytes)
    options = GateOptions(engine=engine, column_map=parse_column_map(columns), encoding=encoding, sheet=sheet,
                          history=tuple(history), use_store=not no_history,
                          gx_project=gx_project, gx_data_docs=gx_data_docs, baseline=baseline)
    result = check_tables(files, config, options)
    return emit(result, fmt=fmt, output=output, fail_on=config.fail_on, no_color=no_color, quiet=quiet,
                write_baseline_path=write_baseline_path)


@click.command("export-suite")
@click.option("--engine", type=click.Choice(["pandera", "gx"]), required=True,
              help="gx: a Great Expectations 1.x ExpectationSuite (JSON); pandera: a Python module defining "
                   "`schema` (a pandera DataFrameSchema).")
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, help="Write it here (default stdout).")
@click.option("--table", "table_path", type=click.Path(), default=None,
              help="Compile the data-dependent checks (year over year, totals, magnitude slips) for this table "
                   "too; without it only the checks that hold for any table are written.")
@click.option("--column", "columns", multiple=True, metavar="CANONICAL=HEADER",
              help="Column mapping, as for check-table.")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of a CSV/JSON-lines --table.")
@click.option("--sheet", default=None, help="Excel: the sheet of --table to read.")
@click.option("--history", multiple=True, type=click.Path(), help="Earlier years' figures, as for check-table.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="auditor.toml or pyproject.toml to read instead of the nearest one.")
@_rule_options
def export_suite(engine, output, table_path, columns, encoding, sheet, history, config_path, rule_paths,
                 no_default_rules, select, ignore) -> int:
    """Write the table rules compiled for Great Expectations or pandera, for teams that run those tools.

    Both validate auditor's canonical table frame (see auditor/tables/read.py: entity, label, metric,
    unit, year_raw, value_raw, year, value, base_value, base_unit, dimension, unit_key, metric_id, name).
    """
    from ..audit import load_selected_rules
    from ..report.write import write_output
    from ..tables.gate import GateOptions, history_figures, read_tables
    from ..tables.plan import plan_checks, table_rules
    from ..tables.read import parse_column_map

    config = resolve_config(config_path, rules=tuple(rule_paths) or None, no_default_rules=no_default_rules,
                            select=tuple(select) or None, ignore=tuple(ignore) or None)
    rule_set, selected = load_selected_rules(config)
    rules = table_rules(selected)
    options = GateOptions(column_map=parse_column_map(columns), encoding=encoding, sheet=sheet)
    if table_path is not None:
        (table,) = read_tables([table_path], rule_set.rules, config, options)
        archive = list(history_figures(history, rule_set.rules, config, options, [table]))
        checks = plan_checks(rules, table.frame, history=archive, columns=tuple(table.mapping))
    else:
        checks = plan_checks(rules)
    title = f"auditor {', '.join(r.id for r in rules)}"
    if engine == "gx":
        from ..tables.compile_gx import suite_json

        text = suite_json(checks)
    else:
        from ..tables.compile_pandera import schema_source

        text = schema_source(checks, title=title)
    write_output(output, text)
    if output is not None:
        click.echo(f"auditor: wrote {len(checks)} checks of {len(rules)} rules to {output}", err=True)
    return 0
