"""`auditor extract` end to end: formats, folders, and bad input (exit 2, one line, no partial file)."""

from __future__ import annotations

import json
import zipfile

import pandas as pd

from .helpers import ROOT, run_auditor


def test_json_records_match_the_contract_items(tmp_path):
    out = tmp_path / "m.json"
    proc = run_auditor("extract", "fixtures", "--format", "json", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    records = json.loads(out.read_text(encoding="utf-8"))
    required = {"document", "start", "end", "text", "value", "unit", "entity", "year", "label"}
    assert records and all(required <= set(r) for r in records)
    assert "\\u" not in out.read_text(encoding="utf-8")  # Chinese stays readable
    docs = {r["document"] for r in records}
    assert docs == {f"fixtures/{p.name}" for p in (ROOT / "fixtures").glob("*.txt")}  # README.md is skipped


def test_csv_to_stdout_and_parquet(tmp_path):
    proc = run_auditor("extract", "fixtures/000_20e9484f903fef0f.txt")
    assert proc.returncode == 0 and proc.stdout.startswith("document,start,end,text,value")
    out = tmp_path / "m.parquet"
    assert run_auditor("extract", "fixtures", "--format", "parquet", "-o", str(out)).returncode == 0
    frame = pd.read_parquet(out)
    assert len(frame) > 500 and set(frame["year"].dropna().unique()) >= {2020, 2021}


def _bad_files(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (tmp_path / "garbage.txt").write_bytes(b"abc\xff\xfd\x80\x80" * 50)
    with zipfile.ZipFile(tmp_path / "broken.docx", "w") as z:
        z.writestr("nothing.txt", "not a docx")
    return {
        "empty.txt": "empty",
        "binary.txt": "binary",
        "garbage.txt": "decode",
        "broken.docx": "docx",
        "missing.txt": "no such file",
    }


def test_bad_input_exit_2_one_line_no_partial_output(tmp_path):
    for name, word in _bad_files(tmp_path).items():
        out = tmp_path / f"out-{name}.csv"
        proc = run_auditor("extract", "fixtures/000_20e9484f903fef0f.txt", str(tmp_path / name), "-o", str(out))
        assert proc.returncode == 2, (name, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and name in lines[0] and word in lines[0].lower(), (name, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert not out.exists(), f"partial output left for {name}"
        assert not list(tmp_path.glob(f".out-{name}*")), "temporary file left behind"


def test_help_is_fast_and_lists_commands():
    proc = run_auditor("--help")
    assert proc.returncode == 0 and "audit" in proc.stdout and "extract" in proc.stdout
    # `auditor --help` loads click only: no pandas, no pandera.
    probe = run_auditor("--version")
    assert probe.returncode == 0


def test_cli_start_imports_nothing_heavy():
    import subprocess
    import sys

    code = ("import sys; from auditor.cli import cli; "
            "print(','.join(m for m in ('pandas','pandera','great_expectations','pyarrow','rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    assert out == ""
