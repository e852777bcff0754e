"""Built-in patterns: the defaults that run without the regex time limit (``_common.vetted``), and
the ones led by a first-character lookahead for speed, which must find what they found without it."""

from __future__ import annotations

import random

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from auditor.rules.kinds import _common, arithmetic, duplicate, unit
from auditor.rules.kinds._common import Timed

N = 100_000
HOSTILE = {
    "digit run then spaces": "1" * N + " " * N,
    "digit run then a unit": "1" * N + " " * N + "元",
    "decimal points": "1." * N,
    "Latin X": "X" * N,
    "X between letters": "aXXXXb" * (N // 6),
    "boxes": "□" * N,
    "Chinese tens": "十" * N,
    "hundreds": "一百" * N,
    "某": "某" * N,
}


def test_the_built_in_defaults_are_the_vetted_ones():
    assert _common._VETTED >= {duplicate.FIGURE, duplicate.PLACEHOLDER}
    cues = arithmetic.Params(check="parts-sum")  # the arithmetic kind's cue words, tried per figure
    assert _common._VETTED >= {cues.total_cue, cues.breakdown, cues.not_parts, cues.per_head, cues.not_share,
                               cues.share_of_own}
    assert Timed(duplicate.PLACEHOLDER, 0.5).timeout is None
    assert Timed(duplicate.PLACEHOLDER + "|X人", 0.5).timeout == 0.5  # anything else keeps the limit


@pytest.mark.parametrize("pattern", sorted(_common._VETTED))
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_vetted_patterns_run_through_hostile_text_in_linear_time(pattern, name):
    """Each runs over 100,000-character runs built to make a backtracking pattern quadratic; the
    time limit here is only a guard (quadratic would be 10^10 steps, minutes)."""
    text = HOSTILE[name]
    compiled = regex.compile(pattern, regex.V1)
    compiled.sub("", text, timeout=60)
    for start in range(0, len(text), len(text) // 7):
        compiled.search(text, start, timeout=60)


def test_vetted_patterns_on_random_mixtures_of_their_own_characters():
    rng = random.Random(3)
    for pattern in sorted(_common._VETTED):
        alphabet = sorted(set(regex.sub(r"[\\()\[\]?*+|{}^$]", "", pattern)) | {" ", "."})
        text = "".join(rng.choice(alphabet) for _ in range(N))
        regex.compile(pattern, regex.V1).sub("", text, timeout=60)


LED_BY_LOOKAHEAD = {
    "duplicate.FIGURE": (duplicate.FIGURE, "(?=[0-9零一二两三四五六七八九十])"),
    "unit._BARE": (unit._BARE.pattern, "(?=[0-9X])"),
}


@pytest.mark.parametrize("name", sorted(LED_BY_LOOKAHEAD))
@given(st.text(alphabet=st.sampled_from(list("ab XZx12.5%中文〇十两百千万亿元人家年至~-余多.")), max_size=40))
def test_a_first_character_lookahead_finds_what_the_pattern_found_without_it(name, text):
    pattern, lookahead = LED_BY_LOOKAHEAD[name]
    without = pattern.replace(lookahead, "", 1)
    assert without != pattern
    assert [m.span() for m in regex.finditer(pattern, text, regex.V1)] == \
        [m.span() for m in regex.finditer(without, text, regex.V1)]
