"""Organisation names: finding them in text and mapping spellings to one canonical name."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import regex

from ..resources import default_data_file
from ..yaml_files import read_yaml_data

# A place (Han characters, or an unfilled "X"), an administrative level, then the union itself.
# Function words and time words never stand inside a place name.
_PLACE_CHAR = r"[\p{Han}--[的和在对了与及或为是被把将向从由等其这那各全本该我年月日初末底中上下给以按照结合领导正确工会]]"
_ORG = regex.compile(
    r"""(?:(?<=^|[\s\p{P}0-9X年讯来和与在为向对由是])|(?<=^))
    (?P<name>
        (?:""" + _PLACE_CHAR + r"""{1,8}?|X)
        (?:经济开发区|保护开发区|开发区|经开区|工业园区|园区|管理局|[\p{Han}]{0,6}?局|市|区|县|州|盟|旗|镇|乡|街道)
        (?:机关|教育系统)?
        (?:总工会|工会|职工总会)
    )""",
    regex.VERBOSE | regex.V1,
)
# Words that start a phrase but are never part of a place name ("在全区工会", "各级工会").
_NOT_A_PLACE_START = regex.compile(r"^(?:全|各|本|该|我|在|为|和|与|对|向|由|使|及|等|其|以|把|被|将|了|是|区总|市总|县总)")
_DOUBLED = regex.compile(r"^(?P<x>.{2,20}?)(?P=x)$")


@dataclass(frozen=True, slots=True)
class EntityMention:
    start: int
    end: int
    text: str
    name: str  # canonical


@dataclass(frozen=True)
class EntityLexicon:
    canonical: dict[str, str]  # every known spelling → canonical name
    _alias_pattern: regex.Pattern | None

    def canonicalise(self, written: str) -> str:
        written = undouble(written)
        return self.canonical.get(written, written)

    def find(self, text: str, start: int = 0, end: int | None = None) -> list[EntityMention]:
        """Organisation mentions in text[start:end], known spellings first, longest wins."""
        end = len(text) if end is None else end
        found: list[EntityMention] = []
        if self._alias_pattern is not None:
            for m in self._alias_pattern.finditer(text, start, end):
                found.append(EntityMention(m.start(), m.end(), m.group(), self.canonical[m.group()]))
        for m in _ORG.finditer(text, start, end):
            name = m.group("name")
            trimmed = _trim_place(name)
            offset = m.start() + (len(name) - len(trimmed))
            if len(trimmed) < 4:
                continue
            found.append(EntityMention(offset, m.end(), trimmed, self.canonicalise(trimmed)))
        return _longest_first(found)


def undouble(written: str) -> str:
    """"长春市总工会长春市总工会" (an OCR-doubled header) → "长春市总工会"."""
    m = _DOUBLED.match(written)
    return m.group("x") if m else written


def _trim_place(name: str) -> str:
    # The lazy place part can still start on a function word: "在全区工会" → drop "在全".
    while name and _NOT_A_PLACE_START.match(name) and len(name) > 4:
        name = name[1:]
    return "" if _NOT_A_PLACE_START.match(name) else name


def _longest_first(mentions: list[EntityMention]) -> list[EntityMention]:
    chosen: list[EntityMention] = []
    for m in sorted(mentions, key=lambda m: (m.start, -(m.end - m.start))):
        if chosen and m.start < chosen[-1].end:
            continue
        chosen.append(m)
    return chosen


@lru_cache(maxsize=8)
def load_entities(path: str | None = None) -> EntityLexicon:
    file = Path(path) if path else default_data_file("entities.yaml")
    data = read_yaml_data(file) or {}
    canonical: dict[str, str] = {}
    for entry in data.get("entities", []):
        name = entry["name"]
        canonical[name] = name
        for alias in entry.get("aliases", []) or []:
            canonical[alias] = name
    spellings = sorted(canonical, key=len, reverse=True)
    pattern = regex.compile("|".join(regex.escape(s) for s in spellings)) if spellings else None
    return EntityLexicon(canonical, pattern)
