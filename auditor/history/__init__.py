"""The history: an archive of published pages (DuckDB) that year-over-year and duplicate rules read.

Importing this package is cheap: duckdb and pandas load when a store is opened.
"""

from __future__ import annotations

import os
from pathlib import Path

from .store import (DEFAULT_PATH, SCHEMA_VERSION, AddResult, ArchivedFigure, Exclusion, HistoryBusyError,
                    HistoryError, HistoryStore)

__all__ = [
    "DEFAULT_PATH", "SCHEMA_VERSION", "AddResult", "ArchivedFigure", "Exclusion", "HistoryBusyError",
    "HistoryError", "HistoryStore", "history_path", "open_for_audit",
]


def history_path(config=None, explicit: str | os.PathLike | None = None) -> Path:
    """Where the store is: the path given on the command line (relative to the working folder),
    else the config's `history` (relative to the config file), else .auditor/history.duckdb under
    the working folder."""
    if explicit:
        return Path(explicit)
    configured = getattr(config, "history", None)
    if configured:
        path = Path(configured).expanduser()
        source = getattr(config, "source", None)
        if not path.is_absolute() and source:
            path = Path(source).parent / path
        return path
    return Path.cwd() / DEFAULT_PATH


def open_for_audit(config=None, explicit: str | os.PathLike | None = None) -> HistoryStore | None:
    """The store opened read-only for an audit, or None when there is no store file: an audit
    without history is an ordinary audit, never an error."""
    path = history_path(config, explicit)
    if not path.is_file():
        return None
    return HistoryStore.open(path, read_only=True)
