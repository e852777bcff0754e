"""Rule files (YAML) to validated Rule objects, with errors that name file, line and column.

A rule file is a mapping with one key, `rules:`, holding a list of rules. Each rule's common keys
are checked by `RuleSpec`; its `params:` by the schema of its kind. PyYAML's node tree is kept
alongside the data so that any error, a syntax error or a wrong parameter deep inside `params`,
points at the line and column where the offending value is written.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import RuleFileError
from ..findings import CATEGORIES
from ..resources import default_rules_dir
from ..yaml_files import parse_yaml
from .model import Rule
from .registry import get_kind

# Top-level keys of the taxonomy files that live beside the rules: not rule files.
_DATA_FILE_KEYS = {"metrics", "units", "entities", "defaults", "not_quantities", "scales"}


class _Texts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zh: str
    en: str | None = None


class RuleSpec(BaseModel):
    """The keys every rule has, whatever its kind."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Z]{1,3}[0-9]{3}$", description="stable code such as D001")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    kind: str
    category: Literal[CATEGORIES]  # type: ignore[valid-type]
    severity: Literal["error", "warning", "info"]
    summary: _Texts
    message: _Texts
    description: _Texts | None = None
    example: str | None = None
    enabled: bool = True
    params: dict = Field(default_factory=dict)

    @field_validator("message")
    @classmethod
    def _message_is_a_template(cls, message: _Texts) -> _Texts:
        for text in (message.zh, message.en):
            if text is not None:
                _check_template(text)
        return message


def _check_template(text: str) -> None:
    """Messages are filled with str.format_map: only plain {name} fields, so a stray brace, a
    positional field, an attribute lookup or a format spec fails here, with the file and line,
    and never while a report is being written."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValueError(f"message {text!r} is not a valid template ({exc}; write {{{{ and }}}} for braces)") from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"message field {{{name}{'!' + conversion if conversion else ''}"
                             f"{':' + spec if spec else ''}}} is not allowed: only plain fields such as "
                             f"{{text}} (write {{{{ and }}}} for braces)")


class RuleFileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[dict]


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    files: tuple[str, ...]

    def by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}


def rule_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.suffix in (".yaml", ".yml") and f.is_file()))
        elif p.exists():
            files.append(p)
        else:
            raise RuleFileError("rule file or folder not found", path=str(p))
    return files


def load_rules(paths: Iterable[str | Path] | None = None, *, include_defaults: bool = True) -> RuleSet:
    """Rules from the default pack (unless excluded) and the given files or folders."""
    sources: list[Path] = []
    if include_defaults:
        sources.extend(rule_files([default_rules_dir()]))
    if paths:
        sources.extend(rule_files(paths))
    return _rule_set((file, None) for file in dict.fromkeys(sources))  # a file named twice loads once


def rule_set_from_texts(files: Iterable[tuple[str, str]]) -> RuleSet:
    """The rules of an earlier audit from its rule files as it recorded them, (path, YAML text)
    each (see ``auditor.report.from_tables``): the files need not exist here any more."""
    return _rule_set((Path(path), text) for path, text in files)


def rule_file_text(file: str | Path) -> str:
    """A rule file's text as the loader reads it (UTF-8, a BOM dropped)."""
    return Path(file).read_bytes().decode("utf-8-sig")


def _rule_set(files: Iterable[tuple[Path, str | None]]) -> RuleSet:
    rules: list[Rule] = []
    seen: dict[str, Rule] = {}
    loaded: list[str] = []
    for file, text in files:
        file_rules = load_rule_file(file, text)
        if file_rules is None:
            continue
        loaded.append(str(file))
        for rule in file_rules:
            if rule.id in seen:
                first = seen[rule.id]
                raise RuleFileError(f"rule id {rule.id} is already defined in {first.source}:{first.line}",
                                    path=rule.source, line=rule.line)
            seen[rule.id] = rule
            rules.append(rule)
    return RuleSet(tuple(rules), tuple(loaded))


def load_rule_file(file: Path, text: str | None = None) -> list[Rule] | None:
    """The rules of one file (read from disk unless its `text` is given); None for a taxonomy
    file that sits beside them."""
    try:
        text = rule_file_text(file) if text is None else text
    except UnicodeDecodeError as exc:
        raise RuleFileError(f"rule file is not UTF-8 (byte {exc.start})", path=str(file)) from None
    except OSError as exc:
        raise RuleFileError(f"cannot read rule file: {exc.strerror}", path=str(file)) from None
    try:
        root, data = parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise RuleFileError(f"YAML syntax error: {problem}", path=str(file),
                            line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise RuleFileError(f"YAML error: {_one_line(exc)}", path=str(file)) from None
    except RecursionError:  # PyYAML composes recursively: thousands of nested [ or - levels
        raise RuleFileError("YAML nested too deeply", path=str(file)) from None
    if root is None:
        raise RuleFileError("rule file is empty", path=str(file))
    _reject_duplicate_keys(root, file)
    if not isinstance(data, dict):
        raise _error_at(file, root, (), "a rule file must be a mapping with a 'rules:' list")
    if "rules" not in data and set(data) & _DATA_FILE_KEYS:
        return None
    try:
        RuleFileSpec.model_validate(data)
    except ValidationError as exc:
        raise _from_validation(file, root, (), exc) from None
    return [_build_rule(file, root, i, entry) for i, entry in enumerate(data["rules"])]


def _build_rule(file: Path, root: yaml.Node, index: int, entry: dict) -> Rule:
    here = ("rules", index)
    try:
        spec = RuleSpec.model_validate(entry)
    except ValidationError as exc:
        raise _from_validation(file, root, here, exc) from None
    kind = get_kind(spec.kind)
    if kind is None:
        from .registry import kind_names

        raise _error_at(file, root, here + ("kind",),
                        f"unknown rule kind '{spec.kind}' (known: {', '.join(kind_names())})")
    try:
        params = kind.Params.model_validate(spec.params)
    except ValidationError as exc:
        raise _from_validation(file, root, here + ("params",), exc) from None
    except ValueError as exc:  # a validator that compiles a regex, say
        raise _error_at(file, root, here + ("params",), str(exc)) from None
    node = _node_at(root, here)
    return Rule(
        id=spec.id, name=spec.name, kind=spec.kind, category=spec.category, severity=spec.severity,
        message=spec.message.model_dump(exclude_none=True), summary=spec.summary.model_dump(exclude_none=True),
        params=params, source=str(file), line=node.start_mark.line + 1, example=spec.example,
        description=spec.description.model_dump(exclude_none=True) if spec.description else {},
    ) if spec.enabled else _disabled(spec, params, file, node)


def _disabled(spec: RuleSpec, params: BaseModel, file: Path, node: yaml.Node) -> Rule:
    # A rule switched off in its file is still listed (rules list shows it), never run.
    return Rule(id=spec.id, name=spec.name, kind=spec.kind, category=spec.category, severity=spec.severity,
                message=spec.message.model_dump(exclude_none=True), summary=spec.summary.model_dump(exclude_none=True),
                params=params, source=str(file), line=node.start_mark.line + 1, example=spec.example,
                description={"disabled": "true"})


# ---------------------------------------------------------------- locating errors in the file

def _node_at(root: yaml.Node, loc: tuple) -> yaml.Node:
    """The deepest node along `loc` (mapping keys and list indices) that exists."""
    node = root
    for step in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(step):
                    node = value_node
                    break
            else:
                return node
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            return node
    return node


def _key_node_at(root: yaml.Node, loc: tuple) -> yaml.Node | None:
    """The key node for the last step of `loc`, to point at an unknown key itself."""
    parent = _node_at(root, loc[:-1])
    if isinstance(parent, yaml.MappingNode):
        for key_node, _ in parent.value:
            if key_node.value == str(loc[-1]):
                return key_node
    return None


def _error_at(file: Path, root: yaml.Node, loc: tuple, message: str) -> RuleFileError:
    node = _node_at(root, loc)
    return RuleFileError(message, path=str(file), line=node.start_mark.line + 1, column=node.start_mark.column + 1)


def _from_validation(file: Path, root: yaml.Node, base: tuple, exc: ValidationError) -> RuleFileError:
    err = exc.errors()[0]
    loc = base + tuple(err["loc"])
    where = ".".join(str(x) for x in loc[2:] if not (isinstance(x, str) and x.startswith("function"))) or "rule"
    if err["type"] == "extra_forbidden":
        key = _key_node_at(root, loc)
        node = key if key is not None else _node_at(root, loc)
        message = f"unknown key '{loc[-1]}'" + (f" in {'.'.join(map(str, loc[2:-1]))}" if len(loc) > 3 else "")
    else:
        node = _node_at(root, loc)
        if err["type"] == "missing":
            message = f"missing required key '{loc[-1]}'"
        else:
            message = f"{where}: {err['msg'].removeprefix('Value error, ')}"
            if "input" in err and not isinstance(err["input"], (dict, list)):
                message += f" (got {err['input']!r})"
    return RuleFileError(message, path=str(file), line=node.start_mark.line + 1, column=node.start_mark.column + 1)


def _reject_duplicate_keys(root: yaml.Node, file: Path) -> None:
    """Duplicate keys anywhere in the file. Each node is visited once: an alias is the node it
    names, so nested aliases ("billion laughs") would otherwise be walked exponentially often."""
    visited: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                if key_node.value in seen:
                    raise RuleFileError(f"duplicate key '{key_node.value}'", path=str(file),
                                        line=key_node.start_mark.line + 1, column=key_node.start_mark.column + 1)
                seen.add(key_node.value)
                stack.append(value_node)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
