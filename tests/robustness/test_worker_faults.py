"""A worker process that dies mid-run (the out-of-memory killer, a kill -9): one error line, exit 2,
and nothing left behind, rather than a traceback or a pool that hangs."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import tempfile

import pytest

from auditor import pipeline
from auditor.audit import run_audit
from auditor.config import Config
from auditor.engines import local
from auditor.errors import AuditorError
from tests.conftest import FIXTURES

_PARENT = os.getpid()


@pytest.fixture(autouse=True)
def forked(monkeypatch):
    """Workers forked even if an earlier test left a thread behind (Spark's gateway): they inherit
    the test's process id and its patches."""
    monkeypatch.setattr(local, "_mp_context", lambda: multiprocessing.get_context("fork"))


def _dies_on_chunk_two(state: dict, chunk: int) -> int:
    if chunk == 2 and os.getpid() != _PARENT:
        os.kill(os.getpid(), signal.SIGKILL)  # what the out-of-memory killer does
    return chunk * 10


def test_a_killed_worker_stops_the_pool_with_one_error_line():
    assert list(local.map_in_order(_dies_on_chunk_two, {}, [0, 1, 3], 2)) == [0, 10, 30]
    with pytest.raises(AuditorError, match="worker process stopped abruptly") as err:
        list(local.map_in_order(_dies_on_chunk_two, {}, [0, 1, 2, 3, 4], 2))
    assert "\n" not in str(err.value) and err.value.exit_code == 2


def test_a_worker_killed_mid_audit_leaves_no_spill_behind(tmp_path, monkeypatch):
    pages, scratch = tmp_path / "pages", tmp_path / "scratch"
    pages.mkdir()
    scratch.mkdir()
    for page in sorted(FIXTURES.glob("*.txt")):
        shutil.copy(page, pages / page.name)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the spill folder goes
    monkeypatch.setattr(local, "_MIN_CHUNK_BYTES", 1)  # a chunk a page: the pages go to workers
    monkeypatch.setattr(local, "_CHUNK_BYTES", 1)
    analyse_path = pipeline.analyse_path

    def killed_on_003(path, **kwargs):
        if os.path.basename(str(path)).startswith("003") and os.getpid() != _PARENT:
            os.kill(os.getpid(), signal.SIGKILL)
        return analyse_path(path, **kwargs)

    monkeypatch.setattr(pipeline, "analyse_path", killed_on_003)  # forked workers inherit it
    with pytest.raises(AuditorError, match="worker process stopped abruptly"):
        run_audit([str(pages)], Config(jobs=2, spill_above=0), history=False)
    assert list(scratch.iterdir()) == []
