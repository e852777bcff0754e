"""Options shared by the commands that read documents, merged over the config file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from ..config import Config, load_config


def document_options(f):
    f = click.option("--year", type=click.IntRange(1900, 2100), default=None,
                     help="Publication year of the pages, when a page does not print its date.")(f)
    f = click.option("--max-bytes", type=click.IntRange(1), default=None,
                     help="Refuse files larger than this (default 64 MiB).")(f)
    f = click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="auditor.toml or pyproject.toml to read instead of the nearest one.")(f)
    return f


def resolve_config(config_path: Path | None, **overrides) -> Config:
    config = load_config(config_path)
    changes = {k: v for k, v in overrides.items() if v is not None and v != ()}
    return replace(config, **changes)
