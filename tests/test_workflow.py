"""The documented GitHub Actions workflow (docs/auditor-workflow.yml), its `run:` steps run locally.

The test lays out a checkout (drafts/ and incoming/ as the workflow's env names them), puts an
`auditor` command on PATH that runs this working tree, and runs every `run:` step but the install
step with bash, as the runner does (`bash -e`), substituting `${{ steps.<id>.outputs.<name> }}`
from $GITHUB_OUTPUT. `uses:` steps (checkout, setup-python, upload-sarif) are GitHub's own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.tables.helpers import ROOT, cli_env, sarif_validator, write_csv

WORKFLOW = ROOT / "docs" / "auditor-workflow.yml"
EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _checkout(tmp_path: Path, drafts: dict[str, str], rows: list[dict]) -> Path:
    repo = tmp_path / "repo"
    (repo / "drafts").mkdir(parents=True)
    (repo / "incoming").mkdir()
    for name, text in drafts.items():
        (repo / "drafts" / name).write_text(text, encoding="utf-8")
    write_csv(repo / "incoming" / "metrics.csv", rows)
    return repo


def _shim(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "auditor"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m auditor "$@"\n', encoding="utf-8")
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def run_workflow(tmp_path: Path, repo: Path) -> dict[str, int]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    (job,) = workflow["jobs"].values()
    env = {**cli_env(), **{k: str(v) for k, v in workflow.get("env", {}).items()}}
    env["PATH"] = f"{_shim(tmp_path)}{os.pathsep}{env['PATH']}"
    outputs: dict[str, dict[str, str]] = {}
    codes: dict[str, int] = {}
    summary = tmp_path / "summary.md"
    for step in job["steps"]:
        if "run" not in step or step.get("id") == "install":
            continue
        out_file = tmp_path / f"output-{step['id']}"
        out_file.write_text("", encoding="utf-8")

        def value(m: re.Match) -> str:
            expr = m.group(1)
            if expr.startswith("steps."):
                _, sid, _, name = expr.split(".")
                return outputs.get(sid, {}).get(name, "")
            if expr.startswith("env."):
                return env.get(expr[4:], "")
            raise AssertionError(f"expression not supported by the local runner: {expr}")

        script = EXPR.sub(value, step["run"])
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script], cwd=repo,
                              env={**env, "GITHUB_OUTPUT": str(out_file), "GITHUB_STEP_SUMMARY": str(summary)},
                              capture_output=True, text=True, encoding="utf-8", timeout=300)
        codes[step["id"]] = proc.returncode
        outputs[step["id"]] = dict(line.split("=", 1) for line in out_file.read_text(encoding="utf-8").splitlines()
                                   if "=" in line)
        if step["id"] != "gate":
            assert proc.returncode == 0, (step["id"], proc.stderr)
    return codes | {f"{sid}.exit": int(o["exit"]) for sid, o in outputs.items() if "exit" in o}


def _valid_sarif(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert not list(sarif_validator().iter_errors(data))
    return data


@pytest.mark.slow
def test_workflow_fails_on_errors_and_writes_sarif(tmp_path):
    drafts = {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "fixtures").glob("00[04]_*.txt"))}
    rows = [{"entity": "某某县总工会", "year": "2021", "label": "新增会员", "metric": "new_members", "value": "35",
             "unit": "人"}]
    repo = _checkout(tmp_path, drafts, rows)
    codes = run_workflow(tmp_path, repo)
    assert codes["text.exit"] == 1 and codes["tables.exit"] == 1
    assert codes["gate"] != 0
    text = _valid_sarif(repo / "auditor-text.sarif")
    assert {r["ruleId"] for r in text["runs"][0]["results"]} >= {"P001"}
    uris = {a["location"]["uri"] for a in text["runs"][0]["artifacts"]}
    assert all(u.startswith("drafts/") for u in uris)
    tables = _valid_sarif(repo / "auditor-tables.sarif")
    assert tables["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert (tmp_path / "summary.md").read_text(encoding="utf-8").startswith("## ❌ auditor")


@pytest.mark.slow
def test_workflow_passes_when_clean_and_honours_the_baseline(tmp_path):
    drafts = {"clean.md": "本报讯 2021年，洮南市总工会为困难职工发放救助金3000元。\n",
              "backlog.txt": "拨缴工会经费总额为X元。\n"}
    rows = [{"entity": "洮南市总工会", "year": "2021", "label": "救助资金", "metric": "relief_funds", "value": "28.74",
             "unit": "万元"}]
    repo = _checkout(tmp_path, drafts, rows)
    proc = subprocess.run([sys.executable, "-m", "auditor", "audit", "drafts", "--write-baseline",
                           ".auditor-baseline.json", "-q"], cwd=repo, env=cli_env(), capture_output=True, text=True)
    assert proc.returncode == 1 and (repo / ".auditor-baseline.json").is_file()
    codes = run_workflow(tmp_path, repo)
    assert codes["text.exit"] == 0 and codes["tables.exit"] == 0 and codes["gate"] == 0
    text = _valid_sarif(repo / "auditor-text.sarif")
    (res,) = text["runs"][0]["results"]
    assert res["suppressions"][0]["kind"] == "external"


def test_workflow_shape():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    (job,) = workflow["jobs"].values()
    uses = [s["uses"] for s in job["steps"] if "uses" in s]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    assert workflow["permissions"]["security-events"] == "write"
    assert shutil.which("bash")
