"""The real command line in a child process, as a user or a CI job runs it, with its wall time and
peak memory measured; and the one-line error every bad input must end in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"

# Root reads and writes whatever the permission bits say; to see a permission error as a user
# does, a child run by root drops the two capabilities that let it ignore them.
_SETPRIV = shutil.which("setpriv")
_DROP = "-dac_override,-dac_read_search"


def env(**extra: str) -> dict[str, str]:
    """A child's environment: this source tree first on the path (whatever is installed), UTF-8."""
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "PYTHONIOENCODING": "utf-8", "COLUMNS": "120", "NO_COLOR": "1", **extra}


def can_drop_privileges() -> bool:
    return os.geteuid() != 0 or _SETPRIV is not None


def unprivileged(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return [_SETPRIV, f"--inh-caps={_DROP}", f"--bounding-set={_DROP}", *argv]


@dataclass
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float  # the child's peak resident memory

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


# The child's peak memory is its own VmHWM, written by this launcher when the interpreter exits.
# Not the rusage of a reaped child: Linux carries the mm high-water mark across fork and exec, so a
# child of a 400 MB pytest process reports at least 400 MB however little it uses.
_LAUNCHER = """
import atexit, os, runpy, sys
def _peak():
    with open("/proc/self/status") as status:
        kb = next((line.split()[1] for line in status if line.startswith("VmHWM:")), "nan")
    with open(os.environ["AUDITOR_TEST_PEAK_FILE"], "w") as out:
        out.write(kb)
atexit.register(_peak)
sys.argv[0] = "auditor"
runpy.run_module("auditor", run_name="__main__", alter_sys=True)
"""


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 60, drop_privileges: bool = False) -> Run:
    """`python -m auditor ARGS` in a child. A hang fails the test at `timeout` (the child is killed)."""
    argv = [sys.executable, "-c", _LAUNCHER, *args]
    if drop_privileges:
        argv = unprivileged(argv)
    with tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak"
        peak_file.write_text("nan")
        peak_file.chmod(0o666)  # the child may run without root's override
        os.chmod(tmp, 0o777)
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd or ROOT, env=env(AUDITOR_TEST_PEAK_FILE=str(peak_file)),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise AssertionError(f"auditor {' '.join(args)} did not finish within {timeout} s (a hang)") from None
        seconds = time.perf_counter() - started
        peak_mb = float(peak_file.read_text() or "nan") / 1024  # VmHWM is in kB
    return Run(tuple(args), proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
               seconds, peak_mb)


def one_line_error(run: Run, *needles: str) -> str:
    """Exit 2, no traceback, and exactly one line on stderr: `auditor: error: …` holding every needle."""
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 2, (run.returncode, run.stderr[-2000:])
    lines = run.error_lines
    assert len(lines) == 1, run.stderr
    line = lines[0]
    assert line.startswith("auditor: error: "), line
    for needle in needles:
        assert needle in line, (needle, line)
    return line
