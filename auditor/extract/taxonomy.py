"""The metric taxonomy (rules/metrics.yaml): label phrases and units to canonical metric ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import regex

from ..prefilter import any_of
from ..resources import default_data_file
from ..yaml_files import read_yaml_data

# Labels remembered by one process. The labels that recur (a county's 新建工会组织 page after page)
# are few; on a large archive most are new, and an entry takes ~330 bytes: at 200,000 (with the
# numeral cache at 65,536) an analysis worker peaked at 297 MB, at 20,000 (16,384) 238 MB, with
# no difference in speed beyond the noise (bench/corpus/200mb, 20 chunks in one process, 3 runs).
_MEMO_LIMIT = 20_000


@dataclass(frozen=True, slots=True)
class MetricDef:
    id: str
    name: str
    dimension: str
    units: tuple[str, ...]
    synonyms: frozenset[str]
    patterns: tuple[regex.Pattern, ...]
    band: tuple[float, float]
    stable: bool


@dataclass(frozen=True)
class Taxonomy:
    metrics: tuple[MetricDef, ...]
    by_id: dict[str, MetricDef]
    source: str
    _memo: dict = field(default_factory=dict, repr=False, compare=False)
    _fits: dict = field(default_factory=dict, repr=False, compare=False)
    _any_pattern: dict = field(default_factory=dict, repr=False, compare=False)

    def classify(self, label: str | None, dimension: str | None, units: tuple[str | None, ...] = ()) -> str | None:
        """The metric id for a label, or None. The figure's unit must fit the metric, by dimension
        or by being one of the metric's listed units (个 is generic: it counts stations as well as
        items), so "慰问金" in 元 and "慰问劳模" in 人 go to different metrics."""
        if not label:
            return None
        key = (label, dimension, units)
        if key not in self._memo:  # labels recur page after page: classify each once
            if len(self._memo) >= _MEMO_LIMIT:  # but most are new on a large archive: memory stays bounded
                self._memo.clear()
            self._memo[key] = self._classify(label, dimension, units)
        return self._memo[key]

    def _fitting(self, dimension: str | None, units: tuple[str | None, ...]) -> list[MetricDef]:
        """The metrics a figure of this dimension and these units may be, in taxonomy order (a few
        dozen (dimension, units) pairs in a whole archive, while labels are mostly new)."""
        key = (dimension, units)
        if key not in self._fits:
            self._fits[key] = [m for m in self.metrics if dimension is None or m.dimension == dimension
                               or any(u in m.units for u in units if u)]
        return self._fits[key]

    def _matches_any(self, fitting: list[MetricDef], key: tuple) -> "regex.Pattern | None":
        """One alternation of the patterns of `fitting` (None: none, or not joinable): most labels
        match no metric, and one search says so where each metric's patterns took ten."""
        if key not in self._any_pattern:
            joined = any_of([p.pattern for m in fitting for p in m.patterns])
            self._any_pattern[key] = regex.compile(joined) if joined else None
        return self._any_pattern[key]

    def _classify(self, label: str, dimension: str | None, units: tuple[str | None, ...]) -> str | None:
        fitting = self._fitting(dimension, units)
        for m in fitting:
            if label in m.synonyms:
                return m.id
        any_pattern = self._matches_any(fitting, (dimension, units))
        if any_pattern is not None and any_pattern.search(label) is None:
            return None
        for m in fitting:
            if any(p.search(label) for p in m.patterns):
                return m.id
        return None


@lru_cache(maxsize=8)
def load_taxonomy(path: str | None = None) -> Taxonomy:
    file = Path(path) if path else default_data_file("metrics.yaml")
    data = read_yaml_data(file) or {}
    defaults = data.get("defaults", {}) or {}
    default_band = tuple(defaults.get("band", (1 / 3, 3.0)))
    default_stable = bool(defaults.get("stable", False))
    metrics = []
    for entry in data.get("metrics", []):
        metrics.append(MetricDef(
            id=entry["id"],
            name=entry.get("name", entry["id"]),
            dimension=entry["dimension"],
            units=tuple(entry.get("units", ())),
            synonyms=frozenset(entry.get("synonyms", ()) or ()),
            patterns=tuple(regex.compile(p) for p in entry.get("patterns", ()) or ()),
            band=tuple(entry.get("band", default_band)),  # type: ignore[arg-type]
            stable=bool(entry.get("stable", default_stable)),
        ))
    return Taxonomy(tuple(metrics), {m.id: m for m in metrics}, str(file))
