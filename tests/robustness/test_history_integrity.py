"""The history store never loses or half-writes a batch: `auditor history add` killed with SIGKILL
at random moments leaves a store that opens and holds the whole batch or none of it; a read-only
or full disk is one clear error and the store keeps what it had."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from auditor.history import HistoryStore
from auditor.history.store import TABLES

from .helpers import FIXTURES, can_drop_privileges, env, one_line_error, run_cli

BASE = ["002_708bad69e24645bd.txt"]
BATCH = ["000_20e9484f903fef0f.txt", "001_4056ee0728c65a9a.txt", "003_cc71c20b13463897.txt"]
KILLS = 15


def snapshot(store: Path) -> dict:
    """What the store holds, opened as any reader would: rows per table, the pages by content, and
    no row pointing at a page that is not there."""
    with HistoryStore.open(store, read_only=True) as s:
        counts = s.counts()
        shas = sorted(r[0] for r in s.con.execute("SELECT sha256 FROM documents").fetchall())
        for table in TABLES:
            if table != "documents":
                orphans = s.con.execute(f"SELECT count(*) FROM {table} WHERE doc_id NOT IN "
                                        "(SELECT doc_id FROM documents)").fetchall()[0][0]
                assert orphans == 0, f"{orphans} rows of {table} belong to no page"
    return {"counts": counts, "pages": shas}


def _stat(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


@pytest.fixture()
def work(tmp_path) -> Path:
    for name in BASE + BATCH:
        shutil.copy(FIXTURES / name, tmp_path / name)
    return tmp_path


@pytest.mark.slow
def test_history_add_killed_at_random_moments_keeps_whole_batches(work) -> None:
    store = work / "h.duckdb"
    assert run_cli("history", "add", "--history", str(store), *BASE, cwd=work).returncode == 0
    before = snapshot(store)
    reference = work / "reference.duckdb"
    shutil.copy(store, reference)
    # One run to the end on a copy: the batch written whole, and when DuckDB's log appears (the commit).
    args = [sys.executable, "-m", "auditor", "history", "add", "--wait", "30", *BATCH]
    child = subprocess.Popen(args[:4] + ["--history", str(reference)] + args[4:], cwd=work, env=env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    started, log_at = time.monotonic(), None
    while child.poll() is None:
        if log_at is None and Path(f"{reference}.wal").exists():
            log_at = time.monotonic() - started
        time.sleep(0.001)
    took = time.monotonic() - started
    assert child.returncode == 0, child.stderr.read()
    after = snapshot(reference)
    assert after["counts"]["documents"] == before["counts"]["documents"] + len(BATCH)
    log_at = log_at if log_at is not None else 0.8 * took

    rng = random.Random(8)
    argv = args[:4] + ["--history", str(store)] + args[4:]
    wal = Path(f"{store}.wal")
    outcomes, in_commit = [], 0
    for i in range(KILLS):
        log_before = _stat(wal)
        child = subprocess.Popen(argv, cwd=work, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = time.monotonic()
        if i % 3 == 0:  # anywhere before the commit: reading, analysing, opening the store
            time.sleep(rng.uniform(0.1, 1.0) * log_at)
        elif i % 3 == 1:  # just before the commit: the rows going into the open transaction
            time.sleep(max(0.0, log_at + rng.uniform(-0.3, 0.0)))
        else:  # in the commit: as soon as DuckDB's log changes, while it is written and folded in
            while _stat(wal) == log_before and child.poll() is None and time.monotonic() < started + 3 * took:
                time.sleep(0.0005)
            if child.poll() is None:  # follow the machine's pace for the kills aimed before the commit
                log_at = (log_at + time.monotonic() - started) / 2
            time.sleep(rng.uniform(0, 0.04))
        child.send_signal(signal.SIGKILL)
        in_commit += _stat(wal) != log_before
        child.wait(timeout=30)
        state = snapshot(store)  # opens: the store is never corrupt
        assert state in (before, after), f"kill {i} left a partial batch: {state['counts']}"
        outcomes.append("whole" if state == after else "none")
        if state == after:  # back to the state before the batch, for the next kill
            with HistoryStore.open(store) as s:
                s.remove(BATCH)
            assert snapshot(store) == before
        # Killed, or it ended on its own first (even between a poll and the kill, on a busy machine):
        # then with the whole batch written.
        assert child.returncode == -signal.SIGKILL or (child.returncode == 0 and state == after), child.returncode
    print(f"{KILLS} kills: {outcomes.count('none')} left the store as it was, {outcomes.count('whole')} holding "
          f"the whole batch; {in_commit} after DuckDB had begun its log")
    assert "none" in outcomes and "whole" in outcomes and in_commit >= 3, (outcomes, in_commit)
    # The store still takes the batch, whole.
    final = run_cli("history", "add", "--history", str(store), *BATCH, cwd=work)
    assert final.returncode == 0, final.stderr
    assert snapshot(store) == after


@pytest.mark.skipif(not can_drop_privileges(), reason="cannot drop root's permission override (no setpriv)")
def test_read_only_store_folder_and_file_are_one_clear_error(work) -> None:
    folder = work / "ro"
    folder.mkdir()
    try:
        folder.chmod(0o555)
        new = run_cli("history", "add", "--history", "ro/h.duckdb", *BASE, cwd=work, drop_privileges=True)
        one_line_error(new, "ro/h.duckdb", "Permission denied")
        folder.chmod(0o755)
        assert run_cli("history", "add", "--history", "ro/h.duckdb", *BASE, cwd=work).returncode == 0
        before = snapshot(folder / "h.duckdb")
        folder.chmod(0o555)
        (folder / "h.duckdb").chmod(0o444)
        for args in (["history", "add", "--history", "ro/h.duckdb", *BATCH],
                     ["history", "remove", "--history", "ro/h.duckdb", BASE[0]]):
            one_line_error(run_cli(*args, cwd=work, drop_privileges=True), "ro/h.duckdb", "Permission denied")
        listed = run_cli("history", "list", "--history", "ro/h.duckdb", "--format", "json", cwd=work,
                         drop_privileges=True)
        assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 1, listed.stderr
    finally:
        folder.chmod(0o755)
        for p in folder.iterdir():
            p.chmod(0o644)
    assert snapshot(folder / "h.duckdb") == before


_FULL = textwrap.dedent("""
    set -u
    mount -t tmpfs -o size=1m tmpfs full || exit 97
    "$PY" -m auditor history add --history full/h.duckdb {base} -q >/dev/null 2>first.err || exit 98
    "$PY" -m auditor history add --history full/h.duckdb {batch} -q >/dev/null 2>second.err
    echo $? > second.rc
    "$PY" -c 'import json; from auditor.history import HistoryStore; s = HistoryStore.open("full/h.duckdb", \
read_only=True); print(json.dumps({{"counts": s.counts()}})); s.close()' > state.json
""")


def test_a_full_disk_is_one_clear_error_and_the_store_keeps_what_it_had(work) -> None:
    """A 1 MB tmpfs in a private mount namespace stands for a full disk (skipped where the test may
    not mount): the first page fits, the batch does not."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare to mount a small tmpfs privately")
    (work / "full").mkdir()
    script = _FULL.format(base=" ".join(BASE), batch=" ".join(BATCH))
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script], cwd=work,
                          env=env(PY=sys.executable), capture_output=True, text=True, timeout=120)
    if proc.returncode == 97 or proc.stderr.startswith("unshare:"):
        pytest.skip("mounting a tmpfs in a private namespace is not allowed here")
    assert proc.returncode == 0, proc.stderr
    assert (work / "second.rc").read_text().strip() == "2"
    lines = [line for line in (work / "second.err").read_text().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("auditor: error: full/h.duckdb: "), lines
    assert "No space left on device" in lines[0]
    state = json.loads((work / "state.json").read_text())
    assert state["counts"]["documents"] == 1, state  # the first page, whole; nothing of the batch
