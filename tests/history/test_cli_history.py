"""`auditor history` as a user runs it: real processes, real store files, one-line errors, locks."""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import pandas as pd
import pytest

from auditor.history import HistoryStore

from .helpers import ROOT, python, run_cli

FIXTURES = ROOT / "fixtures"


@pytest.fixture()
def work(tmp_path) -> Path:
    """A working folder holding copies of the pages, as an editor's would."""
    (tmp_path / "fixtures").mkdir()
    for p in FIXTURES.glob("00[0-2]_*.txt"):
        shutil.copy(p, tmp_path / "fixtures" / p.name)
    return tmp_path


def _store(work: Path) -> Path:
    return work / ".auditor" / "history.duckdb"


def _one_line_error(result, *needles: str) -> str:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("auditor: error: "), result.stderr
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def test_add_twice_list_show_and_remove(work):
    first = run_cli("history", "add", "fixtures/001_4056ee0728c65a9a.txt", cwd=work)
    assert first.returncode == 0, first.stderr
    assert "added     fixtures/001_4056ee0728c65a9a.txt" in first.stdout and _store(work).is_file()
    second = run_cli("history", "add", "fixtures/", cwd=work)
    assert second.returncode == 0, second.stderr
    assert "unchanged fixtures/001_4056ee0728c65a9a.txt" in second.stdout
    assert "2 added, 0 replaced, 1 unchanged" in second.stdout
    listed = json.loads(run_cli("history", "list", "--format", "json", cwd=work).stdout)
    assert sorted(d["path"] for d in listed) == [f"fixtures/{p.name}" for p in sorted(FIXTURES.glob("00[0-2]_*.txt"))]
    shown = run_cli("history", "show", "洮南", "--metric", "relief_funds", cwd=work)
    assert shown.returncode == 0, shown.stderr
    assert "洮南市总工会" in shown.stdout and "28.74万元" in shown.stdout and "█" in shown.stdout
    assert "2020" in shown.stdout and "2021" in shown.stdout
    removed = run_cli("history", "remove", "fixtures/000_20e9484f903fef0f.txt", cwd=work)
    assert removed.returncode == 0 and "1 removed" in removed.stdout
    with HistoryStore.open(_store(work), read_only=True) as s:
        assert s.counts()["documents"] == 2


def test_a_batch_with_a_corrupt_file_in_the_middle_writes_nothing(work):
    (work / "fixtures" / "001_broken.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    result = run_cli("history", "add", "fixtures/", cwd=work)
    _one_line_error(result, "fixtures/001_broken.txt", "binary")
    if _store(work).exists():  # nothing is opened before every page has been read
        with HistoryStore.open(_store(work), read_only=True) as s:
            assert s.counts()["documents"] == 0


def test_errors_are_one_line_naming_the_store(work):
    store = str(_store(work))
    _one_line_error(run_cli("history", "list", cwd=work), store, "no history store here")
    run_cli("history", "--history", "h.duckdb", "add", "fixtures/001_4056ee0728c65a9a.txt", cwd=work)
    _one_line_error(run_cli("history", "show", "长春", "--history", "h.duckdb", cwd=work), "h.duckdb",
                    "no organisation matching")
    _one_line_error(run_cli("history", "remove", "nothing.txt", "--history", "h.duckdb", cwd=work), "h.duckdb",
                    "not in the history: nothing.txt")
    (work / "junk.duckdb").write_text("not a database " * 200)
    _one_line_error(run_cli("history", "list", "--history", "junk.duckdb", cwd=work), "junk.duckdb")


def test_export_is_partitioned_by_year_and_pandas_reads_it(work):
    run_cli("history", "add", "fixtures/", cwd=work)
    result = run_cli("history", "export", "--parquet", "out", cwd=work)
    assert result.returncode == 0, result.stderr
    assert {p.name for p in (work / "out" / "metrics").iterdir()} == {"pub_year=0", "pub_year=2021", "pub_year=2022"}
    metrics = pd.read_parquet(work / "out" / "metrics")
    with HistoryStore.open(_store(work), read_only=True) as s:
        assert len(metrics) == s.counts()["metrics"]
    _one_line_error(run_cli("history", "export", "--parquet", "out", cwd=work), "out", "not empty")


# ---------------------------------------------------------------- two processes

_HOLD = """
import time
from auditor.history import HistoryStore
with HistoryStore.open({path!r}) as s:
    print("locked", flush=True)
    time.sleep({seconds})
"""


def _hold(work: Path, seconds: float):
    child = python(_HOLD.format(path=str(_store(work)), seconds=seconds), cwd=work)
    assert child.stdout.readline().strip() == "locked", child.stderr.read()
    return child


def test_a_second_writer_waits_then_fails_with_a_clear_message(work):
    run_cli("history", "add", "fixtures/002_708bad69e24645bd.txt", cwd=work)
    holder = _hold(work, 8)  # holds the write lock for 8 s
    try:
        result = run_cli("history", "add", "--wait", "0.5", "fixtures/001_4056ee0728c65a9a.txt", cwd=work)
        _one_line_error(result, str(_store(work)), f"locked by process {holder.pid}", "--wait")
        # a reader waits for the writer too, then sees whole batches only
        listed = run_cli("history", "list", "--format", "json", cwd=work)
        assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 1, listed.stderr
        # a patient writer waits for the lock and goes ahead
        result = run_cli("history", "add", "--wait", "30", "fixtures/001_4056ee0728c65a9a.txt", cwd=work)
        assert result.returncode == 0, result.stderr
    finally:
        holder.wait(timeout=30)
    with HistoryStore.open(_store(work), read_only=True) as s:
        assert s.counts()["documents"] == 2


def test_two_processes_adding_at_once_lose_nothing(work, analysed):
    run_cli("history", "add", "fixtures/002_708bad69e24645bd.txt", cwd=work)  # the store exists
    code = "import sys; from auditor.cli import main; main(['history', 'add', '--wait', '60', sys.argv[1]])"
    procs = [python(code, work, name) for name in ("fixtures/000_20e9484f903fef0f.txt",
                                                    "fixtures/001_4056ee0728c65a9a.txt")]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert "1 added" in out
    with HistoryStore.open(_store(work), read_only=True) as s:
        counts = s.counts()
    assert counts["documents"] == 3
    assert counts["metrics"] == sum(len(analysed[n].metrics) for n in ("000", "001", "002"))


_KILLED = """
import sys, time
from auditor.history import HistoryStore
from auditor.pipeline import analyse_path
docs = [analyse_path(p) for p in sys.argv[1:]]
with HistoryStore.open({path!r}) as s:
    real = s._insert
    def slow(table, frame):
        real(table, frame)
        if table == "metrics":
            print("half-way", flush=True)
            time.sleep(60)
    s._insert = slow
    s.add(docs)
"""


def test_a_writer_killed_mid_batch_leaves_the_store_as_it_was(work):
    run_cli("history", "add", "fixtures/002_708bad69e24645bd.txt", cwd=work)
    with HistoryStore.open(_store(work), read_only=True) as s:
        before = s.counts()
    child = python(_KILLED.format(path=str(_store(work))), work, "fixtures/000_20e9484f903fef0f.txt",
                   "fixtures/001_4056ee0728c65a9a.txt")
    assert child.stdout.readline().strip() == "half-way", child.stderr.read()
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    with HistoryStore.open(_store(work), read_only=True) as s:
        assert s.counts() == before
    result = run_cli("history", "add", "fixtures/000_20e9484f903fef0f.txt", cwd=work)  # and it takes the page later
    assert result.returncode == 0 and "1 added" in result.stdout, result.stderr
