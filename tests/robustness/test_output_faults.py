"""Writing a report where it cannot be written: a full disk (behind -o or behind a shell redirect) or a
read-only folder. One clear line and exit 2, never a traceback, never exit 0 or 1 with a report cut
short, and no half-written file left behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from .helpers import FIXTURES, can_drop_privileges, env, one_line_error, run_cli

PAGE = str(FIXTURES / "004_b6e2a60db747514b.txt")  # its JSON report is ~600 KB

_SCRIPT = textwrap.dedent("""
    mount -t tmpfs -o size=64k tmpfs full || exit 97
    "$PY" -m auditor audit "$PAGE" --format json -o full/report.json 2>o.err; echo $? > o.rc
    "$PY" -m auditor audit "$PAGE" --format json > full/redirect.json 2>r.err; echo $? > r.rc
    "$PY" -m auditor extract "$PAGE" --format csv > full/metrics.csv 2>e.err; echo $? > e.rc
    ls -A full > listing
""")


def test_a_full_disk_is_one_error_and_no_report_is_cut_short(tmp_path) -> None:
    """A 64 KB tmpfs in a private mount namespace stands for a full disk."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare to mount a small tmpfs privately")
    (tmp_path / "full").mkdir()
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", _SCRIPT], cwd=tmp_path,
                          env=env(PY=sys.executable, PAGE=PAGE), capture_output=True, text=True, timeout=180)
    if proc.returncode == 97 or proc.stderr.startswith("unshare:"):
        pytest.skip("mounting a tmpfs in a private namespace is not allowed here")
    for name, where in (("o", "full/report.json: cannot write output: "), ("r", "writing output: "),
                        ("e", "writing output: ")):
        assert (tmp_path / f"{name}.rc").read_text().strip() == "2", name
        lines = [line for line in (tmp_path / f"{name}.err").read_text().splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("auditor: error: " + where), (name, lines)
        assert lines[0].endswith("No space left on device"), lines
    # -o writes a temporary file and renames it: nothing is left of the report that did not fit.
    assert "report.json" not in (tmp_path / "listing").read_text()
    assert ".part" not in (tmp_path / "listing").read_text()


@pytest.mark.skipif(not can_drop_privileges(), reason="cannot drop root's permission override (no setpriv)")
def test_a_read_only_output_folder_is_one_error(tmp_path) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    out.chmod(0o555)
    try:
        run = run_cli("audit", PAGE, "--format", "sarif", "-o", str(out / "r.sarif"), drop_privileges=True)
        one_line_error(run, "r.sarif", "cannot write output", "Permission denied")
        run = run_cli("audit", PAGE, "--html", str(out / "sub" / "r.html"), "-q", drop_privileges=True)
        one_line_error(run, "r.html", "cannot write output", "Permission denied")
    finally:
        out.chmod(0o755)
    assert list(out.iterdir()) == []


def test_an_output_path_that_is_a_folder_is_one_error(tmp_path) -> None:
    one_line_error(run_cli("extract", PAGE, "-o", str(tmp_path)), str(tmp_path), "output path is a folder")


_SPILL_SCRIPT = textwrap.dedent("""
    mount -t tmpfs -o size=64k tmpfs full || exit 97
    printf 'spill-above = 0\\njobs = 2\\n' > auditor.toml
    TMPDIR=full "$PY" -m auditor audit "$PAGES" --no-history -q --format json -o report.json 2>s.err; echo $? > s.rc
    ls -A full > listing
""")


def test_a_full_disk_under_the_spill_folder_is_one_error_and_leaves_nothing(tmp_path) -> None:
    """Documents spilled to a full temporary folder (auditor/engines/spill.py): one line naming the
    folder and what to do, exit 2, no report, and the spill folder removed."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare to mount a small tmpfs privately")
    (tmp_path / "full").mkdir()
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", _SPILL_SCRIPT],
                          cwd=tmp_path, env=env(PY=sys.executable, PAGES=str(FIXTURES)), capture_output=True,
                          text=True, timeout=180)
    if proc.returncode == 97 or proc.stderr.startswith("unshare:"):
        pytest.skip("mounting a tmpfs in a private namespace is not allowed here")
    assert (tmp_path / "s.rc").read_text().strip() == "2"
    lines = [line for line in (tmp_path / "s.err").read_text().splitlines() if line.strip()]
    assert lines == [f"auditor: error: {tmp_path / 'full'}: cannot keep analysed documents on disk: No space left on device "
                     "(free space there, point TMPDIR elsewhere, or raise spill-above)"], lines
    assert (tmp_path / "listing").read_text() == "" and not (tmp_path / "report.json").exists()
