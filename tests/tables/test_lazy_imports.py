"""great_expectations (and pandas/pandera where not needed) must not load on other commands' paths."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .helpers import ROOT, cli_env

PROBE = r'''
import json, runpy, sys
args = json.loads(sys.argv[1])
if args and args[0] == "import":
    __import__(args[1])
else:
    sys.argv = ["auditor", *args]
    try:
        runpy.run_module("auditor", run_name="__main__")
    except SystemExit:
        pass
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"great_expectations", "pandas", "pandera", "pyspark"})
sys.stderr.write("\nLOADED=" + json.dumps(heavy) + "\n")
'''


def loaded(tmp_path, *args: str) -> list[str]:
    # a script file, not `python -c`: pyspark (pulled in by GX) exits a `-c` process on import
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(probe), json.dumps(list(args))], cwd=ROOT, capture_output=True,
                          text=True, encoding="utf-8", env=cli_env(), timeout=120)
    line = [x for x in proc.stderr.splitlines() if x.startswith("LOADED=")]
    assert line, proc.stderr
    return json.loads(line[-1][len("LOADED="):])


@pytest.mark.parametrize("args", [["--help"], ["check-table", "--help"], ["export-suite", "--help"],
                                  ["import", "auditor.cli.audit_cmd"], ["import", "auditor.cli.check_table_cmd"],
                                  ["import", "auditor.tables.gate"]])
def test_no_heavy_imports_on_start(tmp_path, args):
    assert loaded(tmp_path, *args) == []


def test_text_audit_does_not_load_great_expectations(tmp_path):
    out = tmp_path / "r.sarif"
    assert "great_expectations" not in loaded(tmp_path, "audit", "fixtures/004_b6e2a60db747514b.txt",
                                              "--format", "sarif", "-o", str(out))
    assert out.is_file()


def test_pandera_engine_does_not_load_great_expectations(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("entity,year,label,value,unit\n洮南市总工会,2021,救助资金,1,元\n", encoding="utf-8")
    mods = loaded(tmp_path, "check-table", str(table), "-q")
    assert "great_expectations" not in mods and "pandera" in mods
