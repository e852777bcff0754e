"""Pages and command lines for the history tests: real DuckDB files in tmp_path, real processes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from auditor.documents.load import Document
from auditor.pipeline import analyse

ROOT = Path(__file__).resolve().parents[2]


def page(text: str, path: str = "page.txt", year: int | None = None):
    """A page through the real pipeline, from its text (nothing on disk)."""
    data = text.encode("utf-8")
    return analyse(Document(path, text, "utf-8", hashlib.sha256(data).hexdigest(), "txt", len(data)), year=year)


def taonan(year: int, funds: str, people: str = "84名", orgs: str = "31家", path: str | None = None):
    """洮南's relief figures of one year, as a one-article page."""
    text = (f"本报讯 {year}年，洮南市总工会救助困难职工{people}，发放救助资金{funds}。"
            f"全市新组建基层工会组织{orgs}。")
    return page(text, path or f"archive/taonan_{year}.txt")


def env() -> dict[str, str]:
    """The environment of a child process: this source tree first on the path (whatever is
    installed), UTF-8 output, a wide terminal."""
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "PYTHONIOENCODING": "utf-8", "COLUMNS": "160", "PYTHONWARNINGS": "ignore"}


def run_cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "auditor", *args], cwd=cwd, capture_output=True, text=True,
                          encoding="utf-8", timeout=timeout, env=env())


def python(code: str, cwd: Path, *args: str) -> subprocess.Popen:
    """A child Python process running `code` with `args` in sys.argv[1:] (for locks and kills)."""
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=cwd, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8")
