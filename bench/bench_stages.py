"""Where the per-document stage spends its time: each step of the pipeline and each rule, in one process.

    python bench/bench_stages.py [PAGES] [--chunk 35] [--rounds 3] [--json FILE]

PAGES is a folder of pages (default: bench/corpus/5mb/pages once bench_scale.py has built it, else
fixtures/). Every page goes through load → normalise → segment → extract as ``auditor audit`` runs
them in a worker; then, chunk by chunk of --chunk pages as a worker's task, each per-document rule
alone, the duplicate rules' preparation (``engines.local.prepare_documents``) and packing. Times are
process CPU seconds, the fastest of --rounds rounds (the host's bursts inflate single runs by a
third); pandas and pandera are imported before timing (a fixed cost per process, reported apart).
Prints a Markdown table, largest first; `--json FILE` writes the figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def one_round(files: list[str], chunk: int) -> dict[str, float]:
    from auditor.audit import load_selected_rules
    from auditor.config import Config
    from auditor.documents.load import load_document
    from auditor.documents.normalise import normalise
    from auditor.documents.segment import segment
    from auditor.engines import local
    from auditor.extract.extractor import extract_metrics
    from auditor.pipeline import AnalysedDocument
    from auditor.rules.context import AuditContext
    from auditor.rules.engine import run_rules

    config = Config(jobs=1)
    _, rules = load_selected_rules(config)
    per_document, corpus_wide = local.split_rules(rules)
    spent: dict[str, float] = defaultdict(float)

    def timed(name: str, work):
        start = time.process_time()
        out = work()
        spent[name] += time.process_time() - start
        return out

    documents = []
    with local.gc_paused():  # as the workers run it
        for path in files:
            document = timed("load", lambda: load_document(path))
            norm = timed("normalise", lambda: normalise(document.text))
            segmentation = timed("segment", lambda: segment(norm.text))
            metrics = timed("extract", lambda: extract_metrics(document.path, norm, segmentation))
            documents.append(AnalysedDocument(document, norm, segmentation, tuple(metrics)))
        for at in range(0, len(documents), chunk):
            part = documents[at:at + chunk]
            ctx = AuditContext(part, lang=config.lang, regex_timeout=config.regex_timeout)
            for rule in per_document:
                timed(f"rule {rule.id} ({rule.kind})", lambda: run_rules([rule], ctx))
            timed("duplicate preparation", lambda: local.prepare_documents(part, corpus_wide, config.regex_timeout))
            timed("packing", lambda: [d.packed() for d in part])
    return dict(spent)


def main() -> None:
    default = ROOT / "bench" / "corpus" / "5mb" / "pages"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="?", default=str(default if default.is_dir() else ROOT / "fixtures"))
    parser.add_argument("--chunk", type=int, default=35, help="pages per worker task")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from auditor.documents.load import iter_document_paths

    start = time.process_time()
    import pandera.pandas  # noqa: F401  (the table checks' import, once per worker)
    imports_s = time.process_time() - start
    files = list(iter_document_paths([args.pages]))
    megabytes = sum(Path(f).stat().st_size for f in files) / 2**20
    rounds = []
    for _ in range(args.rounds):
        rounds.append(one_round(files, args.chunk))
        gc.collect()
    best = {name: min(r[name] for r in rounds) for name in rounds[0]}
    total = sum(best.values())
    print(f"{len(files)} pages, {megabytes:.1f} MB, {args.rounds} rounds (fastest kept); "
          f"pandas + pandera import {imports_s:.2f} s apart\n")
    print("| step | CPU s | share | MB/s |")
    print("|---|---|---|---|")
    for name, seconds in sorted(best.items(), key=lambda kv: -kv[1]):
        rate = f"{megabytes / seconds:.1f}" if seconds else ""
        print(f"| {name} | {seconds:.3f} | {100 * seconds / total:.1f}% | {rate} |")
    print(f"| **per-document stage** | **{total:.2f}** | 100% | **{megabytes / total:.2f}** |")
    if args.json:
        args.json.write_text(json.dumps({"pages": len(files), "mb": megabytes, "import_s": imports_s,
                                         "rounds": rounds, "best": best}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
