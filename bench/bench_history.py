"""History store: ingest rate, and the time to audit one page against large archives.

    python bench/bench_history.py [--sizes 10000,100000] [--batch 10000] [--dir /tmp/auditor-bench]
                                  [--json bench/results/history.json] [--keep] [--reuse] [--recall]

Four measurements:

  pipeline  `history add` as a user runs it: the five fixtures through the pipeline, into frames,
            into a fresh store (documents and metric rows per second, analysis included);
  write     the store's real ingest API (`HistoryStore.add_batch`, one transaction per batch) fed
            with synthetic pages: each a fixture mutated as frames — its organisations renamed
            into a series, its year moved, its figures scaled at random, most of its clause,
            sentence and band hashes made unique (a tenth kept per series: text a series reuses
            from year to year). Running the pipeline 10^5 times would measure the pipeline;
  audit     at each archive size, `run_audit` of fixtures/000 (2021) with the store (opened afresh
            each time, median of 3, wall and CPU seconds) beside the same audit without it, and the
            same for a copy of it with one character of every sentence changed (the near-copy
            lookup's worst case: nothing printed word for word, near copies everywhere); then
            the parts alone, on a store opened afresh: opening it, and the batched lookups the
            yoy, archive-duplicate and archive-near-copy rules make (cold);
  recall    (--recall) how often a near copy shares a band with the sentence it copies, for the
            store's MinHash parameters and others: mutated copies of the fixtures' sentences (1-3
            characters changed), by n-gram Jaccard similarity; and the pairs of different
            sentences that would be compared.

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
from auditor.history.fingerprints import DEFAULT_MINHASH  # noqa: E402
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
        if table in ("clause_keys", "sentence_keys"):
            continue  # made from the mutated clauses and sentences below: the keys and the rows agree
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
    keyed = base.clause_keys["doc_id"].to_numpy() * 1_000_000 + base.clause_keys["ordinal"].to_numpy()
    clauses = out["clauses"]
    mine = fixture[clauses["doc_id"].to_numpy()] * 1_000_000 + clauses["ordinal"].to_numpy(dtype=np.int64)
    out["clause_keys"] = clauses.loc[np.isin(mine, keyed), ["hash", "doc_id", "ordinal"]].astype("int64")
    keyed = base.sentence_keys["doc_id"].to_numpy() * 1_000_000 + base.sentence_keys["sentence"].to_numpy()
    sentences = out["sentences"]
    mine = fixture[sentences["doc_id"].to_numpy()] * 1_000_000 + sentences["ordinal"].to_numpy(dtype=np.int64)
    out["sentence_keys"] = (sentences.loc[np.isin(mine, keyed), ["hash", "doc_id", "ordinal"]]
                            .rename(columns={"ordinal": "sentence"}).astype("int64"))
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
            mixed = np.where(keep, values ^ series_salt[who], values ^ salt[who])
            # band keys are 32 bits: the low half of the salted value (a kept key stays as it was)
            part[col] = mixed if col == "hash" else (mixed & 0xFFFFFFFF).astype(np.uint32).view(np.int32)
    if table == "bands":  # a page stores each band key once
        part = part.drop_duplicates(["doc_id", "band_key"])
    return part


def edited_copy(source: Path, target: Path) -> Path:
    """The page with one character of every sentence changed (its middle Han character made 某):
    no sentence of it is printed word for word in the archive, so the near-copy rule looks up the
    band keys of every long sentence and compares the many near copies it finds on the series'
    pages: the near-copy lookup's worst case."""
    import regex

    def edit(m: "regex.Match") -> str:
        sentence = m.group(0)
        han = [i for i, ch in enumerate(sentence) if regex.match(r"\p{Han}", ch)]
        if len(han) < 10:
            return sentence
        i = han[len(han) // 2]
        return sentence[:i] + "某" + sentence[i + 1:]

    text = source.read_text(encoding="utf-8")
    # a sentence: up to its full stop, across hard line wraps but not across a blank line
    target.write_text(regex.sub(r"[^。！？\n]+(?:\n(?![ \t]*\n)[^。！？\n]+)*", edit, text), encoding="utf-8")
    return target


def time_audit(store_path: Path | None, page: Path = FIXTURES[0], repeat: int = 3) -> tuple[float, float, int]:
    """Median wall and CPU seconds of `run_audit` on `page` (the store opened afresh each time,
    as a new `auditor audit` process would), and the findings."""
    config = Config(history=str(store_path) if store_path else None)
    page = str(page)
    times = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run_audit([page], config, history=None if store_path else False)
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    (wall, cpu), = [sorted(times)[len(times) // 2]]
    return wall, cpu, len(result.findings)


def time_lookups(path: Path, page) -> dict[str, float]:
    """The store opened afresh, then the batched lookups the rules make for one page (wall and
    CPU seconds), cold: the archived figures of its organisations; the hashes of its clauses that
    could seed a copy (as the archive-duplicate rule asks), then the clauses and text of the
    pages they are on; the band keys of its longer sentences (as the archive-near rule asks),
    then the candidates' text to compare."""
    from auditor.rules.kinds.duplicate import _Weigher, fold_key
    from auditor.rules.loader import load_rule_file

    rules = {r.id: r for r in load_rule_file(ROOT / "rules" / "duplicate.yaml")}
    weigh = _Weigher(rules["D006"].params)
    near = rules["D008"].params
    exclude = Exclusion.of([page])
    keys = {(m.entity, m.metric) for m in page.metrics if m.entity and m.metric}
    text = page.norm.text
    spans = [text[c.start:c.end] for s in page.segmentation.sentences() for c in s.clauses]
    hashes = [key_hash(fold_key(t)) for t in spans if fold_key(t) and weigh.substantial(t)]
    sentences = [fold_key(text[s.start:s.end]) for s in page.segmentation.sentences()]
    cores = [c for c in sentences if len(c) >= max(DEFAULT_MINHASH.min_chars, near.ngram)]
    out: dict = {"hashes": len(hashes), "sentences": len(cores)}

    def timed(name, fn):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        out[f"{name}_s"], out[f"{name}_cpu_s"] = time.perf_counter() - w, time.process_time() - c
        return result

    store = timed("open", lambda: HistoryStore.open(path, read_only=True))
    with store:
        figures = timed("figures", lambda: store.earlier_figures(keys, (2015, 2022), exclude))
        counts, places = timed("clauses", lambda: store.clause_places(hashes, exclude))
        docs = {p.doc_id for ps in places.values() for p in ps if counts[p.hash] < 5}
        timed("follow", lambda: (store.clauses_of(docs), store.documents_info(docs)))
        printed = timed("printed", lambda: store.sentences_printed([key_hash(c) for c in cores], exclude))
        asked = [c for c in cores if key_hash(c) not in printed]  # every archived page is earlier here
        frame = timed("bands", lambda: store.sentence_candidates(store.band_queries(asked), exclude, near.max_bucket))
        timed("compare", lambda: store.documents_info(frame["doc_id"].tolist()))
    out["figures"], out["clause_hits"], out["band_candidates"] = len(figures), len(places), len(frame)
    out["band_sentences"] = len(asked)
    return out


def store_mb(path: Path) -> tuple[float, float]:
    """(file MB, MB in used blocks): DuckDB reuses freed blocks but does not shrink its file."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        block, used = con.execute("SELECT block_size, used_blocks FROM pragma_database_size()").fetchall()[0]
    finally:
        con.close()
    return round(os.path.getsize(path) / 1e6, 1), round(block * used / 1e6, 1)


def recall(configs: list[tuple[int, int]], seed: int = 3) -> dict:
    """For each (bands, rows): the share of mutated copies sharing a band with their sentence, by
    Jaccard similarity, and the pairs of distinct fixture sentences below 0.5 sharing one."""
    import itertools
    import random
    from collections import defaultdict

    from auditor.rules.kinds.duplicate import fold_key, minhash

    cores = sorted({fold_key(doc.norm.text[s.start:s.end]) for doc in map(analyse_path, FIXTURES)
                    for s in doc.segmentation.sentences()})
    cores = [c for c in cores if len(c) >= DEFAULT_MINHASH.min_chars]
    han = [c for c in "".join(cores) if "\u4e00" <= c <= "\u9fff"]
    rng = random.Random(seed)

    def grams(s: str) -> set[str]:
        return {s[i:i + 5] for i in range(len(s) - 4)}

    def jaccard(a: str, b: str) -> float:
        ga, gb = grams(a), grams(b)
        return len(ga & gb) / len(ga | gb)

    pairs = []
    for c in cores:
        for m in (1, 2, 3):
            s = list(c)
            for _ in range(m):
                i = rng.randrange(len(s))
                s[i] = str(rng.randrange(10)) if s[i].isdigit() else rng.choice(han)
            if (t := "".join(s)) != c:
                pairs.append((c, t, jaccard(c, t)))
    js = np.array([j for *_, j in pairs])
    out = {"sentences": len(cores), "copies": len(pairs), "configs": {}}
    for bands, rows in configs:
        n = bands * rows
        a = minhash([x for x, _, _ in pairs], 5, n, 1)
        b = minhash([y for _, y, _ in pairs], 5, n, 1)
        hit = (a.reshape(len(pairs), bands, rows) == b.reshape(len(pairs), bands, rows)).all(axis=2).any(axis=1)
        by = {f"{lo:.1f}-{hi:.1f}": round(float(hit[(js >= lo) & (js < hi)].mean()), 3)
              for lo, hi in ((0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.0))}
        sig = minhash(cores, 5, n, 1)
        buckets: dict = defaultdict(list)
        for i in range(len(cores)):
            for k in range(bands):
                buckets[(k, sig[i, k * rows:(k + 1) * rows].tobytes())].append(i)
        shared = {p for m in buckets.values() if 1 < len(m) <= 50 for p in itertools.combinations(m, 2)}
        out["configs"][f"{bands}x{rows}"] = {
            "keys_per_sentence": bands, "recall_at_0.7": round(float(hit[js >= 0.7].mean()), 3), "by_jaccard": by,
            "dissimilar_pairs_compared": sum(1 for i, j in shared if jaccard(cores[i], cores[j]) < 0.5)}
        print(f"  {bands:>2} bands x {rows} rows: recall at J>=0.7 {out['configs'][f'{bands}x{rows}']['recall_at_0.7']}"
              f"  {by}  dissimilar pairs compared: {out['configs'][f'{bands}x{rows}']['dissimilar_pairs_compared']}")
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
    ap.add_argument("--keep", action="store_true", help="keep the store files (default: removed at the end)")
    ap.add_argument("--recall", action="store_true", help="also measure band recall on mutated sentences")
    ap.add_argument("--reuse", action="store_true",
                    help="time the audits on the archive a --keep run left in --dir instead of building one")
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    path = args.dir / "archive.duckdb"
    reused = 0
    if args.reuse and path.exists():  # the audit timings again on an archive built before (--keep)
        with HistoryStore.open(path) as store:  # migrated to this release's schema if older
            reused = store.counts()["documents"]
        sizes = [reused]
        print(f"reusing {path}: {reused} pages (ingest figures are those of the run that built it)")
    else:
        shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True, exist_ok=True)
    results: dict = {"minhash": DEFAULT_MINHASH.as_meta(), "sizes": {}}
    if args.recall:
        print("band recall on mutated copies of the fixtures' sentences:")
        results["recall"] = recall([(16, 4), (8, 4), (10, 3), (8, 3), (6, 3), (6, 2)])

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
    edited = edited_copy(FIXTURES[0], args.dir / f"{FIXTURES[0].stem}-edited.txt")
    rng = np.random.default_rng(7)
    done, write_total, write_cpu, rows_total = reused, 0.0, 0.0, {t: 0 for t in TABLES}
    print(f"{'pages':>8} {'write s':>8} {'pages/s':>8} {'metrics/s':>10} {'MB':>8} {'audit s':>8} {'cpu s':>6} "
          f"{'no-hist s':>9} {'cpu s':>6} {'open s':>7} {'lookups s':>9} {'cpu s':>6} {'findings':>8}")
    for size in sizes:
        while done < size:
            n = min(args.batch, size - done)
            batch = synthetic(base, done, n, rng)
            t, c = time.perf_counter(), time.process_time()
            with HistoryStore.open(path) as store:
                result = store.add_batch(batch)
            write_total += time.perf_counter() - t
            write_cpu += time.process_time() - c
            for table, k in result.rows.items():
                rows_total[table] += k
            done += n
        base_audit, base_cpu, base_findings = time_audit(None)  # beside it: the machine's load drifts
        audit_s, audit_cpu, findings = time_audit(path)
        edited_s, edited_cpu, edited_findings = time_audit(path, edited)
        edited_base_s, edited_base_cpu, _ = time_audit(None, edited)
        look = time_lookups(path, page)
        parts = ("figures", "clauses", "follow", "printed", "bands", "compare")
        lookups, lookups_cpu = sum(look[f"{p}_s"] for p in parts), sum(look[f"{p}_cpu_s"] for p in parts)
        file_mb, used_mb = store_mb(path)
        row = {"pages": done, "write_s": round(write_total, 2), "write_cpu_s": round(write_cpu, 2),
               "pages_per_s": round(done / write_total) if write_total else None,
               "metric_rows_per_s": round(rows_total["metrics"] / write_total) if write_total else None,
               "rows": dict(rows_total), "store_mb": file_mb, "store_used_mb": used_mb,
               "audit_s": round(audit_s, 3), "audit_cpu_s": round(audit_cpu, 3),
               "audit_without_history_s": round(base_audit, 3), "audit_without_history_cpu_s": round(base_cpu, 3),
               "history_cost_s": round(audit_s - base_audit, 3), "history_cost_cpu_s": round(audit_cpu - base_cpu, 3),
               "open_s": round(look["open_s"], 3), "open_cpu_s": round(look["open_cpu_s"], 3),
               "lookups_s": round(lookups, 3), "lookups_cpu_s": round(lookups_cpu, 3),
               "lookups": {k: round(v, 4) if isinstance(v, float) else v for k, v in look.items()},
               "findings": findings, "findings_without_history": base_findings,
               "edited_page": {"audit_s": round(edited_s, 3), "audit_cpu_s": round(edited_cpu, 3),
                               "audit_without_history_s": round(edited_base_s, 3),
                               "audit_without_history_cpu_s": round(edited_base_cpu, 3),
                               "history_cost_s": round(edited_s - edited_base_s, 3), "findings": edited_findings},
               "peak_rss_gb": round(_peak_rss_gb(), 1)}
        results["sizes"][str(done)] = row
        print(f"{done:>8} {write_total:>8.1f} {str(row['pages_per_s']):>8} {str(row['metric_rows_per_s']):>10} "
              f"{file_mb:>8} {audit_s:>8.2f} {audit_cpu:>6.2f} {base_audit:>9.2f} {base_cpu:>6.2f} "
              f"{look['open_s']:>7.3f} {lookups:>9.3f} {lookups_cpu:>6.3f} {findings:>8}")
        print(f"         every sentence edited: audit {edited_s:.2f} s (cpu {edited_cpu:.2f}), without history "
              f"{edited_base_s:.2f} s (cpu {edited_base_cpu:.2f}), {edited_findings} findings")
        print("         lookups: " + ", ".join(f"{p} {look[f'{p}_s']:.3f} s (cpu {look[f'{p}_cpu_s']:.3f})"
                                              for p in ("open", *parts)))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"→ {args.json}")
    if not (args.keep or args.reuse):
        shutil.rmtree(args.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
