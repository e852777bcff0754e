"""Shared fixtures: the five real pages in fixtures/ and the shared contracts beside the repo."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SHARED = ROOT.parent / "shared"


def fixture_path(prefix: str) -> Path:
    """fixtures/001_….txt from its number."""
    (path,) = FIXTURES.glob(f"{prefix}_*.txt")
    return path


@pytest.fixture(scope="session")
def fixture_texts() -> dict[str, str]:
    return {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.txt"))}


@pytest.fixture(scope="session")
def analysed():
    """Every fixture through the pipeline once per test session, keyed by its number ("000")."""
    from auditor.documents.load import load_document
    from auditor.pipeline import analyse

    return {p.name[:3]: analyse(load_document(p)) for p in sorted(FIXTURES.glob("*.txt"))}
