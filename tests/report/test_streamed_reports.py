"""The JSON and HTML reports written piece by piece: the same bytes as the whole string, a file
only once every piece is written, and the page's views of findings and metrics equal to their
report records."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
from hypothesis import given, settings, strategies as st

from auditor.errors import UsageError
from auditor.report.html import iter_html, iter_json_for_script, json_for_script, render_html
from auditor.report.json_report import (FindingRecord, Lazy, MetricRecord, finding_dict, iter_encode, iter_json,
                                        render_json, report_dict, _plain, dumps_indented)
from auditor.report.write import write_output
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def result():
    from auditor.audit import run_audit
    from auditor.config import Config

    return run_audit([str(FIXTURES)], Config(), history=False)


def test_streamed_json_is_the_whole_dump(result, tmp_path):
    whole = json.dumps(report_dict(result), ensure_ascii=False, indent=2, default=_plain) + "\n"
    assert render_json(result) == whole
    write_output(tmp_path / "r.json", iter_json(result))
    assert (tmp_path / "r.json").read_text(encoding="utf-8") == whole
    empty = replace(result, documents=(), findings=())
    assert render_json(empty) == json.dumps(report_dict(empty), ensure_ascii=False, indent=2, default=_plain) + "\n"


@pytest.mark.parametrize("indent", [None, 2])
def test_lazy_arrays_encode_as_lists(indent):
    value = {"a": 1, "b": Lazy(iter([])), "c": Lazy(iter([{"x": [1, "两\n行"]}, 2.5])), "d": {"e": Lazy([3])},
             "f": {"g": [1, 2]}}
    plain = {"a": 1, "b": [], "c": [{"x": [1, "两\n行"]}, 2.5], "d": {"e": [3]}, "f": {"g": [1, 2]}}
    options = {"indent": indent} if indent else {"separators": (",", ":")}

    def dumps(v):
        return json.dumps(v, ensure_ascii=False, **options)

    assert "".join(iter_encode(value, dumps, indent=indent)) == dumps(plain)


def test_script_json_in_pieces_is_the_whole_and_safe():
    data = {"s": "</script><!-- & \u2028", "n": Lazy(iter([math.nan, {"v": math.inf}, "NaN"])), "k": [1]}
    whole = json_for_script({"s": data["s"], "n": [math.nan, {"v": math.inf}, "NaN"], "k": [1]})
    assert "".join(iter_json_for_script(dict(data, n=Lazy([math.nan, {"v": math.inf}, "NaN"])))) == whole
    assert "<" not in whole and "NaN" not in whole.replace('"NaN"', "") and json.loads(whole)["n"][0] is None


def test_html_in_pieces_is_the_page(result, tmp_path):
    page = render_html(result)
    write_output(tmp_path / "r.html", iter_html(result))
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == page


def test_a_failure_while_pieces_are_made_leaves_no_file(tmp_path):
    def pieces():
        yield "{"
        raise UsageError("stop")

    target = tmp_path / "r.json"
    with pytest.raises(UsageError):
        write_output(target, pieces())
    assert list(tmp_path.iterdir()) == []


def test_page_views_equal_the_report_records(result):
    for f in result.findings:
        record = FindingRecord(f)
        assert dict(record) == finding_dict(f) and len(record) == len(finding_dict(f))
        assert record.get("suppressed") == finding_dict(f).get("suppressed") and "nothing" not in record
    for d in result.documents:
        for record, plain, m in zip(MetricRecord.each(d.metrics), MetricRecord.each(tuple(d.metrics)), d.metrics):
            assert dict(record) == dict(plain) == m.contract_record() and record.get("nothing", 1) == 1


_JSON_KEYS = st.one_of(st.text(max_size=6), st.integers(-10**20, 10**20), st.floats(), st.booleans(), st.none())
_JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(),
                         st.text(alphabet=st.characters(), max_size=12), st.sampled_from(["两\n行", "\"引号\"", "\\", "\x00\u2028"]),
                         st.sets(st.integers(0, 9), max_size=3), st.decimals(allow_nan=False, places=2))


@settings(max_examples=400, deadline=None)
@given(st.recursive(_JSON_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner), st.dictionaries(_JSON_KEYS, inner, max_size=4)),
    max_leaves=25))
def test_fast_indented_dump_is_json_dumps_byte_for_byte(value):
    assert dumps_indented(value) == json.dumps(value, ensure_ascii=False, indent=2, default=_plain)


def test_fast_indented_dump_refuses_the_keys_json_refuses():
    with pytest.raises(TypeError):
        json.dumps({(1, 2): 1}, indent=2)
    with pytest.raises(TypeError):
        dumps_indented({(1, 2): 1})


_PLAIN_JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=5)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(max_size=3), inner, max_size=3)),
                           max_leaves=20)


def _made_lazy(value, data):
    """`value` with some of its lists, at any depth, made Lazy (a Lazy array's items stay plain)."""
    if isinstance(value, dict):
        return {k: _made_lazy(v, data) for k, v in value.items()}
    if isinstance(value, list):
        if data.draw(st.booleans()):
            return Lazy(iter(value))
        return [_made_lazy(v, data) for v in value]
    return value


@settings(max_examples=300, deadline=None)
@given(_PLAIN_JSON, st.sampled_from([None, 2]), st.data())
def test_lazy_arrays_at_any_depth_encode_as_lists(plain, indent, data):
    """As SARIF's results are: {"runs": [{"results": Lazy}]} — a Lazy inside a list inside a dict."""
    options = {"indent": indent} if indent else {"separators": (",", ":")}

    def dumps(v):
        return json.dumps(v, ensure_ascii=False, **options)

    assert "".join(iter_encode(_made_lazy(plain, data), dumps, indent=indent)) == dumps(plain)
