"""Documents kept on disk between the stages of a large audit (auditor/engines/spill.py): the same
findings and reports as documents held in memory, the folder gone afterwards, every read equal to
the document written whatever the cache holds."""

from __future__ import annotations

import gc
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from auditor.audit import analyse_paths, run_audit
from auditor.config import Config, load_config
from auditor.engines import spill as spill_module
from auditor.engines.spill import Spill, SpilledDocument, SpilledFindings
from auditor.errors import InputError, UsageError
from auditor.findings import Tally
from auditor.report.html import iter_html
from auditor.report.json_report import iter_json
from auditor.report.sarif import render_sarif
from tests.conftest import FIXTURES
from tests.engines.test_local import dump


@pytest.fixture()
def spill_tmp(tmp_path, monkeypatch) -> Path:
    """The temporary folder spill folders are made in, to see what is left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(folder))
    return folder


def _without_elapsed(result):
    from dataclasses import replace

    return replace(result, elapsed_s=0.0)


@pytest.mark.parametrize("jobs", [1, 2])
def test_spilled_audit_gives_the_findings_and_reports_of_one_held_in_memory(corpus, spill_tmp, jobs):
    held = run_audit([str(corpus)], Config(jobs=jobs), history=False)
    spilled = run_audit([str(corpus)], Config(jobs=jobs, spill_above=0), history=False)
    assert all(isinstance(d, SpilledDocument) for d in spilled.documents)
    assert not any(isinstance(d, SpilledDocument) for d in held.documents)
    assert {f.rule for f in held.findings} >= {"D001", "D003", "P001", "Y001"}
    assert dump(spilled.findings) == dump(held.findings)
    held, spilled = _without_elapsed(held), _without_elapsed(spilled)
    assert "".join(iter_json(spilled)) == "".join(iter_json(held))
    assert "".join(iter_html(spilled)) == "".join(iter_html(held))
    assert render_sarif(spilled) == render_sarif(held)
    assert isinstance(spilled.findings, SpilledFindings) and len(spilled.findings) == len(held.findings)
    assert [spilled.findings[i] for i in (0, -1, len(held.findings) // 2)] == \
        [held.findings[i] for i in (0, -1, len(held.findings) // 2)]
    assert spilled.findings[3:40:7] == list(held.findings[3:40:7])
    assert not any(d.prepared for d in spilled.documents)  # the duplicate rules' work is let go
    assert len(list(spill_tmp.iterdir())) == 1  # the spill folder, alive while its documents are
    del spilled
    gc.collect()
    assert list(spill_tmp.iterdir()) == []


def test_spilled_document_pickles_as_the_document(spill_tmp):
    documents = analyse_paths([str(FIXTURES)], Config(jobs=1), jobs=1)
    documents[1].prepared["x"] = (1, 2)
    spill = Spill()
    handles = spill.attach(spill.writer().write("chunk", [d.packed() for d in documents]))
    assert [h.path for h in handles] == [d.path for d in documents]
    assert [pickle.loads(pickle.dumps(h)) for h in handles] == documents
    assert handles[1].prepared == {"x": (1, 2)} and handles[0].prepared == {}
    assert handles[2].original_span(3, 9) == documents[2].original_span(3, 9)
    # the normalised text is read alone; the rest of the NormText from the whole page
    assert [h.norm.text for h in handles] == [d.norm.text for d in documents]
    assert handles[4].norm.to_original(5, 20) == documents[4].norm.to_original(5, 20)
    assert list(handles[3].metrics) == list(documents[3].metrics)
    # the metrics are read alone too: a rule or report that wants only them does not load the page
    spill._pinned.clear()
    spill._recent.clear()
    assert handles[0].metrics == documents[0].metrics
    assert list(spill._pinned) == [("chunk", handles[0]._metrics.offset)]
    spill.close()
    assert list(spill_tmp.iterdir()) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.lists(st.integers(0, 4), min_size=1, max_size=40), pinned=st.integers(0, 400_000),
       recent=st.integers(1, 3))
def test_every_read_is_the_document_written_whatever_the_cache_holds(order, pinned, recent, monkeypatch):
    monkeypatch.setattr(spill_module, "_PINNED_BYTES", pinned)
    monkeypatch.setattr(spill_module, "_RECENT", recent)
    spill = Spill()
    try:
        handles = spill.attach(spill.writer().write("chunk", _fixture_documents()))
        for i in order:
            assert handles[i].load() == _fixture_documents()[i]
            assert handles[i].norm.text == _fixture_documents()[i].norm.text
            assert handles[i].metrics == _fixture_documents()[i].metrics
        assert spill._pinned_bytes <= pinned and len(spill._recent) <= recent
    finally:
        spill.close()


def test_handles_of_several_chunks_read_their_own_pages(spill_tmp):
    """Handles hold only a place in the spill's arrays: pages of later chunks are found past those of
    earlier ones, forgetting one page's prepared part touches no other, and the caller's path strings
    are kept (not copies) when they are the chunk's paths."""
    documents = analyse_paths([str(FIXTURES)], Config(jobs=1), jobs=1)
    documents[0].prepared["x"] = (1,)
    documents[3].prepared["y"] = (2,)
    packed = [d.packed() for d in documents]
    spill = Spill()
    try:
        writer = spill.writer()
        paths = [d.path for d in documents]
        handles = (spill.attach(writer.write("a", packed[:2]), paths[:2])
                   + spill.attach(writer.write("b", packed[2:]), paths[2:]))
        assert [h.load() for h in reversed(handles)] == [d.packed() for d in reversed(documents)]
        assert all(h.path is p for h, p in zip(handles, paths))
        assert [h._file for h in handles] == ["a", "a"] + ["b"] * (len(handles) - 2)
        handles[3].drop_prepared()
        assert handles[3].prepared == {} and handles[0].prepared == {"x": (1,)}
        assert [h.metrics for h in handles] == [d.metrics for d in documents]
        other = spill.attach(writer.write("c", packed[:1]), ["elsewhere"])
        assert other[0].path == paths[0]  # not the caller's string when it names another file
    finally:
        spill.close()


_DOCS: list = []


def _fixture_documents() -> list:
    if not _DOCS:
        _DOCS.extend(d.packed() for d in analyse_paths([str(FIXTURES)], Config(jobs=1), jobs=1))
    return _DOCS


def test_unreadable_file_mid_run_leaves_no_spill_behind(tmp_path, spill_tmp):
    pages = tmp_path / "pages"
    pages.mkdir()
    for p in sorted(FIXTURES.glob("*.txt")):
        (pages / p.name).write_bytes(p.read_bytes())
    (pages / "002_binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(InputError, match="002_binary"):
        run_audit([str(pages)], Config(jobs=2, spill_above=0), history=False)
    gc.collect()
    assert list(spill_tmp.iterdir()) == []


def test_cli_run_that_spills_cleans_up_at_exit(tmp_path):
    (tmp_path / "auditor.toml").write_text("spill-above = 0\njobs = 2\n", encoding="utf-8")
    folder = tmp_path / "tmp"
    folder.mkdir()
    run = subprocess.run([sys.executable, "-m", "auditor", "audit", str(FIXTURES), "--format", "json", "-o",
                          str(tmp_path / "r.json"), "--no-history", "--quiet"], cwd=tmp_path,
                         capture_output=True, text=True, env={**os.environ, "TMPDIR": str(folder)})
    assert run.returncode == 1, run.stderr  # the fixtures hold errors
    assert '"D001"' in (tmp_path / "r.json").read_text(encoding="utf-8")
    assert list(folder.iterdir()) == []


def test_spill_above_in_the_config_file(tmp_path):
    (tmp_path / "auditor.toml").write_text("spill-above = 1048576\n", encoding="utf-8")
    assert load_config(tmp_path / "auditor.toml").spill_above == 1048576
    (tmp_path / "auditor.toml").write_text("spill-above = -1\n", encoding="utf-8")
    with pytest.raises(UsageError, match="spill-above"):
        load_config(tmp_path / "auditor.toml")


def test_full_disk_while_spilling_is_one_line_naming_the_folder(tmp_path, spill_tmp, monkeypatch, capsys):
    import errno

    from auditor.cli import main

    def full(out, value):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(spill_module, "_dump", full)
    (tmp_path / "auditor.toml").write_text("spill-above = 0\njobs = 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(["audit", str(FIXTURES), "--no-history", "--quiet", "--format", "json", "-o", str(tmp_path / "r.json")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"auditor: error: {spill_tmp}: cannot keep analysed documents on disk: No space left on device "
                   "(free space there, point TMPDIR elsewhere, or raise spill-above)")
    gc.collect()
    assert list(spill_tmp.iterdir()) == [] and not (tmp_path / "r.json").exists()


def test_spilled_findings_take_inline_comments_and_the_baseline_as_held_ones(corpus, tmp_path, spill_tmp):
    from auditor.baseline import write_baseline

    pages = tmp_path / "pages"
    pages.mkdir()
    for p in sorted(corpus.iterdir()):
        text = p.read_text(encoding="utf-8")
        if p.name.startswith("004"):  # the placeholder draft: its first X silenced by a comment
            text = text.replace("X", "X<!-- auditor: ignore P001 模板 -->", 1)
        (pages / p.name).write_text(text, encoding="utf-8")
    first = run_audit([str(pages)], Config(jobs=2), history=False)
    write_baseline(tmp_path / "baseline.json", first.findings[::5])  # every fifth finding accepted
    held = run_audit([str(pages)], Config(jobs=2), history=False, baseline=str(tmp_path / "baseline.json"))
    spilled = run_audit([str(pages)], Config(jobs=2, spill_above=0), history=False,
                        baseline=str(tmp_path / "baseline.json"))
    reasons = {f.suppressed.split(":")[0] for f in held.findings if f.suppressed}
    assert reasons == {"inline", "baseline"}
    assert isinstance(spilled.findings, SpilledFindings)
    assert dump(spilled.findings) == dump(held.findings)
    # counted as they were written to disk, suppressed ones apart: what the report's summary says
    assert spilled.findings.tally == Tally.of(list(held.findings)) and spilled.findings.tally.suppressed > 0
    (folder,) = spill_tmp.iterdir()  # the spilled audit's: besides the pages, only the final findings are left
    assert {p.name for p in folder.iterdir() if not p.name.startswith("chunk-")} == {"findings+"}


def test_findings_pickle_with_every_field():
    # Finding and Related pickle as their fields in order (__reduce__): a field added to either
    # and not to its __reduce__ would be lost on the way from a worker or through the spill.
    import dataclasses

    from auditor.findings import Finding, Related

    def every_field(cls, **given):
        values = {f.name: given.get(f.name, f"{f.name}-value") for f in dataclasses.fields(cls)}
        return cls(**values)

    related = every_field(Related, start=3, end=9)
    finding = every_field(Finding, start=1, end=2, line=3, column=4, related=(related,), evidence={"n": 1})
    assert pickle.loads(pickle.dumps(finding)) == finding
    assert pickle.loads(pickle.dumps(related)) == related
    assert all(getattr(pickle.loads(pickle.dumps(finding)), f.name) == getattr(finding, f.name)
               for f in dataclasses.fields(Finding))


def test_the_cache_budget_counts_what_a_read_takes_in_memory():
    """The budget charges each read by its pickle length times its expansion (METRICS_EXPANSION for
    metrics, 1 otherwise): what the fixtures' pages really take once loaded stays within that charge,
    and their metrics do need the factor (charged at their pickle length they overrun it)."""
    import tracemalloc

    spill = Spill()
    try:
        handles = spill.attach(spill.writer().write("chunk", _fixture_documents()))
        taken: dict[str, list[int]] = {}
        for h in handles:
            for part in ("_body", "_text", "_metrics"):
                extent = getattr(h, part)
                tracemalloc.start()
                value = spill.load(h._file, extent)
                loaded = tracemalloc.get_traced_memory()[0]
                tracemalloc.stop()
                del value
                sums = taken.setdefault(part, [0, 0])
                sums[0] += extent.length
                sums[1] += loaded
    finally:
        spill.close()
    for part, (pickled, loaded) in taken.items():
        expansion = spill_module.METRICS_EXPANSION if part == "_metrics" else 1.0
        assert loaded <= 1.25 * expansion * pickled, (part, pickled, loaded)  # 1.25: slack for allocator noise
    pickled, loaded = taken["_metrics"]
    assert loaded > 2 * pickled, (pickled, loaded)


def test_rule_scratch_files_live_in_the_spill_folder_and_leave_nothing(spill_tmp):
    """A rule's scratch file (the exact and near duplicate modes' working data) is made in the spill
    folder of a spilled audit and has no name to leave behind; an audit held in memory keeps it in
    memory too (no temporary folder needed)."""
    import io

    from auditor.rules.context import AuditContext

    spill = Spill()
    try:
        handles = spill.attach(spill.writer().write("chunk", _fixture_documents()))
        with AuditContext(handles).scratch_file() as scratch:
            scratch.write(b"x" * 100)
            assert os.readlink(f"/proc/self/fd/{scratch.fileno()}").startswith(spill.folder + "/")
        assert sorted(p.name for p in Path(spill.folder).iterdir()) == ["chunk"]
        with AuditContext(_fixture_documents()).scratch_file() as scratch:
            assert isinstance(scratch, io.BytesIO)
        assert list(spill_tmp.iterdir()) == [Path(spill.folder)]
    finally:
        spill.close()


def test_full_disk_under_a_rules_scratch_file_is_one_line(spill_tmp):
    import errno

    from auditor.rules.context import AuditContext

    spill = Spill()
    try:
        handles = spill.attach(spill.writer().write("chunk", _fixture_documents()))
        with pytest.raises(UsageError) as raised:
            with AuditContext(handles).scratch_file():
                raise OSError(errno.ENOSPC, "No space left on device")
    finally:
        spill.close()
    assert str(raised.value) == (f"{spill_tmp}: cannot keep a rule's working data on disk: No space left on device "
                                 "(free space there, or point TMPDIR elsewhere)")
