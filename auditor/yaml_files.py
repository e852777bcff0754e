"""YAML as auditor reads it: rule files and the taxonomies beside them (units, metrics, entities)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# libyaml when PyYAML was built with it: the pure-Python parser took 0.6 s of every audit's start.
_YAMLLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Rule files nest a few levels; libyaml's composer recurses in C and crashes the interpreter on a
# file nested 100 000 deep, so depth is checked on the flat event stream first.
_MAX_DEPTH = 200
_OPENS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSES = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def parse_yaml(text: str) -> tuple[yaml.Node | None, object]:
    """The node tree (for line numbers in errors) and the data built from it, in one parse."""
    depth = 0
    for event in yaml.parse(text, Loader=_YAMLLoader):
        if isinstance(event, _OPENS):
            depth += 1
            if depth > _MAX_DEPTH:
                raise RecursionError
        elif isinstance(event, _CLOSES):
            depth -= 1
    loader = _YAMLLoader(text)
    try:
        root = loader.get_single_node()
        return root, (loader.construct_document(root) if root is not None else None)
    finally:
        loader.dispose()


def read_yaml_data(path: str | Path) -> Any:
    """The data of a YAML file (a taxonomy), parsed as rule files are."""
    return parse_yaml(Path(path).read_text(encoding="utf-8"))[1]
