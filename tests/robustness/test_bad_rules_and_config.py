"""Malformed rule files of every kind, rules whose regular expressions backtrack catastrophically,
and configuration files with unknown keys or wrong values: each is one clear error naming the file
(and the line where it can), never a traceback, never a hang."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from auditor.config import load_config
from auditor.errors import RuleFileError, UsageError
from auditor.rules.loader import load_rules

from .helpers import one_line_error, run_cli

RULE = """rules:
  - id: Z100
    name: z
    kind: {kind}
    category: {category}
    severity: warning
    summary: {{zh: 测试, en: test}}
    message: {{zh: "{message}", en: "test {{text}}"}}
    params: {params}
"""


def rule(kind: str = "placeholder", category: str = "placeholder", message: str = "占位{text}",
         params: str = "{patterns: ['X']}") -> str:
    return RULE.format(kind=kind, category=category, message=message, params=params)


def nested_list(depth: int) -> str:
    return "rules: " + "[" * depth + "]" * depth + "\n"


def laughs() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "\n".join(lines) + "\nrules: [*a9]\n"


@dataclass(frozen=True)
class RuleCase:
    id: str
    input: str
    content: bytes
    needles: tuple[str, ...]
    expected: str


def _b(text: str) -> bytes:
    return text.encode("utf-8")


RULE_CASES: list[RuleCase] = [
    RuleCase("empty", "empty rule file", b"", ("rule file is empty",), "file is empty"),
    RuleCase("comments", "only comments", b"# nothing\n", ("rule file is empty",), "file is empty"),
    RuleCase("not-utf8", "GBK bytes", "rules:\n  - id: 中文\n".encode("gbk"), ("not UTF-8",), "not UTF-8 (byte named)"),
    RuleCase("utf16", "UTF-16 with BOM", rule().encode("utf-16"), ("not UTF-8",), "not UTF-8"),
    RuleCase("binary", "binary bytes", bytes(range(256)) * 4, ("not UTF-8",), "not UTF-8"),
    RuleCase("nul", "a NUL character", b"rules:\n  - id: Z1\x00\n", ("YAML error", "#x0000"), "YAML error"),
    RuleCase("syntax", "unclosed quote", b"rules:\n  - id: 'Z100\n    name: x\n", (":4:1", "YAML syntax error"),
             "YAML syntax error at line:column"),
    RuleCase("tab", "tab indentation", b"rules:\n\t- id: Z100\n", (":2:1", "YAML syntax error"),
             "YAML syntax error at line:column"),
    RuleCase("list-root", "a list at the top", b"- a\n- b\n", ("must be a mapping",), "must be a mapping with rules:"),
    RuleCase("scalar-root", "a scalar at the top", b"hello\n", ("must be a mapping",), "must be a mapping"),
    RuleCase("rules-null", "rules: with nothing", b"rules:\n", ("valid list",), "should be a list"),
    RuleCase("rules-map", "rules: a mapping", b"rules: {a: 1}\n", ("valid list",), "should be a list"),
    RuleCase("entry-string", "a rule that is a string", b"rules:\n  - just a string\n", (":2:5", "dictionary"),
             "should be a mapping, at line:column"),
    RuleCase("missing-id", "a rule without id", _b(rule().replace("  - id: Z100\n    name", "  - name")),
             ("missing required key 'id'",), "missing required key, at line:column"),
    RuleCase("bad-id", "an id of the wrong shape", _b(rule().replace("Z100", "bad id")), (":2:9", "id:"),
             "id must match [A-Z]{1,3}[0-9]{3}"),
    RuleCase("int-id", "a number as id", _b(rule().replace("Z100", "123")), ("id:", "valid string"), "id must be a string"),
    RuleCase("unknown-key", "an unknown key", _b(rule().replace("    severity", "    colour: red\n    severity")),
             ("unknown key 'colour'",), "unknown key, at its line:column"),
    RuleCase("duplicate-key", "a key given twice", _b(rule().replace("    severity: warning\n",
                                                                     "    severity: warning\n    severity: error\n")),
             ("duplicate key 'severity'",), "duplicate key, at line:column"),
    RuleCase("unknown-kind", "an unknown kind", _b(rule(kind="nonsense")), ("unknown rule kind 'nonsense'",),
             "unknown kind, the known ones listed"),
    RuleCase("bad-severity", "severity: fatal", _b(rule().replace("severity: warning", "severity: fatal")),
             ("severity:",), "severity must be error, warning or info"),
    RuleCase("bad-category", "an unknown category", _b(rule(category="misc")), ("category:",),
             "category must be one of the known ones"),
    RuleCase("param-type", "a parameter of the wrong type", _b(rule(params="{patterns: 5}")),
             ("params.patterns",), "params.patterns should be a list"),
    RuleCase("unknown-param", "an unknown parameter", _b(rule(params="{colour: 5}")), ("unknown key 'colour' in params",),
             "unknown key in params"),
    RuleCase("bad-regex", "a regex that does not compile", _b(rule(params="{patterns: ['(unclosed']}")),
             ("does not compile", "missing )"), "regular expression does not compile"),
    RuleCase("nan", "a threshold of NaN", _b(rule(kind="unit", category="unit",
                                                 params="{check: small-in-scale, threshold: .nan}")),
             ("params.threshold",), "threshold must be greater than 0"),
    RuleCase("bands", "num_perm not a multiple of bands", _b(rule(kind="duplicate", category="duplicate",
                                                                 params="{mode: near, num_perm: 64, bands: 7}")),
             ("multiple of bands",), "num_perm must be a multiple of bands"),
    RuleCase("message-brace", "a message with a stray {", _b(rule(message="占位{")),
             ("not a valid template",), "message is not a valid template"),
    RuleCase("message-positional", "a message with {0}", _b(rule(message="占位{0}")), ("{0} is not allowed",),
             "only plain {name} fields"),
    RuleCase("message-attribute", "a message reading {text.__class__}", _b(rule(message="{text.__class__}")),
             ("{text.__class__} is not allowed",), "only plain {name} fields"),
    RuleCase("message-format-spec", "a message with {text:>999999999} (a memory bomb)",
             _b(rule(message="{text:>999999999}")), ("is not allowed",), "only plain {name} fields"),
    RuleCase("pattern-group", "a pattern check underlining a group it lacks",
             _b(rule(kind="pattern", category="typo", params="{checks: [{pattern: '救助', group: 5}]}")),
             ("group 5",), "group is not a group of the pattern"),
    RuleCase("pattern-replace", "a replacement naming a group the pattern lacks",
             _b(rule(kind="pattern", category="typo", params="{checks: [{pattern: '救助', replace: '\\9'}]}")),
             ("not a valid template",), "replace is not a valid template"),
    RuleCase("pattern-escape", "a replacement with a bad escape",
             _b(rule(kind="pattern", category="typo", params="{checks: [{pattern: '救助', replace: '\\q'}]}")),
             ("bad escape",), "replace is not a valid template (bad escape)"),
    RuleCase("python-tag", "a !!python/object tag", b"rules: !!python/object/apply:os.system ['echo pwned']\n",
             ("could not determine a constructor",), "refused (safe loader)"),
    RuleCase("deep-list", "5000 nested lists", _b(nested_list(5000)), ("nested too deeply",), "YAML nested too deeply"),
    RuleCase("deep-map", "3000 nested mappings", _b("rules:\n" + "".join("  " * i + "- a:\n" for i in range(1, 3000))),
             ("nested too deeply",), "YAML nested too deeply"),
    RuleCase("billion-laughs", "nested YAML aliases (9^10 nodes)", _b(laughs()), ("rule",),
             "refused at once (each node visited once)"),
]


@pytest.mark.parametrize("case", RULE_CASES, ids=[c.id for c in RULE_CASES])
def test_malformed_rule_file_is_one_error_naming_it(tmp_path, case: RuleCase) -> None:
    path = tmp_path / f"{case.id}.yaml"
    path.write_bytes(case.content)
    with pytest.raises(RuleFileError) as info:
        load_rules([path], include_defaults=False)
    line = info.value.one_line()
    assert "\n" not in line and line.startswith(str(path)), line
    for needle in case.needles:
        assert needle in line, (needle, line)


def test_rule_file_errors_through_the_command_line(tmp_path) -> None:
    """The same errors end the real commands: exit 2, one line, no traceback."""
    chosen = ("deep-list", "billion-laughs", "message-brace")
    cases = {c.id: c for c in RULE_CASES}
    page = tmp_path / "page.txt"
    page.write_text("本报讯 2021年，长春市总工会救助困难职工X名。\n", encoding="utf-8")
    jobs = []
    for name in chosen:
        path = tmp_path / f"{name}.yaml"
        path.write_bytes(cases[name].content)
        jobs.append((name, ["rules", "validate", str(path)]))
        jobs.append((name, ["audit", str(page), "--rules", str(path)]))
    jobs.append(("missing", ["audit", str(page), "--rules", str(tmp_path / "nowhere.yaml")]))
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda job: (job[0], run_cli(*job[1], timeout=60)), jobs))
    for name, run in runs:
        needles = cases[name].needles if name in cases else ("not found",)
        one_line_error(run, f"{name}.yaml" if name in cases else "nowhere.yaml", *needles)
        assert run.stdout == ""


# --------------------------------------------------------------------------- catastrophic backtracking

CATASTROPHIC = r"(\p{Han}|\p{Han})+[a-z]"  # 2^n ways to read n Han characters, then a failure
PAGE = ("本报讯 2021年，长春市总工会救助困难职工发放救助资金长春市总工会救助困难职工发放救助资金共计5万元，"
        "其中慰问金3万元、救助金2万元。\n") * 3

CATASTROPHIC_RULES = {
    "pattern": rule(kind="pattern", category="typo", params=f"{{checks: [{{pattern: '{CATASTROPHIC}'}}]}}"),
    "pattern-allow": rule(kind="pattern", category="typo",
                          params=f"{{checks: [{{pattern: '救助'}}], allow: ['{CATASTROPHIC}']}}"),
    "placeholder": rule(params=f"{{patterns: ['{CATASTROPHIC}']}}"),
    "duplicate-placeholder": rule(kind="duplicate", category="duplicate",
                                  params=f"{{mode: exact, placeholder: '{CATASTROPHIC}'}}"),
    "duplicate-boilerplate": rule(kind="duplicate", category="duplicate",
                                  params=f"{{mode: exact, boilerplate: ['{CATASTROPHIC}']}}"),
    "arithmetic-cue": rule(kind="arithmetic", category="arithmetic",
                           params=f"{{check: parts-sum, total_cue: '{CATASTROPHIC}'}}"),
    "doubling-placeholder": rule(kind="doubling", category="ocr",
                                 params=f"{{mode: phrase, placeholder: '{CATASTROPHIC}'}}"),
}


def test_catastrophic_regexes_stop_at_the_time_limit_naming_the_rule(tmp_path) -> None:
    """Every kind that takes a regex runs it under --regex-timeout: the run stops with the rule's
    file, line and id, in about the time limit, whichever parameter holds the pattern."""
    page = tmp_path / "page.txt"
    page.write_text(PAGE, encoding="utf-8")
    jobs = []
    for name, text in CATASTROPHIC_RULES.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        assert load_rules([path], include_defaults=False).rules  # a valid rule file
        jobs.append((name, ["audit", str(page), "--rules", str(path), "--no-default-rules",
                            "--regex-timeout", "0.3"]))
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda job: (job[0], run_cli(*job[1], timeout=60)), jobs))
    for name, run in runs:
        line = one_line_error(run, f"{name}.yaml:2", "rule Z100", "ran longer than 0.3 s", "--regex-timeout")
        assert run.seconds < 30, (name, run.seconds, line)


def test_the_time_limit_is_a_setting(tmp_path) -> None:
    (tmp_path / "page.txt").write_text(PAGE, encoding="utf-8")
    (tmp_path / "slow.yaml").write_text(CATASTROPHIC_RULES["pattern"], encoding="utf-8")
    (tmp_path / "auditor.toml").write_text('regex-timeout = 0.2\nrules = ["slow.yaml"]\nno-default-rules = true\n',
                                           encoding="utf-8")
    one_line_error(run_cli("audit", "page.txt", cwd=tmp_path), "slow.yaml:2", "ran longer than 0.2 s")
    bad = run_cli("audit", "page.txt", "--regex-timeout", "1e18", cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "--regex-timeout" in bad.stderr


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class ConfigCase:
    id: str
    content: str
    needles: tuple[str, ...]


CONFIG_CASES = [
    ConfigCase("unknown-key", 'selct = ["P"]\n', ("unknown key 'selct'", "known:")),
    ConfigCase("unknown-key-pyproject", '[tool.auditor]\nfail_on = "error"\nmax_byte = 5\n', ("unknown key 'max_byte'",)),
    ConfigCase("bad-toml", "[tool.auditor\n", ("invalid TOML",)),
    ConfigCase("not-utf8", "", ("cannot read config",)),
    ConfigCase("tool-not-table", "[tool]\nauditor = 5\n", ("must be a table",)),
    ConfigCase("max-bytes-string", 'max-bytes = "big"\n', ("'max-bytes' must be a whole number",)),
    ConfigCase("max-bytes-negative", "max-bytes = -5\n", ("'max-bytes' must be a whole number",)),
    ConfigCase("max-bytes-float", "max-bytes = 1e999\n", ("'max-bytes' must be a whole number",)),
    ConfigCase("regex-timeout-string", 'regex-timeout = "x"\n', ("'regex-timeout' must be",)),
    ConfigCase("regex-timeout-negative", "regex-timeout = -1\n", ("'regex-timeout' must be",)),
    ConfigCase("regex-timeout-nan", "regex-timeout = nan\n", ("'regex-timeout' must be",)),
    ConfigCase("regex-timeout-inf", "regex-timeout = inf\n", ("'regex-timeout' must be",)),
    ConfigCase("year-string", 'year = "2021"\n', ("'year' must be a year",)),
    ConfigCase("year-far", "year = 99999\n", ("'year' must be a year",)),
    ConfigCase("no-default-rules-string", 'no-default-rules = "yes"\n', ("'no-default-rules' must be true or false",)),
    ConfigCase("rules-int", "rules = 5\n", ("'rules' must be a string or a list of strings",)),
    ConfigCase("select-ints", "select = [1, 2]\n", ("'select' must be a string or a list",)),
    ConfigCase("history-int", "history = 5\n", ("'history' must be a path",)),
    ConfigCase("lang", 'lang = "fr"\n', ("'lang' must be zh or en",)),
    ConfigCase("fail-on", "fail-on = 3\n", ("'fail-on' must be one of",)),
    ConfigCase("jobs", "jobs = 0\n", ("'jobs' must be a whole number",)),
]


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[c.id for c in CONFIG_CASES])
def test_bad_config_is_one_error_naming_the_file(tmp_path, case: ConfigCase) -> None:
    name = "pyproject.toml" if case.id.endswith("pyproject") else "auditor.toml"
    path = tmp_path / name
    path.write_bytes(b"\xff\xfe bad" if case.id == "not-utf8" else case.content.encode("utf-8"))
    with pytest.raises(UsageError) as info:
        load_config(path)
    line = info.value.one_line()
    assert "\n" not in line and line.startswith(str(path)), line
    for needle in case.needles:
        assert needle in line, (needle, line)


def test_config_errors_through_the_command_line(tmp_path) -> None:
    (tmp_path / "page.txt").write_text("本报讯 2021年，长春市总工会救助困难职工84名。\n", encoding="utf-8")
    chosen = ("unknown-key", "max-bytes-string", "regex-timeout-string", "rules-int")
    cases = {c.id: c for c in CONFIG_CASES}
    jobs = []
    for name in chosen:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "auditor.toml").write_text(cases[name].content, encoding="utf-8")
        jobs.append((name, folder))

    def one(job):
        name, folder = job
        return name, run_cli("audit", str(tmp_path / "page.txt"), cwd=folder)

    with ThreadPoolExecutor(2) as pool:
        for name, run in pool.map(one, jobs):
            one_line_error(run, "auditor.toml", *cases[name].needles)
