"""Prefilters before a regex search (auditor/prefilter.py): the literals read off a pattern are in
every match, so a text without them is rightly ruled out."""

from __future__ import annotations

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.prefilter import any_of, any_required, required_literals
from auditor.rules.kinds import duplicate
from auditor.rules.loader import load_rules

ALPHABET = "ab中文."


def _patterns() -> st.SearchStrategy[str]:
    """Patterns of the subset the reader follows, and some it gives up on."""
    atoms = st.sampled_from(["a", "b", "中", "文", "ab", "中文", r"\.", ".", r"\d", "[ab]", "[^a]", r"\p{Han}", "^", "$",
                             r"\b"])
    quantifiers = st.sampled_from(["", "", "", "?", "*", "+", "{0,2}", "{1,2}", "{2}", "??", "+?"])

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        group = st.tuples(st.sampled_from(["(?:", "(", "(?P<n>", "(?=", "(?!"]), st.lists(inner, min_size=1, max_size=3),
                          st.sampled_from([")"]), quantifiers).map(lambda t: t[0] + "|".join(t[1]) + t[2] + t[3])
        return st.lists(st.one_of(group, st.tuples(atoms, quantifiers).map("".join)), min_size=1, max_size=4).map("".join)

    return st.recursive(st.tuples(atoms, quantifiers).map("".join), extend, max_leaves=8)


@settings(max_examples=500, deadline=None)
@given(_patterns(), st.text(alphabet=ALPHABET, max_size=12))
def test_every_match_holds_one_of_the_literals(pattern, text):
    try:
        compiled = regex.compile(pattern, regex.V1)
    except regex.error:
        return
    words = required_literals(pattern)
    if words is None:
        return
    assert words and all(words)
    for m in compiled.finditer(text, overlapped=True):
        assert any(w in m.group() for w in words), (pattern, text, m.group(), words)


def test_what_the_reader_gives_up_on():
    assert required_literals("(?i)abc") is None  # inline flags
    assert required_literals("(?=ab)c") is None  # lookaround
    assert required_literals("a?b*") is None  # can match nothing
    assert required_literals("(?:|ab)") is None  # an empty branch
    assert required_literals(r"\x41bc") is None  # escapes it does not read
    assert required_literals("[[a]--[b]]x") is None  # nested sets
    assert required_literals("中国梦[·•]?劳动美") in ({"中国梦"}, {"劳动美"})
    assert required_literals("春送岗位|“?两节”?送温暖") == {"春送岗位", "送温暖"}


def test_the_shipped_stock_phrases_all_have_literals():
    """So the duplicate rules' boilerplate search is prefiltered with the default rules."""
    rules = [r for r in load_rules([]).rules if r.kind == "duplicate" and r.params.boilerplate]
    assert rules
    for rule in rules:
        assert any_required(rule.params.boilerplate) is not None, rule.id


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["四个意识", "增强", "“", "劳模精神", "弘扬", "党的", "二十大", "精神", "共", "计", "，",
                                 "春送岗位", "两节", "送温暖", "中国梦", "·", "劳动美", "3万元"]), max_size=10).map("".join))
def test_stock_phrases_removed_as_without_the_prefilter(text):
    rule = next(r for r in load_rules([]).rules if r.id == "D001")
    with_words = duplicate._Weights(rule.params)
    without = duplicate._Weights(rule.params)
    without.boilerplate_words = None
    assert with_words.boilerplate_words is not None
    assert with_words.stripped(text) == without.stripped(text)


def test_any_of_joins_only_what_keeps_its_meaning():
    assert regex.search(any_of(["ab", "c+d"]), "xccd").group() == "ccd"
    assert any_of([r"(a)\1"]) is None and any_of(["(?i)a"]) is None and any_of([]) is None
