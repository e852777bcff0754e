"""Settings from `[tool.auditor]` in pyproject.toml or from auditor.toml, merged under the CLI flags.

The nearest file up from the working folder wins (auditor.toml before pyproject.toml in the same
folder). Unknown keys are errors, not silently ignored: a misspelt `selct` must not pass quietly.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import UsageError


@dataclass(frozen=True)
class Config:
    rules: tuple[str, ...] = ()  # extra rule files or folders
    no_default_rules: bool = False
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: str = "error"
    year: int | None = None
    lang: str = "zh"
    regex_timeout: float = 2.0
    max_bytes: int = 64 * 1024 * 1024
    history: str | None = None
    exclude: tuple[str, ...] = ("README*", "CHANGELOG*", "LICENSE*", "CONTRIBUTING*")  # when walking folders
    jobs: int | None = None  # worker processes of the local engine; None: one per core
    # Above this many bytes of input, the local engine keeps analysed documents on disk between the
    # stages instead of in memory (auditor/engines/spill.py).
    spill_above: int = 32 * 1024 * 1024
    engine: str = "local"  # local | spark
    source: str | None = None  # the file these came from
    extra: dict = field(default_factory=dict)


_KEYS = {f.name.replace("_", "-"): f.name for f in fields(Config) if f.name not in ("source", "extra")}
_FAIL_ON = ("error", "warning", "info", "never")


def find_config(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for name in ("auditor.toml", "pyproject.toml"):
            candidate = folder / name
            if candidate.is_file():
                if name == "pyproject.toml" and "[tool.auditor" not in candidate.read_text(encoding="utf-8", errors="replace"):
                    continue
                return candidate
    return None


def load_config(path: Path | None = None) -> Config:
    file = path or find_config()
    if file is None:
        return Config()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"invalid TOML: {exc}", path=str(file)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read config: {exc}", path=str(file)) from None
    tool = data.get("tool", {})
    if file.name == "pyproject.toml":
        table = tool.get("auditor", {}) if isinstance(tool, dict) else {}
    else:
        table = data
        if isinstance(tool, dict) and "auditor" in tool:
            table = tool["auditor"]
    if not isinstance(table, dict):
        raise UsageError("[tool.auditor] must be a table of settings", path=str(file))
    return _from_table(table, str(file))


MAX_REGEX_TIMEOUT = 1e6  # seconds; the regex module's clock overflows far above this


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_types(values: dict, source: str) -> None:
    """A value of the wrong type or range is one clear line now, never a traceback later."""
    if "max_bytes" in values and not (_whole(values["max_bytes"]) and values["max_bytes"] >= 1):
        raise UsageError("'max-bytes' must be a whole number of bytes, 1 or more", path=source)
    if "spill_above" in values and not (_whole(values["spill_above"]) and values["spill_above"] >= 0):
        raise UsageError("'spill-above' must be a whole number of bytes, 0 or more", path=source)
    timeout = values.get("regex_timeout", 2.0)
    if not (isinstance(timeout, (int, float)) and not isinstance(timeout, bool)
            and 0.01 <= timeout <= MAX_REGEX_TIMEOUT):
        raise UsageError(f"'regex-timeout' must be a number of seconds from 0.01 to {MAX_REGEX_TIMEOUT:g}", path=source)
    if "year" in values and not (_whole(values["year"]) and 1900 <= values["year"] <= 2100):
        raise UsageError("'year' must be a year from 1900 to 2100", path=source)
    if "no_default_rules" in values and not isinstance(values["no_default_rules"], bool):
        raise UsageError("'no-default-rules' must be true or false", path=source)
    if "history" in values and not isinstance(values["history"], str):
        raise UsageError("'history' must be a path (a string)", path=source)


def _from_table(table: dict, source: str) -> Config:
    values: dict = {}
    for key, value in table.items():
        name = _KEYS.get(key) or _KEYS.get(key.replace("_", "-"))
        if name is None:
            raise UsageError(f"unknown key '{key}' in [tool.auditor] (known: {', '.join(sorted(_KEYS))})", path=source)
        values[name] = value
    for name in ("rules", "select", "ignore", "exclude"):
        if name in values:
            v = values[name]
            if not isinstance(v, (str, list)) or not all(isinstance(x, str) for x in ([v] if isinstance(v, str) else v)):
                raise UsageError(f"'{name}' must be a string or a list of strings", path=source)
            values[name] = (v,) if isinstance(v, str) else tuple(v)
    _check_types(values, source)
    if values.get("fail_on", "error") not in _FAIL_ON:
        raise UsageError(f"'fail-on' must be one of {', '.join(_FAIL_ON)}", path=source)
    if values.get("lang", "zh") not in ("zh", "en"):
        raise UsageError("'lang' must be zh or en", path=source)
    if values.get("engine", "local") not in ("local", "spark"):
        raise UsageError("'engine' must be local or spark", path=source)
    if "jobs" in values and (not isinstance(values["jobs"], int) or isinstance(values["jobs"], bool)
                             or values["jobs"] < 1):
        raise UsageError("'jobs' must be a whole number, 1 or more", path=source)
    if "rules" in values:  # relative paths are relative to the config file
        base = Path(source).parent
        values["rules"] = tuple(str(base / r) if not Path(r).is_absolute() else r for r in values["rules"])
    try:
        return Config(**values, source=source)
    except TypeError as exc:
        raise UsageError(str(exc), path=source) from None
