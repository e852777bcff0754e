"""History store: ingest rate, and the time to audit one page against large archives.

    python bench/bench_history.py [--sizes 10000,100000] [--batch 10000] [--dir /tmp/auditor-bench]
                                  [--json bench/results/history.json]

Three measurements:

  pipeline  `history add` as a user runs it: the five fixtures through the pipeline, into frames,
            into a fresh store (documents and metric rows per second, analysis included);
  write     the store's real ingest API (`HistoryStore.add_batch`, one transaction per batch) fed
            with synthetic pages: each a fixture mutated as frames — its organisations renamed
            into a series, its year moved, its figures scaled at random, most of its clause,
            sentence and band hashes made unique (a tenth kept per series: text a series reuses
            from year to year). Running the pipeline 10^5 times would measure the pipeline;
  audit     at each archive size, `run_audit` of fixtures/000 (2021) with the store (opened afresh
            each time, median of 3) beside the same audit without it, and the history lookups
            alone, cold (the batched index lookups the yoy and archive-duplicate rules make).

Series 0 keeps the real organisation names and hashes, so the audited page has seventeen years of
history (the robust band) and real copies to find.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from auditor.audit import run_audit  # noqa: E402
from auditor.config import Config  # noqa: E402
from auditor.history.fingerprints import key_hash  # noqa: E402
from auditor.history.store import (Exclusion, HistoryStore, IngestBatch, TABLES,  # noqa: E402
                                   batch_from_documents, series_key)
from auditor.pipeline import analyse_path  # noqa: E402

FIXTURES = sorted((ROOT / "fixtures").glob("*.txt"))
YEARS = 17  # synthetic years per series: 2005–2021
KEEP = 0.1  # share of a page's hashes a series reuses from year to year


def base_frames() -> tuple[IngestBatch, float]:
    started = time.perf_counter()
    docs = [analyse_path(p) for p in FIXTURES]
    return batch_from_documents(docs), time.perf_counter() - started


def synthetic(base: IngestBatch, first: int, count: int, rng: np.random.Generator) -> IngestBatch:
    """Pages first..first+count-1: page i mutates fixture i % 5, in year 2005 + (i // 5) % 17, of
    series i // 85 (series 0 keeps the real names)."""
    ids = np.arange(first, first + count, dtype=np.int64)
    fixture = ids % len(FIXTURES)
    year = 2005 + (ids // len(FIXTURES)) % YEARS
    series = ids // (len(FIXTURES) * YEARS)
    salt = rng.integers(-2**62, 2**62, size=count, dtype=np.int64)  # per page: unique hashes
    series_salt = np.array([int(k) * 0x9E3779B97F4A7C15 % 2**62 for k in series], dtype=np.int64)  # 0 for series 0
    out = {}
    for table, frame in base.frames().items():
        parts = []
        for f in range(len(FIXTURES)):
            local = np.flatnonzero(fixture == f)  # positions (0..count-1) of the pages made from fixture f
            rows = frame[frame["doc_id"] == f].reset_index(drop=True)
            if not len(local) or not len(rows):
                continue
            part = rows.iloc[np.tile(np.arange(len(rows)), len(local))].reset_index(drop=True)
            who = np.repeat(local, len(rows))
            part["doc_id"] = who
            parts.append(_mutate(table, part, who, ids, year, series, salt, series_salt, rng))
        out[table] = pd.concat(parts, ignore_index=True) if parts else frame.iloc[0:0]
    return IngestBatch(**out, minhash=base.minhash)


def _mutate(table, part, who, ids, year, series, salt, series_salt, rng) -> pd.DataFrame:
    if table == "documents":
        name = [f"synthetic/{i:06d}.txt" for i in ids[who]]
        part["path"] = name
        part["abspath"] = ["/" + n for n in name]
        part["sha256"] = [f"{i:064x}" for i in ids[who]]
        part["publication_year"] = year[who] + 1
        part["publication_date"] = pd.NaT
    if table in ("articles", "metrics") and "entity" in part:
        s = series[who]
        part["entity"] = [e if k == 0 or pd.isna(e) else f"{e}·{k}" for e, k in zip(part["entity"], s)]
        part["year"] = pd.array(np.where(part["year"].isna(), pd.NA, year[who]), dtype="Int64")
    if table == "metrics":
        part["document"] = [f"synthetic/{i:06d}.txt" for i in ids[who]]
        part["value"] = part["value"] * np.exp(rng.normal(0, 0.25, len(part)))
        pairs = {p: series_key(*p) for p in set(zip(part["entity"], part["metric"]))}
        part["series"] = pd.array([pairs[p] for p in zip(part["entity"], part["metric"])], dtype="Int64")
    for col in ("hash", "band_key"):
        if col in part:
            keep = rng.random(len(part)) < KEEP
            values = part[col].to_numpy(dtype=np.int64)
            part[col] = np.where(keep, values ^ series_salt[who], values ^ salt[who])
    return part


def time_audit(store_path: Path | None, repeat: int = 3) -> tuple[float, int]:
    """Median seconds of `run_audit` on fixtures/000 (the store opened afresh each time, as a new
    `auditor audit` process would), and the findings."""
    config = Config(history=str(store_path) if store_path else None)
    page = str(FIXTURES[0])
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = run_audit([page], config, history=None if store_path else False)
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2], len(result.findings)


def time_lookups(store: HistoryStore, page) -> dict[str, float]:
    """The batched lookups the rules make for one page (wall and CPU seconds), on a cold memo:
    the archived figures of its organisations, the hashes of its clauses that could seed a copy
    (as the archive-duplicate rule asks), then the clauses and text of the pages they are on."""
    from auditor.rules.kinds.duplicate import _Weigher, fold_key
    from auditor.rules.loader import load_rule_file

    rule = next(r for r in load_rule_file(ROOT / "rules" / "duplicate.yaml") if r.id == "D006")
    weigh = _Weigher(rule.params)
    exclude = Exclusion.of([page])
    keys = {(m.entity, m.metric) for m in page.metrics if m.entity and m.metric}
    text = page.norm.text
    spans = [text[c.start:c.end] for s in page.segmentation.sentences() for c in s.clauses]
    hashes = [key_hash(fold_key(t)) for t in spans if fold_key(t) and weigh.substantial(t)]
    out: dict = {"hashes": len(hashes)}
    store._cache.clear()

    def timed(name, fn):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        out[f"{name}_s"], out[f"{name}_cpu_s"] = time.perf_counter() - w, time.process_time() - c
        return result

    figures = timed("figures", lambda: store.earlier_figures(keys, (2015, 2022), exclude))
    counts, places = timed("clauses", lambda: store.clause_places(hashes, exclude))
    docs = {p.doc_id for ps in places.values() for p in ps if counts[p.hash] < 5}
    timed("follow", lambda: (store.clauses_of(docs), store.documents_info(docs)))
    out["figures"], out["clause_hits"] = len(figures), len(places)
    return out


def _peak_rss_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kilobytes on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000", help="archive sizes (pages) to audit against")
    ap.add_argument("--batch", type=int, default=10_000, help="pages per add_batch transaction")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/auditor-bench"))
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "history.json")
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    results: dict = {"sizes": {}}

    # pipeline: files → analysis → frames → store
    base, analyse_s = base_frames()
    t = time.perf_counter()
    with HistoryStore.open(args.dir / "pipeline.duckdb") as store:
        store.add_batch(base)
    write_s = time.perf_counter() - t
    pages, metric_rows = len(base.documents), len(base.metrics)
    results["pipeline"] = {"pages": pages, "metric_rows": metric_rows, "analyse_s": round(analyse_s, 3),
                           "write_s": round(write_s, 3),
                           "pages_per_s": round(pages / (analyse_s + write_s), 1),
                           "metric_rows_per_s": round(metric_rows / (analyse_s + write_s))}
    print(f"pipeline: {pages} pages, {metric_rows} metric rows in {analyse_s + write_s:.2f} s "
          f"(analysis {analyse_s:.2f} s): {results['pipeline']['pages_per_s']} pages/s, "
          f"{results['pipeline']['metric_rows_per_s']} metric rows/s")

    # write: synthetic pages through add_batch, auditing at each size
    page = analyse_path(FIXTURES[0])
    path = args.dir / "archive.duckdb"
    rng = np.random.default_rng(7)
    done, write_total, rows_total = 0, 0.0, {t: 0 for t in TABLES}
    base_audit, base_findings = time_audit(None)
    print(f"audit of {FIXTURES[0].name} without history: {base_audit:.2f} s, {base_findings} findings")
    print(f"{'pages':>8} {'write s':>8} {'pages/s':>8} {'metrics/s':>10} {'MB':>7} {'audit s':>8} "
          f"{'no-hist s':>9} {'lookups s':>9} {'findings':>8}")
    for size in sizes:
        while done < size:
            n = min(args.batch, size - done)
            batch = synthetic(base, done, n, rng)
            t = time.perf_counter()
            with HistoryStore.open(path) as store:
                result = store.add_batch(batch)
            write_total += time.perf_counter() - t
            for table, k in result.rows.items():
                rows_total[table] += k
            done += n
        base_audit, base_findings = time_audit(None)  # again, beside it: the machine's load drifts
        audit_s, findings = time_audit(path)
        with HistoryStore.open(path, read_only=True) as store:
            look = time_lookups(store, page)
        lookups = look["figures_s"] + look["clauses_s"] + look["follow_s"]
        row = {"pages": done, "write_s": round(write_total, 2), "pages_per_s": round(done / write_total),
               "metric_rows_per_s": round(rows_total["metrics"] / write_total),
               "rows": dict(rows_total), "store_mb": round(os.path.getsize(path) / 1e6, 1),
               "audit_s": round(audit_s, 3), "audit_without_history_s": round(base_audit, 3),
               "history_cost_s": round(audit_s - base_audit, 3), "lookups_s": round(lookups, 3),
               "lookups": {k: round(v, 4) if isinstance(v, float) else v for k, v in look.items()},
               "findings": findings, "peak_rss_gb": round(_peak_rss_gb(), 1)}
        results["sizes"][str(done)] = row
        print(f"{done:>8} {write_total:>8.1f} {row['pages_per_s']:>8} {row['metric_rows_per_s']:>10} "
              f"{row['store_mb']:>7} {audit_s:>8.2f} {base_audit:>9.2f} {lookups:>9.3f} {findings:>8}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"→ {args.json}")


if __name__ == "__main__":
    main()
