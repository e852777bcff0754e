"""Memory of the corpus-wide rules: each one alone, on a spilled audit, in its own process.

    python bench/bench_rule_memory.py bench/corpus/200mb/pages [--rules D001,D003,Y001] [--jobs 2]

The corpus is analysed and spilled as `auditor audit` does it above `spill-above` (the workers write
the pages to a spill folder; this process keeps handles). Then every corpus-wide rule (duplicates,
year-over-year, magnitude slip) runs alone in a process forked from this one, as the local engine
forks its rule workers, and reports its peak resident memory (VmHWM, which starts from this
process's size at the fork), its time and its findings. Two rules run at a time (--parallel).
Prints a Markdown table; `--json FILE` writes the rows.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _memory_mb() -> tuple[float, float]:
    """(peak, current) resident memory of this process in MB."""
    found = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(("VmHWM", "VmRSS")):
                found[line.split(":")[0]] = int(line.split()[1]) / 1024
    return found["VmHWM"], found["VmRSS"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", help="folder of pages (e.g. bench/corpus/200mb/pages)")
    parser.add_argument("--rules", default="", help="rule ids, comma-separated (default: every corpus-wide rule)")
    parser.add_argument("--jobs", type=int, default=2, help="analysis workers")
    parser.add_argument("--parallel", type=int, default=2, help="rules measured at a time")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from auditor.audit import document_files, load_selected_rules
    from auditor.config import Config
    from auditor.engines import local
    from auditor.engines.spill import Spill
    from auditor.rules.context import AuditContext
    from auditor.rules.engine import run_rules

    config = dataclasses.replace(Config(), jobs=args.jobs, spill_above=0)
    _, rules = load_selected_rules(config)
    files = document_files([args.pages], config)
    started = time.perf_counter()
    spill = Spill()
    documents, _ = local.check_files(files, config, rules, jobs=args.jobs, spill=spill)
    analysed_s = time.perf_counter() - started
    parent_mb = _memory_mb()[0]
    wanted = {r for r in args.rules.split(",") if r}
    queue = [r for r in local.split_rules(rules)[1] if not wanted or r.id in wanted]
    read, write = os.pipe()
    running: set[int] = set()
    while queue or running:
        while queue and len(running) < args.parallel:
            rule = queue.pop(0)
            pid = os.fork()
            if pid == 0:  # the child: one rule, its row down the pipe
                os.close(read)
                mark = time.perf_counter()
                found = run_rules([rule], AuditContext(documents, lang=config.lang, regex_timeout=config.regex_timeout))
                row = {"rule": rule.id, "kind": rule.kind, "s": round(time.perf_counter() - mark, 1),
                       "findings": len(found), "peak_mb": round(_memory_mb()[0])}
                os.write(write, (json.dumps(row) + "\n").encode())
                os._exit(0)
            running.add(pid)
        pid, _ = os.wait()
        running.discard(pid)
    os.close(write)
    with os.fdopen(read, encoding="utf-8") as pipe:
        rows = sorted((json.loads(line) for line in pipe), key=lambda r: r["rule"])
    mb = sum(os.path.getsize(f) for f in files) / 2 ** 20
    print(f"{len(files)} pages, {mb:.0f} MB; analysed and spilled in {analysed_s:.0f} s; parent {parent_mb:.0f} MB\n")
    print("| rule | kind | peak MB | s | findings |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['rule']} | {r['kind']} | {r['peak_mb']} | {r['s']} | {r['findings']} |")
    if args.json:
        args.json.write_text(json.dumps({"pages": len(files), "mb": round(mb, 1), "parent_mb": round(parent_mb),
                                         "analysed_s": round(analysed_s, 1), "rules": rows}, indent=2),
                             encoding="utf-8")


if __name__ == "__main__":
    main()
