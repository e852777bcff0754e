"""Scale: end-to-end audit throughput against the regex scan floor, at 1 and N processes, with Spark.

    python bench/bench_scale.py [--sizes 20,200] [--jobs N] [--no-spark] [--json bench/results/scale.json]

For each size (MB) it builds a corpus under bench/corpus/ (reused when already built) by mutating
the fixtures: every page gets its own one-to-one table for the Han characters that are not figures,
units, dates or the names of organisations and metrics (figures, labels, articles and years still
parse), its numbers nudged. No two pages share text: pages made from one fixture map every such
character differently, and a clause with (almost) none of them left to map carries figures offset
by the page's copy number. Then whole sentences of one page are copied into another (one copy per
page pair, recorded in the corpus manifest): the ground truth of the duplicate measurement, whose
"false pairs" are reported pairs of pages the builder did not copy between. It then measures,
every run in a fresh process:

  floor        read every file and run one `regex` pass for figures (one process; the fastest
               of five passes);
  one          what `auditor audit --jobs 1` runs (auditor.engines.local.audit_documents in one
               process): analysis, the per-document rules and the per-document part of the
               corpus-wide rules chunk by chunk, then the corpus-wide rules; and the JSON report;
  workers N    what `auditor audit --jobs N` runs: the same, the chunks in N worker processes
               and the corpus-wide rules shared out between N forked processes;
  pool N       what `--jobs N` ran before: analysis alone in N workers, every rule in the parent;
  split N      the Spark engine's plan in plain Python (auditor.engines.local.audit_split):
               compact per-document outputs, only linked pages analysed again;
  spark N      `--engine spark` in local mode on N cores (when pyspark is installed).

and reports MB/s, documents/s, the stage split, peak memory (parent and largest worker), the ratio
to the floor per core, and duplicate-detection recall and false pairs on the injected copies. Writes
the JSON result (default bench/results/scale-<time>.json) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import regex

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLOOR = regex.compile(r"[0-9０-９.,，]+(?:[万亿千])?(?:元|人次|人|名|家|个|户|场|次|件|项|台|张|份|%|万元|亿元)")
DIGIT = regex.compile(r"[0-9]+")
YEAR = regex.compile(r"(?:19|20)[0-9]{2}")
CLAUSE = regex.compile(r"[^，,。；;：:！!？?、\n]+")  # what lies between punctuation marks
MB = 1024 * 1024
CORPUS_VERSION = 7


# ---------------------------------------------------------------- the corpus

def _han(text: str) -> set[str]:
    return set(regex.findall(r"\p{Han}", text))


def kept_characters() -> set[str]:
    """Characters a mutation never touches: numerals, units, dates, names of organisations and the
    metrics' names and synonyms (so pages still parse into articles, entities and metrics)."""
    import yaml

    keep = set("零一二两三四五六七八九十百千万亿年月日余多近约共计其中每人均占元个名家项场户期件次")
    keep |= _han((ROOT / "rules" / "entities.yaml").read_text(encoding="utf-8"))
    for m in yaml.safe_load((ROOT / "rules" / "metrics.yaml").read_text(encoding="utf-8"))["metrics"]:
        keep |= _han(" ".join(m.get("synonyms", [])) + m["name"])
    return keep


def build_corpus(folder: Path, megabytes: float, seed: int = 7) -> dict:
    """The corpus and its manifest (documents, injected copies); reused when already built."""
    manifest_path = folder / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("version") == CORPUS_VERSION and manifest.get("mb") == megabytes and manifest.get("seed") == seed:
            return manifest
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    (folder / "pages").mkdir(parents=True)
    rng = random.Random(seed)
    pages = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "fixtures").glob("*.txt"))]
    keep = kept_characters()
    pool = sorted(set().union(*(_han(p) for p in pages)) - keep)
    # Copy k of a fixture maps the character at place i of the fixture's random order to the one
    # at place i + k + 1: two pages made from one fixture differ in every mutated character (with
    # a random table each, pages agreed on a character now and then, and a clause with one or two
    # mutated characters was then printed on both: a copy nobody injected). Distinct while a
    # fixture has fewer pages than the pool has characters (1399: a corpus of some 250 MB); past
    # that, each further round of as many pages takes a new random order of its own (two rounds
    # agree on a character by chance, 1 in 1399: a clause of 3 or more mutated characters on two
    # pages alike about once in 10^9; the rest have their figures offset by the copy number).
    orders = [rng.sample(pool, len(pool)) for _ in pages]
    round_orders: dict[tuple[int, int], list[str]] = {}
    texts, size = [], 0
    while size < megabytes * MB:
        fixture = len(texts) % len(pages)
        copy = len(texts) // len(pages)  # the how-manieth page made from this fixture
        turn, shift = divmod(copy, len(pool))
        page, order = pages[fixture], orders[fixture]
        if turn:  # its own generator: the corpora below one round stay as they were built before
            order = round_orders.setdefault((turn, fixture), random.Random(
                (seed * 1_000_003 + turn) * 1_009 + fixture).sample(pool, len(pool)))
        table = str.maketrans(dict(zip(order, order[shift + 1:] + order[:shift + 1])))

        def nudge(m: regex.Match) -> str:
            if len(m.group()) == 4 and YEAR.fullmatch(m.group()):
                return m.group()  # years stay: articles keep their year
            return str(max(1, int(m.group()) + rng.randint(-3, 3)))

        def spread(m: regex.Match) -> str:
            """A figure in a clause of (almost) only kept characters ("慰问劳模28人"): the mutation
            leaves that clause the same on every page made from the fixture, or changes only one or
            two characters of it, so the figures must tell the pages apart. Nudged by ±3 they often
            agreed, and two pages then really did print the same (or a near-identical) clause:
            copies nobody injected, reported as false pairs. Offset by the copy number they never
            agree. Years and figures before 年/月/日 are nudged as before."""
            if (len(m.group()) == 4 and YEAR.fullmatch(m.group())) \
                    or m.string[m.end():m.end() + 1] in ("年", "月", "日", "号"):
                return nudge(m)
            return str(int(m.group()) + 10 * copy + rng.randint(0, 9))

        def clause(m: regex.Match) -> str:
            mutated = sum(ch not in keep for ch in regex.findall(r"\p{Han}", m.group()))
            return DIGIT.sub(spread if mutated < 3 else nudge, m.group())

        text = CLAUSE.sub(clause, page).translate(table)
        texts.append(text)
        size += len(text.encode("utf-8"))
    copies = _inject(texts, rng, keep)
    names = [f"pages/{i:06d}.txt" for i in range(len(texts))]
    for name, text in zip(names, texts):
        (folder / name).write_text(text, encoding="utf-8")
    manifest = {"version": CORPUS_VERSION, "mb": megabytes, "seed": seed, "documents": len(texts),
                "bytes": sum(len(t.encode("utf-8")) for t in texts),
                "copies": [{"source": names[s], "target": names[t], "sentence": sentence, "seedable": seedable}
                           for s, t, sentence, seedable in copies]}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def _inject(texts: list[str], rng: random.Random, keep: set[str]) -> list[tuple[int, int, str, bool]]:
    """Copy a whole sentence of one page into another, for one page in five: each page is a source
    or a target at most once, so every copied sentence is on exactly two pages. Sentences are the
    pipeline's own (a line-wrapped sentence is taken whole, without its line breaks), long enough
    for the duplicate rules, free of placeholders, and the source page's own (at least two mutated
    characters: a sentence of kept characters only is on every page made from the same fixture,
    and a copy of it is house style, not a copy); they go in after a full stop of the target."""
    from auditor.audit import load_selected_rules
    from auditor.config import Config
    from auditor.documents.load import Document
    from auditor.pipeline import analyse
    from auditor.rules.kinds.duplicate import _Weigher

    _, rules = load_selected_rules(Config())
    exact = [r for r in rules if r.kind == "duplicate" and r.params.mode == "exact" and r.params.across_documents]
    weighers = [_Weigher(r.params) for r in exact]
    order = list(range(len(texts)))
    rng.shuffle(order)
    n = max(20, len(texts) // 5)
    copies = []
    for s, t in zip(order[:n], order[n:2 * n]):
        doc = analyse(Document("source.txt", texts[s], "utf-8", "", "txt", 0))
        candidates = []
        for sentence in doc.segmentation.sentences():
            start, end = doc.norm.to_original(sentence.start, sentence.end)
            text = texts[s][start:end].replace("\n", "")
            if (20 <= len(text) <= 120 and text.endswith("。") and not regex.search(r"[Xx×□]|某某", text)
                    and sum(ch not in keep for ch in regex.findall(r"\p{Han}", text)) >= 2
                    and all(w.substantial(sentence.text) for w in weighers)):
                candidates.append((text, _seedable(sentence, exact)))
        if not candidates:
            continue
        sentence, seedable = rng.choice(candidates)
        stops = [m.end() for m in regex.finditer("。", texts[t])]
        at = rng.choice(stops[len(stops) // 4: max(len(stops) // 4 + 1, 3 * len(stops) // 4)])
        texts[t] = texts[t][:at] + sentence + texts[t][at:]
        copies.append((s, t, sentence, seedable))
    return copies


def _seedable(sentence, rules) -> bool:
    """Whether a cross-page duplicate rule reports a copy of the whole sentence: one that reports
    its class, with (D001) or without (D005) figures, and finds it substantial (min_chars without
    figures, more than boilerplate) — by one of its clauses, or as a run of clauses (the rules
    follow a run of clauses too short to count alone)."""
    from auditor.rules.kinds.duplicate import _Weigher

    for rule in rules:
        weigh = _Weigher(rule.params)
        figures = weigh.has_figures(sentence.text)
        if (rule.params.figures == "with" and not figures) or (rule.params.figures == "without" and figures):
            continue
        if weigh.substantial(sentence.text):
            return True
    return False


# ---------------------------------------------------------------- measurements (each in a child)

_FLOOR_PASSES = 5


def floor(files: list[Path]) -> dict:
    """The floor's time: the fastest of five passes, what the machine can do undisturbed. One pass
    takes a fraction of a second, and one sample moved by a third between runs on a shared host
    (62-101 MB/s at 20 MB; even a median of five, 69-94), while the audit's runs last long enough
    to average such bursts out. The fastest pass makes the ratio to the floor, if anything, larger."""
    passes = []
    for _ in range(_FLOOR_PASSES):
        start = time.perf_counter()
        n = 0
        for f in files:
            text = f.read_bytes().decode("utf-8")
            for _ in FLOOR.finditer(text):
                n += 1
        passes.append(time.perf_counter() - start)
    return {"wall_s": min(passes), "passes_s": [round(t, 4) for t in passes], "matches": n}


def child(mode: str, corpus: Path, jobs: int, findings_out: Path | None, spark_memory: str,
          spill_above: int | None = None) -> dict:
    from auditor.audit import analyse_paths, load_selected_rules
    from auditor.config import Config
    from auditor.documents.load import iter_document_paths
    from auditor.engines import local
    from auditor.report.json_report import finding_dict

    config = Config(jobs=jobs) if spill_above is None else Config(jobs=jobs, spill_above=spill_above)
    started = time.perf_counter()
    rule_set, rules = load_selected_rules(config)
    files = list(iter_document_paths([str(corpus / "pages")]))
    stages: dict[str, float] = {}
    stats: dict = {}
    if mode == "floor":
        out = floor([Path(f) for f in files])
        return {**out, "cpu_s": _cpu(), "peak_mb": _peak(), "worker_peak_mb": 0.0}
    if mode == "pool":
        from auditor.rules.context import AuditContext
        from auditor.rules.engine import run_rules

        mark = time.perf_counter()
        documents = analyse_paths([str(corpus / "pages")], config, jobs=jobs)
        stages["analyse_s"] = time.perf_counter() - mark
        ctx = AuditContext(documents, lang=config.lang, regex_timeout=config.regex_timeout)
        per_document, corpus_wide = local.split_rules(rules)
        mark = time.perf_counter()
        found = run_rules(per_document, ctx)
        stages["per_document_rules_s"] = time.perf_counter() - mark
        mark = time.perf_counter()
        found = local.merge_findings(found, run_rules(corpus_wide, ctx))
        stages["corpus_rules_s"] = time.perf_counter() - mark
    elif mode in ("one", "workers"):
        documents, found = local.audit_documents(files, config, rules, jobs=1 if mode == "one" else jobs,
                                                 timings=stages)
    elif mode == "split":
        documents, found, stats = local.audit_split(files, config, rules, jobs=jobs, timings=stages)
    elif mode == "spark":
        from auditor.engines.spark import run_spark_audit, spark_session

        mark = time.perf_counter()
        session = spark_session(f"local[{jobs}]", driver_memory=spark_memory)
        stages["session_s"] = time.perf_counter() - mark
        result = run_spark_audit([str(corpus / "pages")], config, spark=session, history=False, stats=stats)
        documents, found = result.documents, result.findings
        stages.update({k: v for k, v in stats.items() if k.endswith("_s")})
        session.stop()
    else:
        raise SystemExit(f"unknown mode {mode}")
    mark = time.perf_counter()
    from auditor.audit import AuditResult
    # the report in as many processes as the audit (auditor/report/parallel.py), as the CLI writes it
    report_jobs = 1 if mode in ("one", "spark") else jobs
    report_chars = _write_json_report(AuditResult(tuple(documents), found, rule_set, tuple(rules), 0.0,
                                                  config.lang, report_jobs))
    stages["report_s"] = time.perf_counter() - mark
    wall = time.perf_counter() - started
    if findings_out is not None:
        keep = [finding_dict(f) for f in found if f.category == "duplicate"]
        findings_out.write_text(json.dumps(keep, ensure_ascii=False, default=str), encoding="utf-8")
    return {"wall_s": wall, "cpu_s": _cpu(), "stages": stages, "findings": len(found), "report_chars": report_chars,
            "linked": stats.get("linked"), "peak_mb": _peak(), "worker_peak_mb": _peak(children=True)}


def _write_json_report(result) -> int:
    """The JSON report written to a file as `auditor audit --format json -o FILE` writes it (piece
    by piece, never one string); its length in characters."""
    import tempfile

    from auditor.report.json_report import iter_json
    from auditor.report.write import write_output

    chars = 0

    def counted(pieces):
        nonlocal chars
        for piece in pieces:
            chars += len(piece)
            yield piece

    with tempfile.TemporaryDirectory() as folder:
        write_output(Path(folder) / "report.json", counted(iter_json(result)))
    return chars


def _cpu() -> float:
    """User + system CPU seconds of this process and its (finished) workers: unlike wall time, it
    does not depend on what else the machine runs."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return round(own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime, 1)


def _peak(children: bool = False) -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
    return round(usage.ru_maxrss / 1024, 1)  # kB on Linux


def run_child(mode: str, corpus: Path, jobs: int, findings_out: Path | None = None, spark_memory: str = "4g",
              spill_above: int | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--corpus", str(corpus), "--jobs", str(jobs),
           "--spark-memory", spark_memory]
    if spill_above is not None:
        cmd += ["--spill-above", str(spill_above)]
    if findings_out is not None:
        cmd += ["--findings-out", str(findings_out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- duplicate detection quality

def duplicate_quality(manifest: dict, findings: list[dict], corpus: Path) -> dict:
    """Recall on the injected sentence copies, and the share of reported cross-document pairs that
    are not injected copies (false pairs)."""
    from auditor.rules.kinds.duplicate import fold_key

    def name(path: str) -> str:
        return Path(path).as_posix().split("/pages/", 1)[-1]

    cross = [f for f in findings if any(name(r["document"]) != name(f["document"]) for r in f.get("related", []))]
    reported = {frozenset((name(f["document"]), name(r["document"]))) for f in cross for r in f.get("related", [])
                if name(r["document"]) != name(f["document"])}
    injected = {frozenset((c["source"].split("/", 1)[1], c["target"].split("/", 1)[1])):
                (fold_key(c["sentence"]), c.get("seedable", True)) for c in manifest["copies"]}
    found = found_seedable = 0
    for pair, (sentence, seedable) in injected.items():
        for f in cross:
            docs = {name(f["document"])} | {name(r["document"]) for r in f.get("related", [])}
            text = fold_key(f["text"])
            if pair <= docs and text and (text in sentence or sentence in text):
                found += 1
                found_seedable += seedable
                break
    seedable = sum(1 for _, s in injected.values() if s)
    false_pairs = reported - set(injected)
    exact = {frozenset((name(f["document"]), name(r["document"]))) for f in cross for r in f.get("related", [])
             if name(r["document"]) != name(f["document"]) and "similarity" not in f.get("evidence", {})}
    return {"false_pairs_exact": len(exact - set(injected)), "reported_pairs_exact": len(exact),"injected": len(injected), "detected": found, "recall": round(found / max(1, len(injected)), 4),
            "seedable": seedable, "detected_seedable": found_seedable,
            "recall_seedable": round(found_seedable / max(1, seedable), 4),
            "reported_pairs": len(reported), "false_pairs": len(false_pairs),
            "false_pair_share": round(len(false_pairs) / max(1, len(reported)), 4),
            "precision": round(len(reported & set(injected)) / max(1, len(reported)), 4)}


# ---------------------------------------------------------------- the report

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,200", help="corpus sizes in MB, comma-separated")
    parser.add_argument("--jobs", type=int, default=0, help="N processes (default: the number of cores)")
    parser.add_argument("--modes", default="one,pool,workers,split,spark", help="what to run (see above)")
    parser.add_argument("--no-spark", action="store_true", help="skip Spark even when pyspark is installed")
    parser.add_argument("--corpus-root", type=Path, default=ROOT / "bench" / "corpus")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--spark-memory", default="4g", help="Spark driver memory")
    parser.add_argument("--spill-above", type=int, default=None,
                        help="bytes of input above which the local engine spills to disk (default: auditor's, 32 MB)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--findings-out", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--build-mb", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "build":
        build_corpus(args.corpus, args.build_mb)
        return
    if args.child:
        print(json.dumps(child(args.child, args.corpus, args.jobs, args.findings_out, args.spark_memory,
                               args.spill_above)))
        return

    from auditor.engines import spark_available
    from auditor.engines.local import default_jobs

    jobs = args.jobs or default_jobs()
    modes = [m for m in args.modes.split(",") if m]
    if args.no_spark or not spark_available():
        modes = [m for m in modes if m != "spark"]
    results = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "cpus": os.cpu_count(), "jobs": jobs,
               "python": sys.version.split()[0], "loadavg_start": os.getloadavg(), "spill_above": args.spill_above,
               "sizes": []}
    for size in [float(s) for s in args.sizes.split(",") if s]:
        corpus = args.corpus_root / f"{size:g}mb"
        mark = time.perf_counter()
        # Built in a child: a process's peak RSS counts the memory of the process it was forked
        # from (Linux keeps the high-water mark across fork and exec), and building a 1 GB corpus
        # here made every measured run look 1 GB large.
        subprocess.run([sys.executable, __file__, "--child", "build", "--corpus", str(corpus), "--build-mb", str(size)],
                       check=True, cwd=ROOT)
        manifest = build_corpus(corpus, size)  # read back
        mb = manifest["bytes"] / MB
        entry = {"mb": round(mb, 1), "documents": manifest["documents"], "copies": len(manifest["copies"]),
                 "build_s": round(time.perf_counter() - mark, 1), "runs": {}}
        print(f"corpus {mb:.1f} MB, {manifest['documents']} documents, {len(manifest['copies'])} injected copies",
              file=sys.stderr)
        entry["runs"]["floor"] = run_child("floor", corpus, 1)
        for mode in modes:
            n = 1 if mode == "one" else jobs
            out = corpus / f"findings-{mode}.json" if mode in ("one", "spark") else None
            print(f"  {mode} ({n} process{'es' if n > 1 else ''}) …", file=sys.stderr)
            run = run_child(mode, corpus, n, out, args.spark_memory, args.spill_above)
            run["processes"] = n
            if out is not None:
                run["duplicates"] = duplicate_quality(manifest, json.loads(out.read_text(encoding="utf-8")), corpus)
            entry["runs"][mode] = run
        _derive(entry)
        results["sizes"].append(entry)
    results["loadavg_end"] = os.getloadavg()
    path = args.json or ROOT / "bench" / "results" / f"scale-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print(markdown(results))
    print(f"\n(JSON: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path})")


def _derive(entry: dict) -> None:
    mb, docs = entry["mb"], entry["documents"]
    floor_mbps = mb / entry["runs"]["floor"]["wall_s"]
    entry["floor_mb_s"] = round(floor_mbps, 2)
    for name, run in entry["runs"].items():
        run["mb_s"] = round(mb / run["wall_s"], 3)
        run["docs_s"] = round(docs / run["wall_s"], 1)
        if name != "floor":
            per_core = run["mb_s"] / run["processes"]
            run["x_floor_per_core"] = round(floor_mbps / per_core, 1)
    one = entry["runs"].get("one")
    for name, run in entry["runs"].items():
        if one and name not in ("floor", "one"):
            run["speedup_vs_one"] = round(one["wall_s"] / run["wall_s"], 2)
    spark, best = entry["runs"].get("spark"), entry["runs"].get("workers") or entry["runs"].get("pool")
    if spark and best:
        entry["spark_overhead"] = round(spark["wall_s"] / best["wall_s"], 2)


def markdown(results: dict) -> str:
    lines = [f"Scale benchmark, {results['started']}, {results['cpus']} cores, N = {results['jobs']} "
             f"(load average {results['loadavg_start'][0]:.1f} at the start, {results['loadavg_end'][0]:.1f} at the end)"
             + (f", spill above {results['spill_above']} bytes" if results.get("spill_above") is not None else ""),
             "", "| corpus | run | procs | wall s | CPU s | MB/s | docs/s | × floor per core | speed-up | stages (s) | "
             "peak MB (parent / worker) | dup recall | false pairs |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in results["sizes"]:
        for name, r in e["runs"].items():
            stages = ", ".join(f"{k.removesuffix('_s')} {v:.1f}" for k, v in r.get("stages", {}).items())
            if r.get("linked") is not None:
                stages += f"; linked {r['linked']}/{e['documents']}"
            dup = r.get("duplicates") or {}
            recall = (f"{dup['recall']} ({dup['detected']}/{dup['injected']}); with a seed clause "
                      f"{dup['recall_seedable']} ({dup['detected_seedable']}/{dup['seedable']})") if dup else ""
            false = (f"{dup['false_pairs']}/{dup['reported_pairs']} (exact copies "
                     f"{dup['false_pairs_exact']}/{dup['reported_pairs_exact']})") if dup else ""
            lines.append(
                f"| {e['mb']} MB, {e['documents']} docs | {name} | {r.get('processes', 1)} | {r['wall_s']:.1f} | "
                f"{r.get('cpu_s', '')} | "
                f"{r['mb_s']:.2f} | {r['docs_s']:.0f} | {r.get('x_floor_per_core', '')} | {r.get('speedup_vs_one', '')} | "
                f"{stages} | {r['peak_mb']:.0f} / {r['worker_peak_mb']:.0f} | {recall} | {false} |")
        if "spark_overhead" in e:
            lines.append(f"| | spark / local workers | | {e['spark_overhead']}× | | | | | | | | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
