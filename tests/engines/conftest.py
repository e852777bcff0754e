"""A small corpus for the engine tests: the five fixtures as printed, five pages made from them
whose wording is scrambled (so they share no text with any other page), and whole sentences copied
from one page into another: two long ones, and one of clauses too short to be copies alone."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import regex

from tests.conftest import FIXTURES

# Characters kept as they are: figures, units, dates and the names rules and metrics depend on.
_KEEP = set("零一二两三四五六七八九十百千万亿年月日余多近约共计其中每人均占元个名家项场户期件次工会职总市县区")
_SENTENCE = regex.compile(r"[^。！？\n]{24,80}[。！？]")
SHORT_CLAUSES = "五年来，组织开展招聘会58场次，提供就业岗位1.1万个，帮助职工实现就业。"


def scrambled(text: str, rng: random.Random) -> str:
    """The page with every other Han character replaced through a random one-to-one table."""
    pool = sorted({c for c in regex.findall(r"\p{Han}", text)} - _KEEP)
    shuffled = pool[:]
    rng.shuffle(shuffled)
    return text.translate(str.maketrans(dict(zip(pool, shuffled))))


def copy_sentence(source: str, target: str, rng: random.Random) -> tuple[str, str]:
    """`target` with a long sentence of `source` inserted after one of its sentences; and the copy."""
    sentences = [m.group() for m in _SENTENCE.finditer(source) if not regex.search(r"[Xx×□]", m.group())]
    sentence = rng.choice(sentences[len(sentences) // 3:])
    return insert(target, sentence), sentence


def insert(target: str, sentence: str) -> str:
    """`target` with `sentence` after the full stop halfway down it."""
    stops = [m.end() for m in regex.finditer("。", target)]
    at = stops[len(stops) // 2]
    return target[:at] + sentence + target[at:]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    rng = random.Random(11)
    folder = tmp_path_factory.mktemp("corpus")
    pages = {p.name: p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.txt"))}
    out = dict(pages)
    for k, (name, text) in enumerate(pages.items()):
        out[f"m{k}_{name}"] = scrambled(text, rng)
    out["m1_" + list(pages)[1]], _ = copy_sentence(out["m3_" + list(pages)[3]], out["m1_" + list(pages)[1]], rng)
    out["m4_" + list(pages)[4]], _ = copy_sentence(pages[list(pages)[2]], out["m4_" + list(pages)[4]], rng)
    for k in (0, 2):
        out[f"m{k}_" + list(pages)[k]] = insert(out[f"m{k}_" + list(pages)[k]], SHORT_CLAUSES)
    for name, text in out.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder

