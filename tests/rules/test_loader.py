"""Rule files: the default pack loads; every malformed file is refused with file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.errors import RuleFileError
from auditor.rules.engine import select_rules
from auditor.rules.loader import load_rule_file, load_rules

GOOD = """\
rules:
  - id: X101
    name: my-rule
    kind: placeholder
    category: placeholder
    severity: warning
    summary: {zh: 测试, en: test}
    message: {zh: "占位“{text}”", en: "placeholder {text}"}
    params:
      terms: [待补充]
"""


def _write(tmp_path: Path, text: str, name: str = "r.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> RuleFileError:
    with pytest.raises(RuleFileError) as info:
        load_rule_file(_write(tmp_path, text))
    return info.value


def test_default_pack_loads_with_unique_stable_ids():
    rule_set = load_rules()
    ids = [r.id for r in rule_set.rules]
    assert len(ids) == len(set(ids)) and "P001" in ids
    for rule in rule_set.rules:
        assert rule.message["zh"] and rule.summary.get("en"), rule.id


def test_good_file(tmp_path):
    (rule,) = load_rule_file(_write(tmp_path, GOOD))
    assert (rule.id, rule.kind, rule.severity, rule.line) == ("X101", "placeholder", "warning", 2)


def test_yaml_syntax_error_names_line_and_column(tmp_path):
    err = _error(tmp_path, GOOD.replace("severity: warning", "severity: [warning"))
    assert err.path.endswith("r.yaml") and err.line is not None and err.line >= 6
    assert "YAML syntax error" in err.message


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000, "{a: " * 100_000, "- " * 100_000])
def test_nesting_that_would_crash_the_c_parser_is_one_error(tmp_path, body):
    """libyaml's composer recurses in C: 100 000 levels crashed the interpreter (a segfault, no
    message at all) before the depth was checked on the event stream."""
    with pytest.raises(RuleFileError, match="nested too deeply"):
        load_rule_file(_write(tmp_path, "rules:\n  - " + body))


def test_unknown_kind(tmp_path):
    err = _error(tmp_path, GOOD.replace("kind: placeholder", "kind: nosuchkind"))
    assert (err.line, err.column) == (4, 11)
    assert "unknown rule kind 'nosuchkind'" in err.message and "placeholder" in err.message


def test_unknown_key_is_an_error_not_ignored(tmp_path):
    err = _error(tmp_path, GOOD.replace("    severity: warning\n", "    severity: warning\n    severty: error\n"))
    assert err.line == 7 and "unknown key 'severty'" in err.message


def test_unknown_param_points_into_params(tmp_path):
    err = _error(tmp_path, GOOD.replace("      terms: [待补充]", "      terms: [待补充]\n      termz: [x]"))
    assert err.line == 11 and "termz" in err.message


def test_wrong_parameter_type(tmp_path):
    err = _error(tmp_path, GOOD.replace("terms: [待补充]", "terms: 5"))
    assert err.line == 10 and "terms" in err.message


def test_regex_that_does_not_compile(tmp_path):
    err = _error(tmp_path, GOOD.replace("terms: [待补充]", "patterns: ['(unclosed']"))
    assert err.line is not None and "does not compile" in err.message


def test_bad_severity_and_missing_key(tmp_path):
    assert "severity" in _error(tmp_path, GOOD.replace("severity: warning", "severity: fatal")).message
    assert "missing required key 'message'" in _error(
        tmp_path, GOOD.replace('    message: {zh: "占位“{text}”", en: "placeholder {text}"}\n', "")).message


def test_duplicate_ids_across_files(tmp_path):
    a = _write(tmp_path, GOOD, "a.yaml")
    b = _write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(RuleFileError, match="already defined"):
        load_rules([a, b], include_defaults=False)


def test_duplicate_yaml_keys(tmp_path):
    err = _error(tmp_path, GOOD.replace("    severity: warning\n", "    severity: warning\n    severity: info\n"))
    assert "duplicate key 'severity'" in err.message and err.line == 7


def test_empty_and_non_utf8_files(tmp_path):
    assert "empty" in _error(tmp_path, "").message
    path = tmp_path / "gbk.yaml"
    path.write_bytes("rules: []\n# 中文".encode("gbk"))
    with pytest.raises(RuleFileError, match="not UTF-8"):
        load_rule_file(path)


def test_one_line_message_for_the_cli(tmp_path):
    err = _error(tmp_path, GOOD.replace("kind: placeholder", "kind: nosuchkind"))
    assert "\n" not in err.one_line() and err.one_line().startswith(str(tmp_path))


def test_selection_by_prefix_name_and_category():
    rules = load_rules().rules
    assert {r.id for r in select_rules(rules, ["P"])} == {r.id for r in rules if r.id.startswith("P")}
    assert all(r.category == "typo" for r in select_rules(rules, ["typo"]))
    assert "T001" not in {r.id for r in select_rules(rules, [], ["T001"])}
    assert {r.id for r in select_rules(rules, ["known-typo"])} == {"T001"}
    assert {r.id for r in select_rules(rules, ["P001,T001"])} == {"P001", "T001"}
    assert "T001" not in {r.id for r in select_rules(rules, ["P,T"], ["T001,D"])}
