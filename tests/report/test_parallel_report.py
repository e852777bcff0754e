"""The long arrays of a large JSON report written by worker processes: the same bytes as one
process writes, held or spilled, and a failing worker leaves no report behind."""

from __future__ import annotations

import json
import multiprocessing
import threading
from dataclasses import replace

import pytest

from auditor.audit import run_audit
from auditor.config import Config
from auditor.engines import local
from auditor.errors import UsageError
from auditor.report import parallel
from auditor.report.json_report import Encoded, iter_json, render_json, report_parts
from auditor.report.write import write_output
from tests.conftest import FIXTURES


@pytest.fixture()
def small_runs(monkeypatch):
    """Every audit counts as large, and runs are a document or three findings long: the fixtures
    make many runs, several per worker, some of them empty (a document without metrics). Workers
    are forked even if an earlier test left a thread behind (Spark's gateway does): the engine
    forks only in a process with one thread, which a test run is not always."""
    monkeypatch.setattr(parallel, "_MIN_DOCUMENTS", 0)
    monkeypatch.setattr(local, "_mp_context", lambda: multiprocessing.get_context("fork"))
    monkeypatch.setattr(parallel, "_ARRAYS", {
        "documents": (parallel.document_items, lambda r: len(r.documents), 1),
        "metrics": (parallel.metric_items, lambda r: len(r.documents), 1),
        "findings": (parallel.finding_items, lambda r: len(r.findings), 3)})


@pytest.fixture()
def pages(tmp_path):
    """The fixtures and a page without a figure (its run of metrics is empty)."""
    folder = tmp_path / "pages"
    folder.mkdir()
    for page in sorted(FIXTURES.glob("*.txt")):
        (folder / page.name).write_bytes(page.read_bytes())
    (folder / "002a.txt").write_text("市总工会召开全委会议，部署全年工作。\n会议号召各级工会组织团结奋斗。\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("spill_above", [None, 0])
def test_report_written_in_workers_is_the_one_process_report(small_runs, pages, spill_above, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    config = Config(jobs=2) if spill_above is None else Config(jobs=2, spill_above=spill_above)
    result = run_audit([str(pages)], config, history=False)
    assert result.jobs == 2 and len(result.findings) > 3 and any(len(d.metrics) == 0 for d in result.documents)
    parts = parallel.in_workers(report_parts(result), result, 2)
    assert all(isinstance(parts[name], Encoded) for name in ("documents", "metrics", "findings"))
    one = render_json(replace(result, jobs=1))
    json.loads(one)
    same = "".join(iter_json(result)) == one  # compared first: pytest's diff of two long texts takes minutes
    assert same, "the report written in workers differs from the one-process report"
    write_output(tmp_path / "r.json", iter_json(result))
    same = (tmp_path / "r.json").read_text(encoding="utf-8") == one
    assert same, "the report file written in workers differs from the one-process report"


def test_small_audit_or_one_job_is_written_in_the_parent(monkeypatch):
    result = run_audit([str(FIXTURES)], Config(jobs=2), history=False)
    parts = report_parts(result)
    assert parallel.in_workers(parts, result, 2) is parts  # five pages: no pool
    monkeypatch.setattr(parallel, "_MIN_DOCUMENTS", 0)
    assert parallel.in_workers(parts, result, 1) is parts


def test_no_fork_while_another_thread_runs(monkeypatch):
    """A fork copies locks other threads may hold: with a second thread alive the report is
    written in the parent."""
    monkeypatch.setattr(parallel, "_MIN_DOCUMENTS", 0)
    result = run_audit([str(FIXTURES)], Config(jobs=2), history=False)
    parts = report_parts(result)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert parallel.in_workers(parts, result, 2) is parts
    finally:
        stop.set()
        other.join()


def test_a_failing_worker_leaves_no_report(small_runs, tmp_path, monkeypatch):
    result = run_audit([str(FIXTURES)], Config(jobs=2), history=False)

    def broken(result, start=0, stop=None):
        if start >= 2:
            raise UsageError("cannot read the spilled page", path="page.txt")
        return parallel.document_items(result, start, stop)

    arrays = dict(parallel._ARRAYS)
    arrays["documents"] = (broken, *arrays["documents"][1:])
    monkeypatch.setattr(parallel, "_ARRAYS", arrays)
    with pytest.raises(UsageError, match="cannot read the spilled page"):
        write_output(tmp_path / "r.json", iter_json(result))
    assert list(tmp_path.iterdir()) == []
