"""Extraction throughput against the floor of one regex pass, measured in the same run.

    python bench/bench_extract.py [--mb 20] [--json bench/results/extract.json]

Builds a corpus of at least --mb megabytes (UTF-8) from the fixtures, each copy with its figures
mutated so no two documents are identical, then times over the same documents:
  floor    one `regex` pass of a numbers-with-units pattern (finditer, matches consumed);
  extract  normalise → segment → find quantities → labels and metric ids (auditor.pipeline.analyse).
Prints characters per second for both and the ratio extract/floor.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from pathlib import Path

import regex

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.documents.load import Document  # noqa: E402
from auditor.pipeline import analyse  # noqa: E402

FLOOR = regex.compile(r"[0-9０-９.,，]+(?:[万亿千])?(?:元|人次|人|名|家|个|户|场|次|件|项|台|张|份|%|万元|亿元)")
DIGIT = regex.compile(r"[0-9]+")


def build_corpus(target_bytes: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    pages = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "fixtures").glob("*.txt"))]
    corpus, size = [], 0
    while size < target_bytes:
        page = rng.choice(pages)
        mutated = DIGIT.sub(lambda m: str(max(1, int(m.group()) + rng.randint(-3, 3))), page)
        corpus.append(mutated)
        size += len(mutated.encode("utf-8"))
    return corpus


def time_floor(corpus: list[str]) -> float:
    start = time.perf_counter()
    for text in corpus:
        for _ in FLOOR.finditer(text):
            pass
    return time.perf_counter() - start


def time_extract(corpus: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    metrics = 0
    for i, text in enumerate(corpus):
        data = text.encode("utf-8")
        doc = Document(f"bench/{i}.txt", text, "utf-8", hashlib.sha256(data).hexdigest(), "txt", len(data))
        metrics += len(analyse(doc).metrics)
    return time.perf_counter() - start, metrics


def time_stages(corpus: list[str]) -> dict[str, float]:
    """Seconds per stage over the corpus: where extraction spends its time."""
    from auditor.documents.normalise import normalise
    from auditor.documents.segment import segment
    from auditor.extract.quantities import find_quantities

    stages = {"normalise": 0.0, "segment": 0.0, "quantities": 0.0}
    for text in corpus:
        t0 = time.perf_counter()
        norm = normalise(text)
        t1 = time.perf_counter()
        segment(norm.text)
        t2 = time.perf_counter()
        find_quantities(norm.text)
        t3 = time.perf_counter()
        stages["normalise"] += t1 - t0
        stages["segment"] += t2 - t1
        stages["quantities"] += t3 - t2
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    corpus = build_corpus(int(args.mb * 1024 * 1024))
    chars = sum(map(len, corpus))
    mb = sum(len(t.encode("utf-8")) for t in corpus) / 1024 / 1024
    floor = time_floor(corpus)
    extract, metrics = time_extract(corpus)
    stages = time_stages(corpus)
    stages["labels+table"] = max(0.0, extract - sum(stages.values()))
    result = {
        "documents": len(corpus), "chars": chars, "mb": round(mb, 1), "metrics": metrics,
        "floor_s": round(floor, 3), "extract_s": round(extract, 3),
        "floor_chars_per_s": round(chars / floor), "extract_chars_per_s": round(chars / extract),
        "ratio": round(extract / floor, 2),
        "stages_s": {k: round(v, 3) for k, v in stages.items()},
    }
    print(f"corpus      {len(corpus)} documents, {mb:.1f} MB, {chars:,} characters, {metrics:,} metrics")
    print(f"regex floor {floor:8.2f} s  {chars / floor:14,.0f} chars/s")
    print(f"extraction  {extract:8.2f} s  {chars / extract:14,.0f} chars/s")
    print(f"ratio       {extract / floor:8.2f} x the single regex pass")
    print("stages      " + ", ".join(f"{k} {v:.2f} s ({chars / v / 1e6:.1f} M chars/s)" for k, v in stages.items() if v))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
