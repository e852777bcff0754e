"""Rule kinds: the detectors behind `kind:` in the rule files.

A kind is one module in auditor/rules/kinds/ that declares its parameters as a pydantic model and
registers a check function:

    class Params(BaseModel): ...

    @register_kind("placeholder", Params)
    def check(rule: Rule, ctx: AuditContext) -> Iterable[Finding]: ...

Modules in that package are discovered on first use, so adding a kind means adding one module.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable

from pydantic import BaseModel

if TYPE_CHECKING:  # pragma: no cover
    from ..findings import Finding
    from .context import AuditContext
    from .model import Rule

CheckFunction = Callable[["Rule", "AuditContext"], Iterable["Finding"]]


@dataclass(frozen=True)
class Kind:
    name: str
    Params: type[BaseModel]
    check: CheckFunction
    doc: str


_KINDS: dict[str, Kind] = {}
_discovered = False


def register_kind(name: str, params: type[BaseModel]) -> Callable[[CheckFunction], CheckFunction]:
    def decorate(check: CheckFunction) -> CheckFunction:
        if name in _KINDS and _KINDS[name].check is not check:
            raise RuntimeError(f"rule kind '{name}' registered twice")
        _KINDS[name] = Kind(name, params, check, (check.__module__ and importlib.import_module(check.__module__).__doc__) or "")
        return check

    return decorate


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    from . import kinds

    for module in pkgutil.iter_modules(kinds.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{kinds.__name__}.{module.name}")


def get_kind(name: str) -> Kind | None:
    _discover()
    return _KINDS.get(name)


def kind_names() -> list[str]:
    _discover()
    return sorted(_KINDS)
