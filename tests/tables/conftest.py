"""Fixtures of the table-gate tests: the fixtures' figures as a table with injected errors."""

from __future__ import annotations

import pytest

from .helpers import injected_table


@pytest.fixture(scope="session")
def table_with_errors(analysed, tmp_path_factory):
    """(path of the CSV, [(line, rule, column)] of the injected errors)."""
    return injected_table(analysed, tmp_path_factory.mktemp("tables") / "metrics.csv")


@pytest.fixture(scope="session")
def pandera_result(table_with_errors):
    from auditor.config import Config
    from auditor.tables.gate import GateOptions, check_tables

    return check_tables([str(table_with_errors[0])], Config(), GateOptions(engine="pandera"))


@pytest.fixture(scope="session")
def gx_result(table_with_errors):
    from auditor.config import Config
    from auditor.tables.gate import GateOptions, check_tables

    return check_tables([str(table_with_errors[0])], Config(), GateOptions(engine="gx"))
