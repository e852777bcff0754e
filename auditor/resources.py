"""Where the embedded defaults live: the rule pack and the taxonomies in the top-level `rules/`."""

from __future__ import annotations

import os
from pathlib import Path


def default_rules_dir() -> Path:
    """The default rule pack: $AUDITOR_RULES_DIR, else `rules/` beside the package (source and
    editable installs), else the copy installed inside the package as `auditor/_rules`."""
    override = os.environ.get("AUDITOR_RULES_DIR")
    if override:
        return Path(override)
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "rules", here / "_rules"):
        if candidate.is_dir():
            return candidate
    return here.parent / "rules"


def default_data_file(name: str) -> Path:
    """A taxonomy file of the default pack: units.yaml, metrics.yaml, entities.yaml."""
    return default_rules_dir() / name
