"""The local engine: a process pool gives the findings of one process, in the same order; the split
plan (the Spark engine's, in plain Python) gives them too; outputs are all or nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from auditor.audit import AuditResult, analyse_paths, apply_suppressions, load_selected_rules, run_audit
from auditor.config import Config
from auditor.documents.load import iter_document_paths
from auditor.engines import local
from auditor.errors import InputError
from auditor.report.json_report import finding_dict, render_json
from auditor.rules.context import AuditContext
from auditor.documents.segment import PackedParagraphs
from auditor.rules.engine import run_rules
from tests.conftest import FIXTURES, ROOT
from tests.engines.conftest import SHORT_CLAUSES


def dump(findings) -> list[str]:
    """Findings as comparable text: every field a report shows."""
    return [json.dumps(finding_dict(f), ensure_ascii=False, sort_keys=True, default=str) for f in findings]


@pytest.fixture(scope="module")
def reference(corpus):
    """The corpus audited the plainest way, the reference every engine must reproduce: every
    document analysed in this process, then every rule over all of them (no chunks, no workers,
    nothing prepared ahead for the corpus-wide rules)."""
    config = Config(jobs=1)
    rule_set, rules = load_selected_rules(config)
    documents = analyse_paths([str(corpus)], config, jobs=1)
    found = apply_suppressions(documents, run_rules(rules, AuditContext(documents)))
    return AuditResult(tuple(documents), tuple(found), rule_set, tuple(rules), 0.0, config.lang)


@pytest.mark.parametrize("jobs", [1, 2])
def test_pool_gives_the_findings_of_one_process(corpus, reference, jobs):
    pooled = run_audit([str(corpus)], Config(jobs=jobs), history=False)
    assert [d.path for d in pooled.documents] == [d.path for d in reference.documents]
    assert dump(pooled.findings) == dump(reference.findings)
    assert {f.rule for f in reference.findings} >= {"D001", "P001", "Y001"}  # the corpus exercises the rules
    assert [f.rule for f in reference.findings if f.text == SHORT_CLAUSES] == ["D001"]  # and a run of short clauses
    assert not any(d.prepared for d in pooled.documents)  # work done ahead for the rules is let go
    # the documents are kept packed (paragraphs as offsets), equal to the ones analysed in place
    assert all(isinstance(d.segmentation.paragraphs, PackedParagraphs) for d in pooled.documents)
    assert list(pooled.documents) == list(reference.documents)


def test_per_document_rules_in_the_workers_give_the_same_findings(corpus, reference):
    config = Config(jobs=2)
    _, rules = load_selected_rules(config)
    files = list(iter_document_paths([str(corpus)]))
    documents, findings = local.audit_documents(files, config, rules)
    assert [d.path for d in documents] == [d.path for d in reference.documents]
    assert dump(findings) == dump(reference.findings)


def test_a_group_of_corpus_rules_lets_go_of_a_family_s_shared_work_when_the_next_begins(corpus, reference):
    """In a corpus-rule worker, the exact duplicate rules share their index of the audit
    (``AuditContext.memo``); once the group moves on to year-over-year it is dropped, and the
    findings are those of every rule run in one process."""
    _, rules = load_selected_rules(Config(jobs=1))
    group = [r for r in rules if r.id in ("D001", "D002", "D005", "Y001", "Y002")]
    documents = analyse_paths([str(corpus)], Config(jobs=1), jobs=1)
    ctx = AuditContext(documents)
    seen: list[bool] = []
    forget = ctx.forget

    def watched() -> None:  # what the memo held when the group moved to another family
        seen.append(any("duplicate.repeated" in key for key in ctx._memo))
        forget()

    ctx.forget = watched
    local._SHARED.update(groups=[group], ctx=ctx, order={r.id: i for i, r in enumerate(group)})
    try:
        done, error, _ = local._rule_group(0)
    finally:
        local._SHARED.clear()
    assert error is None and seen == [False, True]  # once at the start, once between D005 and Y001
    assert not any("duplicate.repeated" in key for key in ctx._memo)
    expected = [f for f in reference.findings if f.rule in {r.id for r in group}]
    assert dump(local.merge_findings(done)) == dump(expected)


def test_split_plan_gives_the_same_findings_and_links_only_sharing_pages(corpus, reference):
    config = Config(jobs=2)
    _, rules = load_selected_rules(config)
    files = list(iter_document_paths([str(corpus)]))
    views, findings, stats = local.audit_split(files, config, rules)
    assert dump(findings) == dump(reference.findings)
    assert 0 < stats["linked"] < stats["documents"]  # scrambled pages without a copy stand alone
    same = replace(reference, documents=tuple(views), findings=tuple(findings), elapsed_s=reference.elapsed_s)
    assert render_json(same) == render_json(reference)  # reports from the compact views are the same


def test_rules_looking_at_one_document_are_told_apart():
    _, rules = load_selected_rules(Config())
    per_document, corpus_wide = local.split_rules(rules)
    assert {r.kind for r in per_document} <= {"placeholder", "pattern", "doubling", "arithmetic", "unit"}
    assert {r.kind for r in corpus_wide} == {"duplicate", "yoy", "unit"}
    assert all(r.params.check == "magnitude-slip" for r in corpus_wide if r.kind == "unit")


def test_first_unreadable_file_stops_the_pool_as_it_stops_one_process(tmp_path):
    for p in sorted(FIXTURES.glob("*.txt")):
        shutil.copy(p, tmp_path / p.name)
    (tmp_path / "001_z_empty.txt").write_bytes(b"")
    (tmp_path / "003_z_binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    messages = []
    for jobs in (1, 2):
        with pytest.raises(InputError) as err:
            run_audit([str(tmp_path)], Config(jobs=jobs), history=False)
        messages.append(str(err.value))
    assert messages[0] == messages[1] and "001_z_empty.txt" in messages[0]


def test_chunks_cover_every_file_in_order():
    sizes = [5, 3_000_000, 10, 200_000] * 50
    chunks = local.plan_chunks(sizes, 2)
    assert [i for c in chunks for i in c] == list(range(len(sizes)))
    assert len(chunks) >= 8


def test_progress_is_drawn_only_on_a_terminal_when_asked(monkeypatch, capsys):
    monkeypatch.setattr(local, "_stderr_is_terminal", lambda: True)
    with local.Progress(3, 3000, delay=0) as quiet:  # not asked: --quiet, or not the command line
        quiet.advance(1, 1000, 5)
    assert not quiet.enabled
    with local.show_progress(True):
        with local.Progress(3, 3000, delay=0) as shown:
            shown.advance(3, 3000, 7)
            assert shown.files == 3 and shown.findings == 7 and shown._bar is not None
    monkeypatch.setattr(local, "_stderr_is_terminal", lambda: False)
    with local.show_progress(True):
        assert not local.Progress(3, 3000).enabled  # piped stderr: no bar


def test_parquet_tables_round_trip(tmp_path, reference):
    out = tmp_path / "tables"
    local.write_tables(reference, out)
    import pyarrow.parquet as pq

    findings = pq.read_table(out / "findings").to_pylist()
    assert dump(local.finding_from_record(r) for r in findings) == dump(reference.findings)
    metrics = pq.read_table(out / "metrics").to_pylist()
    assert [local.metric_from_record(r) for r in metrics] == [m for d in reference.documents for m in d.metrics]
    documents = pq.read_table(out / "documents").to_pylist()
    assert [d["path"] for d in documents] == [d.path for d in reference.documents]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tables"]  # no temporary folder left


def test_failed_table_write_leaves_nothing(tmp_path, reference, monkeypatch):
    out = tmp_path / "tables"
    out.mkdir()
    (out / "old.txt").write_text("the previous run's tables", encoding="utf-8")

    def broken(record):
        raise RuntimeError("disk full")

    monkeypatch.setattr(local, "finding_record", broken)
    with pytest.raises(RuntimeError):
        local.write_tables(reference, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tables"]
    assert [p.name for p in out.iterdir()] == ["old.txt"]  # the old tables stay until new ones are whole


def _big_corpus(folder: Path, copies: int) -> None:
    pages = sorted(FIXTURES.glob("*.txt"))
    for k in range(copies):
        for p in pages:
            text = p.read_text(encoding="utf-8")
            (folder / f"{k:03d}_{p.name}").write_text(text.replace("2021", str(1990 + k % 30)), encoding="utf-8")


def _wait_for_workers(pid: int, timeout: float = 60.0) -> None:
    """Until the process has started its pool's workers (its imports are done; a Ctrl-C during
    the interpreter's start-up is Python's to report, not ours), then a little longer."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if children.read_text().split():
                break
        except OSError:  # not Linux, or the process is gone: fall back to waiting
            time.sleep(3.0)
            return
        time.sleep(0.05)
    time.sleep(1.0)


@pytest.mark.slow
def test_interrupted_run_leaves_no_half_written_outputs(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _big_corpus(corpus, 30)
    report, tables = tmp_path / "report.json", tmp_path / "tables"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen([sys.executable, "-m", "auditor", "audit", str(corpus), "--jobs", "2", "--format", "json",
                             "-o", str(report), "--output-dir", str(tables), "--no-history"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_workers(proc.pid)  # past start-up, into the analysis: the interrupt lands mid-run
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, err, len(out))
    assert "interrupted" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]  # no report, no tables, no temporaries


def test_spark_engine_without_pyspark_is_one_line_and_exit_2(monkeypatch, capsys):
    import auditor.engines as engines
    from auditor.cli import main

    monkeypatch.setattr(engines, "spark_available", lambda: False)
    with pytest.raises(SystemExit) as stop:
        main(["audit", str(FIXTURES), "--engine", "spark", "--no-history"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "auditor: error: the Spark engine needs pyspark: pip install 'auditor[spark]'"]


def test_jobs_and_engine_in_the_config_file(tmp_path):
    from auditor.config import load_config
    from auditor.errors import UsageError

    good = tmp_path / "auditor.toml"
    good.write_text('jobs = 3\nengine = "spark"\n', encoding="utf-8")
    assert (load_config(good).jobs, load_config(good).engine) == (3, "spark")
    for body in ("jobs = 0\n", 'jobs = "4"\n', 'engine = "gpu"\n'):
        good.write_text(body, encoding="utf-8")
        with pytest.raises(UsageError):
            load_config(good)
