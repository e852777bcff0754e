"""`auditor history`: the archive of published pages that year-over-year and duplicate checks read.

    auditor history add fixtures/001*.txt        ingest (idempotent; a changed file replaces its page)
    auditor history list                          the pages stored
    auditor history show 洮南 --metric relief_funds   an organisation's series, with a small chart
    auditor history remove fixtures/001_….txt     drop pages (by path or sha256 prefix)
    auditor history export --parquet out/         every table as Parquet, partitioned by year

The store is `--history PATH` (on the group or any command), else `history` in the config, else
.auditor/history.duckdb under the working folder. Errors are one line naming the store, exit 2.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import click

from .options import document_options, resolve_config

_CHUNK = 100  # pages analysed between conversions to rows: memory holds rows, not documents


def _history_option(f):
    return click.option("--history", "history_path", type=click.Path(dir_okay=False), default=None,
                        help="The store (default: config `history`, else .auditor/history.duckdb).")(f)


def _wait_option(f):
    return click.option("--wait", type=click.FloatRange(0), default=10.0, show_default=True,
                        help="Seconds to wait while another process writes the store.")(f)


@click.group("history")
@_history_option
@click.pass_context
def history(ctx: click.Context, history_path: str | None) -> None:
    """The archive of published pages: year-over-year checks and copied text read it.

    \b
    auditor history add fixtures/001*.txt
    auditor history show 洮南市总工会 --metric relief_funds
    auditor history export --parquet archive/
    """
    ctx.ensure_object(dict)["history"] = history_path


def _path(explicit: str | None, config=None) -> Path:
    from ..history import history_path

    group = click.get_current_context().find_object(dict) or {}  # --history given on the group
    return history_path(config, explicit or group.get("history"))


@contextlib.contextmanager
def _store(path: Path, *, read_only: bool, wait: float = 10.0) -> Iterator:
    """The store, open for the command; database errors become one line naming the store."""
    import duckdb

    from ..errors import AuditorError
    from ..history import HistoryError, HistoryStore

    try:
        with HistoryStore.open(path, read_only=read_only, wait=wait) as store:
            yield store
    except AuditorError:
        raise
    except duckdb.Error as exc:
        first = (str(exc).strip().splitlines() or ["database error"])[0]
        raise HistoryError(first, path=str(path)) from None


# ---------------------------------------------------------------- add

@history.command("add")
@click.argument("paths", nargs=-1, required=True)
@_history_option
@_wait_option
@click.option("--quiet", "-q", is_flag=True, help="Only the summary line.")
@document_options
def add(paths, history_path, wait, quiet, year, max_bytes, config_path) -> int:
    """Ingest published pages (files or folders) into the history, in one transaction.

    The same file again adds nothing; a file whose content changed replaces its earlier version.
    Every page is read and analysed before the store is touched: one unreadable file and nothing
    is written."""
    from ..audit import analyse_paths
    from ..history.store import batch_from_documents, concat_batches

    from ..documents.load import iter_document_paths
    from ..errors import UsageError

    config = resolve_config(config_path, year=year, max_bytes=max_bytes)
    path = _path(history_path, config)
    files = list(iter_document_paths(paths, exclude=config.exclude))
    if not files:
        raise UsageError("no documents found (supported: .txt .md .docx .pdf .html)")
    batches = [batch_from_documents(analyse_paths(files[i:i + _CHUNK], config))
               for i in range(0, len(files), _CHUNK)]
    with _store(path, read_only=False, wait=wait) as store:
        result = store.add_batch(concat_batches(batches))
    if not quiet:
        for verb, names in (("added", result.added), ("replaced", result.replaced), ("unchanged", result.unchanged)):
            for name in names:
                click.echo(f"{verb:9} {name}")
    rows = result.rows
    click.echo(f"history: {len(result.added)} added, {len(result.replaced)} replaced, {len(result.unchanged)} "
               f"unchanged ({rows.get('metrics', 0)} figures, {rows.get('clauses', 0)} clauses) → {path}")
    return 0


# ---------------------------------------------------------------- list

@history.command("list")
@_history_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--limit", type=click.IntRange(0), default=100, show_default=True,
              help="Pages shown in the table (0: all); JSON lists every page.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="auditor.toml or pyproject.toml to read instead of the nearest one.")
def list_(history_path, fmt, limit, config_path) -> int:
    """The pages in the history."""
    path = _path(history_path, resolve_config(config_path))
    with _store(path, read_only=True) as store:
        frame = store.list_documents()
        counts = store.counts()
        version = store.version
    if fmt == "json":
        click.echo(frame.to_json(orient="records", force_ascii=False, date_format="iso", indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{path} · schema v{version}", title_justify="left", show_edge=False, pad_edge=False)
    for col in ("path", "year", "articles", "figures", "organisations", "sha256"):
        table.add_column(col, justify="right" if col in ("year", "articles", "figures") else "left",
                         overflow="fold")
    shown = frame if not limit else frame.head(limit)
    for row in shown.itertuples(index=False):
        table.add_row(row.path, _text(row.publication_year), str(row.articles), str(row.metrics),
                      _names(_text(row.entities)), row.sha256)
    console = Console(soft_wrap=False)
    console.print(table)
    if len(shown) < len(frame):
        console.print(f"… {len(frame) - len(shown)} more (--limit 0 shows all)", highlight=False)
    console.print(f"{counts['documents']} pages, {counts['metrics']} figures, {counts['clauses']} clauses, "
                  f"{counts['bands']} band keys", highlight=False)
    return 0



# ---------------------------------------------------------------- show

@history.command("show")
@click.argument("entity")
@_history_option
@click.option("--metric", "-m", default=None, help="Only this metric (id such as relief_funds, or its label).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="auditor.toml or pyproject.toml to read instead of the nearest one.")
def show(entity, history_path, metric, fmt, config_path) -> int:
    """An organisation's figures year by year (ENTITY: its name, or part of it), with a chart."""
    from ..history import HistoryError

    path = _path(history_path, resolve_config(config_path))
    with _store(path, read_only=True) as store:
        names = store.entities(entity)
        if not names:
            raise HistoryError(f"no organisation matching '{entity}' in the history", path=str(path))
        if len(names) > 1:
            raise HistoryError(f"'{entity}' matches {len(names)} organisations ({'、'.join(names[:8])}"
                               f"{' …' if len(names) > 8 else ''}): name one", path=str(path))
        frame = store.series(names[0], metric)
    if frame.empty:
        raise HistoryError(f"no figures of {names[0]}" + (f" for metric '{metric}'" if metric else ""), path=str(path))
    if fmt == "json":
        click.echo(frame.to_json(orient="records", force_ascii=False, indent=2))
        return 0
    _print_series(names[0], frame)
    return 0


_BLOCKS = " ▏▎▍▌▋▊▉█"


def _bar(value: float, top: float, width: int = 24) -> str:
    """A horizontal bar in eighths of a character: a chart that needs nothing but a terminal."""
    if top <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / top * width * 8))
    return "█" * (eighths // 8) + (_BLOCKS[eighths % 8] if eighths % 8 else "")


def _print_series(entity: str, frame) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=False)
    for metric, rows in frame.groupby("metric", sort=True):
        label = rows["label"].iloc[0]
        table = Table(title=f"{entity} · {label or metric} ({metric})", title_justify="left", show_edge=False,
                      pad_edge=False)
        for col, justify in (("year", "right"), ("figure", "right"), ("", "left"), ("page", "left")):
            table.add_column(col, justify=justify, no_wrap=True)
        top = float(rows["value"].max())
        previous_year = None
        for row in rows.itertuples(index=False):
            year = "" if row.year == previous_year else str(row.year)
            previous_year = row.year
            table.add_row(year, "".join(str(row.text).split()), f"[cyan]{_bar(float(row.value), top)}[/]",
                          str(row.document).rsplit("/", 1)[-1])
        console.print(table)
        console.print()


def _names(joined: str, shown: int = 3) -> str:
    """The first few organisations of a page, and how many more."""
    names = [n for n in joined.split("、") if n]
    return "、".join(names[:shown]) + (f" +{len(names) - shown}" if len(names) > shown else "")


def _text(value) -> str:
    try:
        import pandas as pd

        return "" if pd.isna(value) else str(value)
    except (TypeError, ValueError):
        return str(value)


# ---------------------------------------------------------------- remove

@history.command("remove")
@click.argument("selectors", nargs=-1, required=True)
@_history_option
@_wait_option
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="auditor.toml or pyproject.toml to read instead of the nearest one.")
def remove(selectors, history_path, wait, config_path) -> int:
    """Remove pages: SELECTORS are stored paths, files on disk, or sha256 prefixes (8+ characters)."""
    path = _path(history_path, resolve_config(config_path))
    if not path.is_file():
        from ..history import HistoryError

        raise HistoryError("no history store here", path=str(path))
    with _store(path, read_only=False, wait=wait) as store:
        removed = store.remove(selectors)
    for name in removed:
        click.echo(f"removed   {name}")
    click.echo(f"history: {len(removed)} removed → {path}")
    return 0


# ---------------------------------------------------------------- export

@history.command("export")
@_history_option
@click.option("--parquet", "directory", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write: one sub-folder per table, partitioned pub_year=YYYY (Hive layout).")
@click.option("--force", is_flag=True, help="Replace the folder when it is not empty.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="auditor.toml or pyproject.toml to read instead of the nearest one.")
def export(history_path, directory, force, config_path) -> int:
    """Every table as Parquet, readable by Spark or pandas as is."""
    path = _path(history_path, resolve_config(config_path))
    with _store(path, read_only=True) as store:
        counts = store.export_parquet(directory, overwrite=force)
    click.echo("exported " + ", ".join(f"{t} {n}" for t, n in counts.items()) + f" → {directory}")
    return 0
