"""The unit lexicon (rules/units.yaml) as frozen dataclasses.

The lexicon is data: which unit words exist, what they normalise to, and which numeral-bearing terms are
not quantities. The grammar that uses it lives in numbers.py and quantities.py.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from ..yaml_files import read_yaml_data

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "rules" / "units.yaml"


@dataclass(frozen=True, slots=True)
class Unit:
    """One unit word as written, and how values in it normalise."""

    surface: str
    base: str
    scale: float
    dimension: str
    classifier: bool = False
    not_before: tuple[str, ...] = ()
    only_before: tuple[str, ...] = ()
    latin: bool = False

    def accepts(self, following: str) -> bool:
        """Whether the unit reading holds given the text right after the unit word."""
        if self.only_before and not following.startswith(self.only_before):
            return False
        if self.not_before and following.startswith(self.not_before):
            return False
        if self.latin and following[:1].isascii() and following[:1].isalpha():
            return False
        return True


@dataclass(frozen=True, slots=True)
class NotQuantities:
    """Numeral-bearing names and notations that are never quantities."""

    terms: tuple[str, ...]
    patterns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UnitLexicon:
    units: Mapping[str, Unit]
    currency_prefixes: Mapping[str, str]
    not_quantities: NotQuantities

    @property
    def max_length(self) -> int:
        return max(len(surface) for surface in self.units)


class LexiconError(ValueError):
    """rules/units.yaml is malformed."""


def _as_strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise LexiconError(f"{where}: expected a list of non-empty strings")
    return tuple(value)


def _unit(surface: str, spec: Any) -> Unit:
    if not isinstance(spec, dict) or "base" not in spec or "dimension" not in spec:
        raise LexiconError(f"units.{surface}: needs at least 'base' and 'dimension'")
    unknown = set(spec) - {"base", "scale", "dimension", "classifier", "not_before", "only_before", "latin"}
    if unknown:
        raise LexiconError(f"units.{surface}: unknown field(s) {sorted(unknown)}")
    scale = spec.get("scale", 1)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale <= 0:
        raise LexiconError(f"units.{surface}: scale must be a positive number")
    return Unit(
        surface=str(surface),
        base=str(spec["base"]),
        scale=float(scale),
        dimension=str(spec["dimension"]),
        classifier=bool(spec.get("classifier", False)),
        not_before=_as_strings(spec.get("not_before"), f"units.{surface}.not_before"),
        only_before=_as_strings(spec.get("only_before"), f"units.{surface}.only_before"),
        latin=bool(spec.get("latin", False)),
    )


def parse_lexicon(data: Any) -> UnitLexicon:
    """Build the lexicon from the decoded YAML document."""
    if not isinstance(data, dict) or not isinstance(data.get("units"), dict):
        raise LexiconError("units.yaml: top-level mapping with a 'units' mapping expected")
    units = {str(surface): _unit(str(surface), spec) for surface, spec in data["units"].items()}
    prefixes = data.get("currency_prefixes") or {}
    if not isinstance(prefixes, dict):
        raise LexiconError("currency_prefixes: expected a mapping")
    nq = data.get("not_quantities") or {}
    if not isinstance(nq, dict):
        raise LexiconError("not_quantities: expected a mapping")
    return UnitLexicon(
        units=MappingProxyType(units),
        currency_prefixes=MappingProxyType({str(k): str(v) for k, v in prefixes.items()}),
        not_quantities=NotQuantities(
            terms=_as_strings(nq.get("terms"), "not_quantities.terms"),
            patterns=_as_strings(nq.get("patterns"), "not_quantities.patterns"),
        ),
    )


@functools.lru_cache(maxsize=8)
def load_units(path: str | Path | None = None) -> UnitLexicon:
    """Load (once per path) the unit lexicon; the default is rules/units.yaml of this repository."""
    source = Path(path) if path is not None else DEFAULT_PATH
    return parse_lexicon(read_yaml_data(source))
