"""docs/robustness.md is the closing table of issue 8: it must list every case the suite asserts."""

from __future__ import annotations

from .make_table import DOC, SCENARIOS, _cell
from .test_bad_documents import CASES
from .test_bad_rules_and_config import CONFIG_CASES, RULE_CASES


def test_the_results_table_lists_every_case() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [c.input for c in [*CASES, *RULE_CASES] if f"| {_cell(c.input)} |" not in text]
    missing += [c.id for c in CONFIG_CASES if _cell(c.content.strip().replace("\n", " ⏎ ") or "bytes FF FE") not in text]
    missing += [test for _, _, test in SCENARIOS if f"`{test}`" not in text]
    assert not missing, f"write docs/robustness.md again (python -m tests.robustness.make_table): {missing}"
    assert "loaded (no error!)" not in text and "(no error)" not in text
