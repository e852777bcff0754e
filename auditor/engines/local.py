"""The local engine: many documents on one machine, in a process pool, with results identical to one
process. It is the reference the Spark engine is checked against.

Three ways to spread an audit, from the simplest:

``analyse_files``  what ``auditor.audit.analyse_paths`` (``auditor extract``, ``history add``)
    uses: load → normalise → segment → extract runs in ``jobs`` worker processes on chunks of
    files, results taken in order. Only the analysis is parallel.

``audit_documents``  what ``run_audit`` (``auditor audit --jobs N``, one process included) uses:
    the workers also run the rules that look at ONE document at a time (placeholder, pattern,
    doubling, arithmetic, unit except magnitude-slip; see ``is_per_document``), each over its
    chunk, and the part of the corpus-wide rules that reads one document alone
    (``prepare_documents``: the duplicate kind's clauses and sentences and their weights), which
    travels to the parent with the document. The parent then runs the corpus-wide rules
    (duplicates across pages, year-over-year, magnitude slips between pages, any kind it does not
    know) over all documents, several rules at a time in forked workers that read the parent's
    documents in place (``run_corpus_rules``). A rule of the first sort cannot see a second
    document, so running it chunk by chunk gives the same findings, and the prepared part is what
    the rule would compute in the parent; findings are merged with the de-duplication and order
    of ``run_rules``. tests/engines check them against every rule run over every document in one
    process.

``audit_split``  the shape the Spark engine runs, in plain Python: each document is reduced in a
    worker to a compact output (its original text, metrics, articles, the findings of the
    per-document rules, the findings of the text-reading corpus-wide rules on that document ALONE,
    and the keys that tie it to other documents: clause keys, MinHash band keys, metric groups).
    The parent groups the keys; a document sharing no key with another one is complete as it is,
    and only the linked documents are analysed again and run through those rules together (see
    ``link_keys`` for why the result is identical). Year-over-year reads only metrics: it runs on
    the compact views of every document (``reads_metrics_only``).

What streams and what is held: files are read and analysed a chunk per worker at a time (at most
``jobs`` chunks of 2 MB in flight), but the rules need the whole audit together, so the parent
keeps every analysed document (``analyse_files``, ``audit_documents``), or every compact output
plus the linked documents (``audit_split``), until the rules have run. Memory therefore grows with
the corpus, unless it is spilled: above ``Config.spill_above`` bytes of input (32 MB), the workers
write the analysed documents to files of a spill folder and the parent holds only handles that
read them back, with a fixed budget of documents kept loaded, and the findings go there too, as
they come (auditor/engines/spill.py). What is
held is kept small either way: a document comes back ``packed()`` (paragraphs,
sentences and clauses as int arrays, ``PackedParagraphs``), its offset map in int arrays, its
prepared duplicate units and weights as int arrays without copies of the text
(``duplicate.prepare``), metric strings and messages interned; the reports are written piece by
piece (``iter_json``, ``iter_html``), the long arrays of a large JSON report by the workers
(auditor/report/parallel.py). bench/bench_scale.py measures it: at 20 MB of text (held) the parent
peaks near 190 MB, the largest worker near 230; at 200 MB, spilled, 97 and 272 (one process,
spilled: 450). A worker's memory is mostly fixed: ~120 MB of imports (pandas, pandera), bounded
caches (labels, numerals) and a budget of pages kept loaded (``spill._PINNED_BYTES``, charged at
what a page takes loaded). The parent stays near 64 MB at 1 GB: per page it keeps a handle of three
slots and its place in the spill's arrays (~150 bytes, the path string shared with the file list;
with an object per pickle extent it was ~650, 75 MB at 1 GB). What grows with the corpus is in the corpus-wide rules, each run alone on 1 GB of text
(27,450 pages, bench/bench_rule_memory.py), over a floor of ~230 MB (the process at the fork,
~90, and the spill's budget of pages kept loaded, 128): the exact duplicate mode ~320 MB (clause
hashes split by key range into scratch files and sorted 4M at a time; then, for the clauses that
repeat, 28 bytes each and a place index of 16), the near mode ~280 (band keys sorted by key range, 2^20
sentences at a time, the candidate pairs, the paired sentences), year-over-year and magnitude
slip ~240 (their rows in parts of whole series or groups, bucketed on disk past 131,072:
``kinds/_parts.py``). At the start of that work they took 610, 370, 310 and 280 MB.
Both duplicate modes keep the rest in scratch files (``AuditContext.scratch_file``).

Parquet tables of an audit (documents, metrics, findings, and the run: which rules, their files,
the language), shared with the Spark engine, are at the end of this module (``write_tables``):
written into a temporary folder beside the target and renamed into place, so an interrupted run
leaves nothing half-written. ``auditor report`` makes the reports from them again
(auditor/report/from_tables.py).
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import multiprocessing
import os
import shutil
import signal
import sys
import threading
import time
import uuid
from collections import defaultdict, deque
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from ..errors import AuditorError, UsageError
from ..findings import Finding, Related
from ..metrics import TABLE_FIELDS, Metric

if TYPE_CHECKING:  # pragma: no cover
    from ..audit import AuditResult
    from ..config import Config
    from ..documents.load import Document
    from ..pipeline import AnalysedDocument
    from ..rules.model import Rule
    from .spill import Spill, SpilledFindings

MB = 1024 * 1024
_CHUNK_BYTES = 2 * MB  # a worker's task: at most this much text ...
_CHUNK_FILES = 64  # ... or this many files
_IN_FLIGHT = 4  # chunks per worker submitted ahead of the one the parent waits for
_MIN_CHUNK_BYTES = 512 * 1024  # ... and at least this much: each task pays for a metrics table (pandera)


# ---------------------------------------------------------------- jobs and the pool

def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def resolve_jobs(jobs: int | None) -> int:
    if jobs is None or jobs == 0:
        return default_jobs()
    if jobs < 0:
        raise UsageError(f"--jobs must be 1 or more (got {jobs})")
    return jobs


def _mp_context():
    """fork where it is safe (Linux, no threads yet: workers start in milliseconds with auditor
    already imported), spawn elsewhere."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


_WORKER: dict[str, Any] = {}


def _init_worker(task: Callable, state: dict) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _WORKER["task"], _WORKER["state"] = task, state


def _call(chunk):
    return _WORKER["task"](_WORKER["state"], chunk)


def map_in_order(task: Callable, state: dict, chunks: Sequence, jobs: int) -> Iterator:
    """task(state, chunk) for every chunk, results in chunk order; in a pool of `jobs` processes
    when there is more than one chunk and more than one job. Leaving the loop early (an error, an
    interrupt) terminates the workers."""
    if jobs <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            yield task(state, chunk)
        return
    from concurrent.futures import ProcessPoolExecutor

    # ProcessPoolExecutor rather than Pool: a worker that dies (or cannot start) breaks the pool
    # with an error instead of being replaced forever. On an error or an interrupt the chunks not
    # started are cancelled and the running ones finish (a few seconds at most): a worker killed
    # while sending its result would leave half a message in the pipe and the pool hanging.
    pool = ProcessPoolExecutor(min(jobs, len(chunks)), mp_context=_mp_context(), initializer=_init_worker,
                               initargs=(task, state))
    finished = False
    try:
        # A window of chunks in flight, not all of them: results wait in the parent only until it
        # takes them in order, and a consumer that writes them out (a report) holds a few at most.
        waiting = iter(chunks)
        futures = deque(pool.submit(_call, chunk) for chunk in islice(waiting, _IN_FLIGHT * jobs))
        while futures:
            result = _result(futures.popleft())
            futures.extend(pool.submit(_call, chunk) for chunk in islice(waiting, 1))
            yield result
        finished = True
    finally:
        pool.shutdown(wait=True, cancel_futures=not finished)


def _result(future):
    """A worker's result; a worker that died (killed, out of memory) as one line, not a traceback."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool:
        raise AuditorError("a worker process stopped abruptly (killed, or out of memory?); "
                           "run again, with fewer --jobs or a lower spill-above if memory is short") from None


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a stage builds many long-lived objects (analysed
    documents: millions of small objects and no reference cycles to reclaim meanwhile; the collector
    would walk them again and again, 15-20% of the run). Put back as it was afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _file_sizes(files: Sequence[str]) -> list[int]:
    sizes = []
    for f in files:
        try:
            sizes.append(os.stat(f).st_size)
        except OSError:
            sizes.append(0)  # the worker reports the real problem, in order
    return sizes


def plan_chunks(sizes: Sequence[int], jobs: int) -> list[list[int]]:
    """File indices cut into consecutive chunks: small enough that every worker gets several
    (load balance, bounded memory per task), big enough that a task is not all overhead."""
    total = sum(sizes)
    target = max(_MIN_CHUNK_BYTES, min(_CHUNK_BYTES, total // max(1, jobs * 4)))
    chunks: list[list[int]] = []
    current: list[int] = []
    weight = 0
    for i, size in enumerate(sizes):
        current.append(i)
        weight += size
        if weight >= target or len(current) >= _CHUNK_FILES:
            chunks.append(current)
            current, weight = [], 0
    if current:
        chunks.append(current)
    return chunks


def _error_state(exc: AuditorError) -> tuple:
    """An AuditorError as plain data: it crosses the process boundary with its path and line."""
    return (type(exc), exc.message, exc.path, exc.line, exc.column)


def _raise(state: tuple) -> None:
    cls, message, path, line, column = state
    raise cls(message, path=path, line=line, column=column)


# ---------------------------------------------------------------- progress

_PROGRESS: ContextVar[bool] = ContextVar("auditor_progress", default=False)


@contextmanager
def show_progress(enabled: bool = True) -> Iterator[None]:
    """Let the engines inside this block draw a progress bar on stderr (when it is a terminal)."""
    token = _PROGRESS.set(enabled)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


class Progress:
    """Files, MB, MB/s and findings so far, on stderr; drawn only when progress is switched on
    (``show_progress``), stderr is a terminal, and the run lasts longer than `delay` seconds."""

    def __init__(self, total_files: int, total_bytes: int, label: str = "auditing", *,
                 enabled: bool | None = None, delay: float = 0.5, findings: bool = True):
        wanted = _PROGRESS.get() if enabled is None else enabled
        self.enabled = bool(wanted) and _stderr_is_terminal()
        self.total_files, self.total_bytes, self.label = total_files, total_bytes, label
        self.files = self.bytes = self.findings = 0
        self.started = time.perf_counter()
        self.delay = delay
        self.show_findings = findings
        self._bar = None
        self._task = None

    def advance(self, files: int, nbytes: int, findings: int = 0) -> None:
        self.files += files
        self.bytes += nbytes
        self.findings += findings
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.started
        if self._bar is None:
            if elapsed < self.delay:
                return
            self._start()
        rate = self.bytes / MB / elapsed if elapsed > 0 else 0.0
        self._bar.update(self._task, completed=self.files, mb=self.bytes / MB, rate=rate, findings=self.findings)

    def stage(self, label: str) -> None:
        self.label = label
        if self._bar is not None:
            self._bar.update(self._task, description=label)

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, \
            TimeElapsedColumn

        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
                   TextColumn("{task.fields[mb]:.1f} MB  {task.fields[rate]:.2f} MB/s")]
        if self.show_findings:
            columns.append(TextColumn("{task.fields[findings]:,} findings"))
        self._bar = RichProgress(*columns, TimeElapsedColumn(), console=Console(stderr=True), transient=True)
        self._task = self._bar.add_task(self.label, total=self.total_files, mb=0.0, rate=0.0, findings=0)
        self._bar.start()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


# ---------------------------------------------------------------- analysis in a pool

def _analyse_chunk(state: dict, chunk: list[tuple[int, str]]) -> tuple[list["AnalysedDocument"], tuple | None]:
    """Analyse the files of one chunk in order; stop at the first that cannot be read."""
    from ..pipeline import analyse_path

    docs = []
    with gc_paused():
        for _, path in chunk:
            try:
                docs.append(analyse_path(path, year=state["year"], max_bytes=state["max_bytes"]))
            except AuditorError as exc:
                return docs, _error_state(exc)
    return docs, None


def analyse_files(files: Sequence[str], *, year: int | None = None, max_bytes: int | None = None,
                  jobs: int | None = None) -> list["AnalysedDocument"]:
    """Every file through load → normalise → segment → extract, in `jobs` processes, in order.
    The first file that cannot be read raises its InputError, as in one process."""
    jobs = resolve_jobs(jobs)
    sizes = _file_sizes(files)
    chunks = [[(i, files[i]) for i in c] for c in plan_chunks(sizes, jobs)]
    state = {"year": year, "max_bytes": max_bytes}
    documents: list = []
    with gc_paused(), Progress(len(files), sum(sizes), "analysing", findings=False) as progress:
        for chunk, (docs, error) in zip(chunks, map_in_order(_analyse_chunk, state, chunks, jobs)):
            documents.extend(d.packed() for d in docs)  # as a worker sends them (pickled packed)
            if error is not None:
                _raise(error)
            progress.advance(len(docs), sum(sizes[i] for i, _ in chunk))
    return documents


# ---------------------------------------------------------------- which rules see one document

def is_per_document(rule: "Rule") -> bool:
    """Whether a rule's findings on a document depend on that document alone.

    An allow-list, checked against the kinds' code: placeholder, pattern and doubling loop over the
    documents one by one; arithmetic works sentence by sentence, and its `table` checks row by row;
    unit checks work within an article, except `magnitude-slip`, which compares an organisation's
    figures across documents. Duplicates (a copy on another page, or the same text on three pages
    being house style) and year-over-year are corpus-wide, and so is any kind not listed here.
    """
    if rule.kind in ("placeholder", "pattern", "doubling", "arithmetic"):
        return True
    if rule.kind == "unit":
        return getattr(rule.params, "check", None) != "magnitude-slip"
    return False


def split_rules(rules: Sequence["Rule"]) -> tuple[list["Rule"], list["Rule"]]:
    """(per-document rules, corpus-wide rules), each in the given order."""
    return [r for r in rules if is_per_document(r)], [r for r in rules if not is_per_document(r)]


def reads_metrics_only(rule: "Rule") -> bool:
    """Corpus-wide rules that read only each document's path, original text and metrics (and the
    history store): year-over-year. ``audit_split`` runs them over ``DocumentView``s of the whole
    audit, which it holds anyway, instead of analysed documents (a view refuses anything else
    loudly); the Spark engine runs them on its executors, one group per (entity, metric, unit)
    series (``auditor.engines.spark``)."""
    return rule.kind == "yoy"


def split_corpus_rules(rules: Sequence["Rule"]) -> tuple[list["Rule"], list["Rule"]]:
    """(corpus-wide rules run on views of every document, the ones run on linked documents)."""
    return [r for r in rules if reads_metrics_only(r)], [r for r in rules if not reads_metrics_only(r)]


def merge_findings(*groups: Iterable[Finding]) -> list[Finding]:
    """Findings from several runs of disjoint (rule, document) pairs, de-duplicated and ordered as
    ``run_rules`` does it."""
    merged: dict[tuple, Finding] = {}
    for group in groups:
        for f in group:
            merged.setdefault((f.rule, f.document, f.start, f.end), f)
    return sorted(merged.values(), key=Finding.sort_key)


class _OutOfOrder(Exception):
    pass


def merge_spilled(spill: "Spill", per_document: "SpilledFindings", corpus: Sequence[Finding]) -> "SpilledFindings":
    """``merge_findings`` for a spilled audit, written to the spill as it is made: the per-document
    findings come in file order, chunk by chunk, each chunk's in order, so they are one sorted run
    when the files' order is the findings' (path order; checked as they are read) and are merged
    with the corpus-wide ones in one pass. Otherwise they are merged in memory, as when held."""
    try:
        return spill.findings(_merged_in_order(per_document, corpus), "findings")
    except _OutOfOrder:
        return spill.findings(merge_findings(per_document, corpus), "findings")
    finally:
        spill.remove("findings-per-document")


def _merged_in_order(run: Iterable[Finding], other: Sequence[Finding]) -> Iterator[Finding]:
    import heapq

    def checked() -> Iterator[Finding]:
        last = None
        for f in run:
            key = f.sort_key()
            if last is not None and key < last:
                raise _OutOfOrder
            last = key
            yield f

    kept = None
    for f in heapq.merge(checked(), other, key=Finding.sort_key):  # ties: the per-document one first
        key = (f.rule, f.document, f.start, f.end)
        if key != kept:
            kept = key
            yield f


def _audit_chunk(state: dict, chunk: list[tuple[int, str]]) -> tuple[list, list[Finding], tuple | None]:
    from ..rules.context import AuditContext
    from ..rules.engine import run_rules

    docs, error = _analyse_chunk(state, chunk)
    found: list[Finding] = []
    if error is None:
        ctx = AuditContext(docs, lang=state["lang"], regex_timeout=state["regex_timeout"])
        try:
            with gc_paused():
                found = run_rules(state["rules"], ctx)
                prepare_documents(docs, state["corpus_rules"], state["regex_timeout"])
        except AuditorError as exc:
            error = _error_state(exc)
    # Packed: the rules that walk sentences one by one have run; the parent keeps every document,
    # or where each lies in the spill folder (auditor/engines/spill.py).
    packed = [d.packed() for d in docs]
    writer = state.get("spill")
    if writer is not None and chunk:
        return writer.write(f"chunk-{chunk[0][0]:08d}.pkl", packed), found, error
    return packed, found, error


def prepare_documents(docs: Sequence["AnalysedDocument"], rules: Sequence["Rule"], timeout: float) -> None:
    """Fill ``AnalysedDocument.prepared`` with the per-document part of the corpus-wide rules
    `rules` (the duplicate kind's units and weights), so that part runs in the pool's workers and
    the parent only compares. A rule's regex timing out here surfaces when the rule runs: the
    document is left unprepared, and the parent runs the same code again."""
    from ..rules.kinds import duplicate

    for doc in docs:
        try:
            doc.prepared.update(duplicate.prepare(doc, rules, timeout))
        except TimeoutError:
            continue


def check_files(files: Sequence[str], config: "Config", rules: Sequence["Rule"], *, jobs: int | None = None,
                progress: Progress | None = None, spill: "Spill | None" = None
                ) -> tuple[list["AnalysedDocument"], list[Finding]]:
    """The pool's half of ``audit_documents``: every file analysed and run through the per-document
    rules among `rules` in `jobs` workers. Returns the documents in file order and the findings of
    those rules. Errors as in one process: the first unreadable file, else the first chunk's failing
    rule (after every file was read, as one process reads them all before any rule runs).
    With a `spill`, the workers write the documents into its folder and the parent keeps handles
    (``SpilledDocument``) in their place."""
    jobs = resolve_jobs(jobs if jobs is not None else config.jobs)
    sizes = _file_sizes(files)
    chunks = [[(i, files[i]) for i in c] for c in plan_chunks(sizes, jobs)]
    state = {"year": config.year, "max_bytes": config.max_bytes, "lang": config.lang,
             "regex_timeout": config.regex_timeout, "rules": split_rules(rules)[0],
             "corpus_rules": split_rules(rules)[1], "spill": spill.writer() if spill is not None else None}
    documents: list = []
    found: list[Finding] = []
    log = spill.finding_log("findings-per-document") if spill is not None else None
    rule_error: tuple | None = None
    with gc_paused():
        for chunk, (docs, chunk_found, error) in zip(chunks, map_in_order(_audit_chunk, state, chunks, jobs)):
            if spill is not None:
                docs = spill.attach(docs, [path for _, path in chunk])
            documents.extend(docs)
            if error is not None:
                if not issubclass(error[0], _rule_errors()):
                    _raise(error)  # an unreadable file: in one process it stops the run before any rule
                rule_error = rule_error or error
            if log is not None:
                log.extend(chunk_found)  # on disk: the parent does not hold the corpus's findings
            else:
                found.extend(chunk_found)
            if progress is not None:
                progress.advance(len(docs), sum(sizes[i] for i, _ in chunk), len(chunk_found))
    if rule_error is not None:
        _raise(rule_error)
    return documents, log.close() if log is not None else found


def audit_documents(files: Sequence[str], config: "Config", rules: Sequence["Rule"], *, history=None,
                    jobs: int | None = None, timings: dict | None = None
                    ) -> tuple[list["AnalysedDocument"], Sequence[Finding]]:
    """Analysis and the per-document rules in the pool, the corpus-wide rules in the parent.

    Returns the analysed documents in file order and the findings in ``run_rules`` order: a list,
    or when the audit is spilled (``Config.spill_above``) ``SpilledDocument`` handles and
    ``SpilledFindings`` on disk. Errors
    come out as in one process: the first unreadable file, else the first rule that failed.
    `history`: an open history store, or a function that opens one (called once the files are
    read: an unreadable file is reported before a store problem, and the store's lock is held only
    while the rules read it). `timings` (a dict) receives the wall time of the two stages.
    """
    from ..rules.context import AuditContext

    jobs = resolve_jobs(jobs if jobs is not None else config.jobs)
    started = time.perf_counter()
    total = sum(_file_sizes(files))
    spill = None
    if total > config.spill_above:
        from .spill import Spill

        spill = Spill()
    try:
        with Progress(len(files), total) as progress:
            documents, per_document = check_files(files, config, rules, jobs=jobs, progress=progress, spill=spill)
            progress.stage("corpus-wide rules")
            progress.close()  # no drawing thread while the rules fork
        mark = time.perf_counter()
        store = history() if callable(history) else history
        with gc_paused():
            ctx = AuditContext(documents, lang=config.lang, regex_timeout=config.regex_timeout, history=store)
            corpus = run_corpus_rules(split_rules(rules)[1], ctx, jobs)
        for doc in documents:  # done with: the documents live on in the result
            if hasattr(doc, "drop_prepared"):
                doc.drop_prepared()
            else:
                doc.prepared.clear()
        findings = merge_findings(per_document, corpus) if spill is None else merge_spilled(spill, per_document, corpus)
    except BaseException:  # an unreadable file, a failing rule, an interrupt: the folder goes now
        if spill is not None:
            spill.close()
        raise
    if timings is not None:
        timings.update(per_document_s=mark - started, corpus_rules_s=time.perf_counter() - mark)
    return documents, findings


# Relative cost of a corpus-wide rule, for sharing them out between processes: measured at 200 MB
# of text (bench/bench_scale.py corpus, spilled, a forked process per group), the three exact
# duplicate rules ~24 s together (they share one index), near ~26, magnitude slip ~2.2,
# year-over-year ~1.8. Rules run in processes only without a history store, so the archive modes
# return at once there.
def _cost(rule: "Rule") -> float:
    mode = getattr(rule.params, "mode", None)
    if rule.kind == "duplicate":
        return {"near": 3.0, "archive": 0.0, "archive-near": 0.0}.get(mode, 1.0)
    return {"yoy": 0.2, "unit": 0.3}.get(rule.kind, 1.0)


_SHARED: dict[str, Any] = {}


def _family(rule: "Rule") -> tuple[str, Any]:
    """Rules of one kind and mode share the work ``AuditContext.memo`` keeps (rule files list them together)."""
    return rule.kind, getattr(rule.params, "mode", None)


def _rule_group(index: int) -> tuple[list[Finding], tuple | None, int]:
    """In a forked worker: one group of corpus-wide rules over the documents the parent holds."""
    from ..rules.engine import run_rules

    rules, ctx = _SHARED["groups"][index], _SHARED["ctx"]
    done = []
    family = None
    try:
        for rule in rules:
            if _family(rule) != family:  # what the rules before shared, no later rule here reads
                ctx.forget()  # (the exact duplicate mode's index of the audit: 30 MB at 200 MB of text)
                family = _family(rule)
            done.extend(run_rules([rule], ctx))
    except AuditorError as exc:
        return done, _error_state(exc), _SHARED["order"][rule.id]
    return done, None, -1


def run_corpus_rules(rules: Sequence["Rule"], ctx, jobs: int) -> list[Finding]:
    """``run_rules`` for rules that need every document, several rules at a time: forked workers
    read the parent's documents in place (no copying) and send back their findings. One process
    when there is one job or one rule, with a history store open (a database connection is not
    shared across a fork), or where fork is not safe."""
    from ..rules.engine import run_rules

    if jobs <= 1 or len(rules) <= 1 or ctx.history is not None or _mp_context().get_start_method() != "fork":
        return run_rules(rules, ctx)
    from concurrent.futures import ProcessPoolExecutor

    bins: list[list] = [[] for _ in range(min(jobs, len(rules)))]
    loads = [0.0] * len(bins)
    for rule in sorted(rules, key=_cost, reverse=True):
        k = loads.index(min(loads))
        bins[k].append(rule)
        loads[k] += _cost(rule)
    order = {r.id: i for i, r in enumerate(rules)}
    _SHARED.update(groups=[sorted(b, key=lambda r: order[r.id]) for b in bins], ctx=ctx, order=order)
    pool = ProcessPoolExecutor(len(bins), mp_context=multiprocessing.get_context("fork"))
    try:
        futures = [pool.submit(_rule_group, k) for k in range(len(bins))]
        results = [_result(f) for f in futures]
    except BaseException:  # an interrupt: a rule over the whole corpus may run for minutes, stop it now
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=False)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        _SHARED.clear()
    failed = [(at, error) for _, error, at in results if error is not None]
    if failed:
        _raise(min(failed, key=lambda f: f[0])[1])  # the first failing rule, as run_rules would stop at it
    return merge_findings(*(found for found, _, _ in results))


def _rule_errors() -> tuple[type, ...]:
    from ..rules.engine import RuleTimeoutError

    return (RuleTimeoutError,)


# ---------------------------------------------------------------- compact per-document outputs

@dataclass(frozen=True)
class DocumentView:
    """A document as the reports see it, rebuilt from compact rows: the document as read (original
    text, encoding, sha256), its metrics and its articles — without the normalised text and the
    sentence/clause segmentation, which only the rules need.

    It answers what the reporters ask of an AnalysedDocument (``path``, ``original``, ``document``,
    ``metrics``, ``segmentation.articles``, ``norm.to_original`` of an article part) and nothing
    more: rules never run on a view (the engines analyse a document again when a corpus-wide rule
    needs it)."""

    document: "Document"
    metrics: tuple[Metric, ...]
    articles: tuple  # segment.Article, parts in normalised offsets
    part_spans: tuple[tuple[int, int, int, int], ...]  # (norm start, norm end, original start, original end)
    norm: Any = field(init=False, repr=False, compare=False)
    segmentation: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "norm", _PartMap({(a, b): (c, d) for a, b, c, d in self.part_spans}))
        object.__setattr__(self, "segmentation", _Articles(tuple(self.articles)))

    @property
    def path(self) -> str:
        return self.document.path

    @property
    def original(self) -> str:
        return self.document.text

    @classmethod
    def of(cls, doc: "AnalysedDocument") -> "DocumentView":
        parts = tuple((s, e, *doc.norm.to_original(s, e)) for a in doc.segmentation.articles for s, e in a.parts)
        return cls(doc.document, tuple(doc.metrics), tuple(doc.segmentation.articles), parts)


@dataclass(frozen=True)
class _Articles:
    articles: tuple


@dataclass(frozen=True)
class _PartMap:
    spans: dict

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        try:
            return self.spans[(start, end)]
        except KeyError:
            raise LookupError("a DocumentView maps only its article parts to the original; "
                              "analyse the document again for other spans") from None


@dataclass
class DocumentOutput:
    """What one document leaves behind in ``audit_split`` and in the Spark engine's tasks."""

    index: int
    view: DocumentView | None
    findings: list[Finding]  # per-document rules
    solo: list[Finding]  # corpus-wide rules on this document alone
    links: list[tuple[str, str, str, int | None, bool]]  # (rule, how, key, year, flag): see link_keys
    error: tuple | None = None  # an unreadable file or a failing rule (see _error_state)


def check_documents(docs: Sequence["AnalysedDocument"], rules: Sequence["Rule"], *, lang: str = "zh",
                    regex_timeout: float = 2.0, with_history: bool = False
                    ) -> list[tuple[list[Finding], list[Finding], list]]:
    """For each document of a batch: (per-document findings, corpus-wide findings on the document
    alone, link keys). The per-document rules run once over the whole batch (they cannot see past a
    document), the corpus-wide ones that need the text once per document (year-over-year is left
    out: it runs later on views of the whole audit)."""
    from ..rules.context import AuditContext
    from ..rules.engine import run_rules

    doc_rules, corpus_rules = split_rules(rules)
    corpus_rules = split_corpus_rules(corpus_rules)[1]  # the others run on views of every document
    batch = run_rules(doc_rules, AuditContext(list(docs), lang=lang, regex_timeout=regex_timeout))
    # The duplicate rules' units and weights once per page, as a pool worker prepares them: read by
    # the rules run on the page alone, by its link keys, and by the driver if the page links.
    prepare_documents(docs, corpus_rules, regex_timeout)
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for f in batch:
        by_path[f.document].append(f)
    out = []
    for doc in docs:
        alone = AuditContext([doc], lang=lang, regex_timeout=regex_timeout)  # shared by the rules and their keys
        solo = run_rules(corpus_rules, alone) if corpus_rules else []
        out.append((by_path.pop(doc.path, []), solo, link_keys(doc, corpus_rules, with_history=with_history,
                                                               ctx=alone)))
    return out


def link_keys(doc: "AnalysedDocument", rules: Sequence["Rule"], *, with_history: bool = False,
              ctx: Any = None) -> list[tuple[str, str, str, int | None, bool]]:
    """The keys that can tie this document to another one for each corpus-wide rule, as rows
    (rule id, how, key, year, flag). Documents are LINKED for a rule when they share a key and:

    - how "any": at least two documents hold the key and one of them flags it;
    - how "years": at least two documents hold the key, with at least two different years.

    Why a document linked to no other one is complete with the findings of the rule run on it
    alone, kind by kind (the argument leans on the kinds' code; tests/engines check it against
    whole-corpus runs):

    duplicate, exact  every unit's folded key, flagged when the unit is substantial (long enough,
        more than boilerplate). A finding needs a substantial seed whose key was seen before; the
        copies a run is extended over, the places listed and the "common in N documents" count all
        hold the seed's key, so they are in documents linked by it. Keys of non-substantial units
        alone never seed anything. A run of units none of which is substantial alone seeds where
        the shortest substantial run of such units from a unit on (``duplicate._windows``) was
        seen before: those runs' keys are keys too, flagged, from every unit on over the units not
        flagged here (a unit flagged here links this document by its own key to every other one
        holding it); the places of a run, and the copies it is followed over, all hold it.
    duplicate, near  every MinHash band bucket of the sentences the rule compares. Candidates share
        a bucket, and a bucket's size (``max_bucket``) counts only documents holding it.
    yoy  (entity, metric, unit) groups of the figures with a value, by year: a figure is compared
        only with the same group's figures of earlier years (the year before, a gap, a robust band
        over several years: whichever, never a figure of the same year or of another group). The
        engines run yoy apart instead (``reads_metrics_only``: on views of every document here,
        grouped by series on Spark); the keys stay for kinds that would need them.
    unit, magnitude-slip  (entity, metric) groups of the usable positive amounts: the peers.
    duplicate, archive and archive-near  nothing without a history store (the modes compare with
        archived pages only).
    with a history store, archive copies read archived pages for the whole audit: they link
        everything (``with_history``), and so does any kind not listed here.

    Linking more documents than needed is always safe (the rule then runs on a larger set that
    still holds every document's partners); keys are hashed, and a hash collision only links more.
    `ctx`: an AuditContext of this document alone, whose rules already ran (their clauses and
    weights are reused).
    """
    from ..rules.context import AuditContext
    from ..rules.kinds import duplicate, yoy

    ctx = ctx if ctx is not None else AuditContext([doc])

    rows: list[tuple[str, str, str, int | None, bool]] = []
    for rule in rules:
        p = rule.params
        mode = getattr(p, "mode", None)
        if with_history and mode in ("archive", "archive-near"):
            rows.append((rule.id, "any", "*", None, True))
        elif rule.kind == "duplicate" and mode in ("archive", "archive-near"):
            continue
        elif rule.kind == "duplicate" and mode == "exact":
            weigh = duplicate.weigher(ctx, p)
            text = doc.norm.text
            flags: dict[str, bool] = {}
            units = duplicate.units_of(ctx, doc, p)
            for u in units:
                if u.key is not None and not flags.get(u.key):
                    flags[u.key] = weigh.substantial(text[u.start:u.end])
            rows.extend((rule.id, "any", _hash(k), None, f) for k, f in flags.items())
            windows = duplicate._windows(units, text, weigh,
                                         lambda i: units[i].key is not None and not flags[units[i].key])
            rows.extend((rule.id, "any", _hash("\x1e".join(w)), None, True) for w in sorted(set(windows.values())))
        elif rule.kind == "duplicate" and mode == "near":
            # A band key is a hash already, and most link rows are band keys: no second hash
            rows.extend((rule.id, "any", k, None, True) for k in _band_keys(ctx, doc, p))
        elif rule.kind == "yoy":
            seen = {(o.entity, o.metric, o.unit, o.year) for o in yoy.observations(doc.metrics)}
            rows.extend((rule.id, "years", _hash("\x1f".join(k[:3])), k[3], True) for k in sorted(seen))
        elif rule.kind == "unit" and getattr(p, "check", None) == "magnitude-slip":
            groups = {(m.entity, m.metric) for m in doc.metrics
                      if not m.placeholder and m.value is not None and m.unit is not None
                      and m.entity and m.metric and m.value > 0}
            rows.extend((rule.id, "any", _hash("\x1f".join(g)), None, True) for g in sorted(groups))
        else:
            rows.append((rule.id, "any", "*", None, True))
    return rows


def _hash(key: str) -> str:
    return hashlib.blake2b(key.encode("utf-8"), digest_size=12).hexdigest()


def _band_keys(ctx: Any, doc: "AnalysedDocument", p) -> set[str]:
    """The LSH bucket keys of the sentences ``duplicate`` near mode compares (its item selection)."""
    from ..rules.kinds import duplicate

    items = duplicate.near_items([doc], [duplicate.units_of(ctx, doc, p)], duplicate.weigher(ctx, p), p)
    cores = [it.core for it in items]
    if not cores:
        return set()
    keys = duplicate.band_hashes(duplicate.minhash(cores, p.ngram, p.num_perm, p.seed, "uint32"), p.bands)
    return {f"{b}:{key:x}" for row in keys.tolist() for b, key in enumerate(row)}


def linked_documents(links: Iterable[tuple[int, tuple[str, str, str, int | None, bool]]]) -> set[int]:
    """Document indices linked to another document for some rule (see ``link_keys``), from
    (document index, link row) pairs. The Spark engine does the same with a join."""
    groups: dict[tuple[str, str], list] = {}
    for index, (rule, how, key, year, flag) in links:
        g = groups.setdefault((rule, key), [how, set(), False, set()])
        g[1].add(index)
        g[2] = g[2] or flag
        if year is not None:
            g[3].add(year)
    linked: set[int] = set()
    for how, docs, flagged, years in groups.values():
        if len(docs) < 2:
            continue
        if (how == "any" and flagged) or (how == "years" and len(years) >= 2):
            linked |= docs
    return linked


def _split_chunk(state: dict, chunk: list[tuple[int, str]]) -> list[DocumentOutput]:
    from ..pipeline import analyse_path

    docs = []
    for i, path in chunk:
        try:
            docs.append((i, analyse_path(path, year=state["year"], max_bytes=state["max_bytes"])))
        except AuditorError as exc:  # the parent stops at it: nothing after it matters
            return [DocumentOutput(i, None, [], [], [], _error_state(exc))]
    try:
        checked = check_documents([d for _, d in docs], state["rules"], lang=state["lang"],
                                  regex_timeout=state["regex_timeout"])
    except AuditorError as exc:
        return [DocumentOutput(i, DocumentView.of(d), [], [], [], _error_state(exc)) for i, d in docs]
    return [DocumentOutput(i, DocumentView.of(d), found, solo, links)
            for (i, d), (found, solo, links) in zip(docs, checked)]


def _reanalyse_chunk(state: dict, chunk: list[tuple[int, str]]) -> list["AnalysedDocument"]:
    from ..pipeline import analyse_path

    return [analyse_path(path, year=state["year"], max_bytes=state["max_bytes"]) for _, path in chunk]


def audit_split(files: Sequence[str], config: "Config", rules: Sequence["Rule"], *,
                jobs: int | None = None, timings: dict | None = None) -> tuple[list[DocumentView], list[Finding], dict]:
    """The Spark engine's plan in plain Python (see the module docstring). Returns the documents as
    views, the findings, and a few counts (documents, linked documents)."""
    from ..rules.context import AuditContext
    from ..rules.engine import run_rules

    if config.history:
        raise UsageError("--history needs the whole audit in one place: use the local engine without "
                         "the split (the default)")
    jobs = resolve_jobs(jobs if jobs is not None else config.jobs)
    view_rules, corpus_rules = split_corpus_rules(split_rules(rules)[1])
    sizes = _file_sizes(files)
    chunks = [[(i, files[i]) for i in c] for c in plan_chunks(sizes, jobs)]
    state = {"year": config.year, "max_bytes": config.max_bytes, "lang": config.lang,
             "regex_timeout": config.regex_timeout, "rules": list(rules)}
    outputs: list[DocumentOutput] = []
    rule_error = None
    started = time.perf_counter()
    with Progress(len(files), sum(sizes)) as progress:
        for chunk, result in zip(chunks, map_in_order(_split_chunk, state, chunks, jobs)):
            for out in result:
                if out.error is not None:
                    if out.view is None:
                        _raise(out.error)
                    rule_error = rule_error or out.error
            outputs.extend(result)
            progress.advance(len(result), sum(sizes[i] for i, _ in chunk),
                             sum(len(o.findings) + len(o.solo) for o in result))
        if rule_error is not None:
            _raise(rule_error)
        outputs.sort(key=lambda o: o.index)
        mark = time.perf_counter()
        linked = sorted(linked_documents((o.index, row) for o in outputs for row in o.links))
        progress.stage(f"corpus-wide rules on {len(linked)} linked documents")
        again = [[(i, files[i]) for i in c] for c in _index_chunks(linked, sizes, jobs)]
        relinked = [d for docs in map_in_order(_reanalyse_chunk, state, again, jobs) for d in docs]
        mark2 = time.perf_counter()
        ctx = AuditContext(relinked, lang=config.lang, regex_timeout=config.regex_timeout)
        corpus = run_rules(corpus_rules, ctx) if relinked else []
        views = [o.view for o in outputs]
        corpus += run_rules(view_rules, AuditContext(views, lang=config.lang, regex_timeout=config.regex_timeout))
    if timings is not None:
        timings.update(per_document_s=mark - started, reanalyse_s=mark2 - mark,
                       corpus_rules_s=time.perf_counter() - mark2)
    linked_set = set(linked)
    findings = merge_findings((f for o in outputs for f in o.findings),
                              (f for o in outputs if o.index not in linked_set for f in o.solo), corpus)
    stats = {"documents": len(outputs), "linked": len(linked)}
    return views, findings, stats


def _index_chunks(indices: Sequence[int], sizes: Sequence[int], jobs: int) -> list[list[int]]:
    return [[indices[k] for k in c] for c in plan_chunks([sizes[i] for i in indices], jobs)]


# ---------------------------------------------------------------- Parquet tables of an audit

def finding_record(f: Finding) -> dict[str, Any]:
    """A finding as one flat row: related locations and evidence as JSON text."""
    return {
        "rule": f.rule, "category": f.category, "severity": f.severity, "message": f.message,
        "document": f.document, "start": f.start, "end": f.end, "line": f.line, "column": f.column,
        "text": f.text, "fingerprint": f.fingerprint, "suppressed": f.suppressed,
        "related": json.dumps([[r.document, r.start, r.end, r.text, r.note] for r in f.related], ensure_ascii=False),
        "evidence": json.dumps(dict(f.evidence), ensure_ascii=False, default=_plain),
    }


def finding_from_record(row: dict[str, Any]) -> Finding:
    related = tuple(Related(d, int(s), int(e), t, n) for d, s, e, t, n in json.loads(row["related"] or "[]"))
    suppressed = row.get("suppressed")
    if isinstance(suppressed, float) and math.isnan(suppressed):
        suppressed = None
    return Finding(
        rule=row["rule"], category=row["category"], severity=row["severity"], message=row["message"],
        document=row["document"], start=int(row["start"]), end=int(row["end"]), line=int(row["line"]),
        column=int(row["column"]), text=row["text"], related=related,
        evidence=json.loads(row["evidence"] or "{}"), fingerprint=row["fingerprint"] or "", suppressed=suppressed)


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


FINDING_COLUMNS = ("rule", "category", "severity", "message", "document", "start", "end", "line", "column",
                   "text", "fingerprint", "suppressed", "related", "evidence")
DOCUMENT_COLUMNS = ("doc_id", "path", "sha256", "encoding", "format", "size", "chars", "text", "articles")


def document_record(doc_id: int, view: DocumentView | "AnalysedDocument") -> dict[str, Any]:
    """A document as one row: what it was read as, and its articles (normalised and original
    offsets) as JSON."""
    d = view.document
    if isinstance(view, DocumentView):
        parts = view.part_spans
    else:
        parts = tuple((s, e, *view.norm.to_original(s, e)) for a in view.segmentation.articles for s, e in a.parts)
    articles = [{"index": a.index, "parts": [list(p) for p in a.parts], "entity": a.entity,
                 "entity_span": list(a.entity_span) if a.entity_span else None, "year": a.year,
                 "year_source": a.year_source, "title": a.title} for a in view.segmentation.articles]
    return {"doc_id": doc_id, "path": d.path, "sha256": d.sha256, "encoding": d.encoding, "format": d.format,
            "size": d.size, "chars": len(d.text), "text": d.text,
            "articles": json.dumps({"articles": articles, "parts": [list(p) for p in parts]}, ensure_ascii=False)}


def view_from_records(doc: dict[str, Any], metrics: Iterable[Metric]) -> DocumentView:
    """A DocumentView again from a document row and its metrics, packed as the audit keeps them
    (``PackedMetrics``: a fifth of the memory of Metric objects) unless they cannot be."""
    from ..documents.load import Document
    from ..documents.segment import Article
    from ..extract.packed_metrics import PackedMetrics

    data = json.loads(doc["articles"])
    articles = tuple(Article(a["index"], tuple(tuple(p) for p in a["parts"]), a["entity"],
                             tuple(a["entity_span"]) if a["entity_span"] else None, a["year"], a["year_source"],
                             a["title"]) for a in data["articles"])
    document = Document(doc["path"], doc["text"], doc["encoding"], doc["sha256"], doc["format"], int(doc["size"]))
    metrics = metrics if isinstance(metrics, PackedMetrics) else tuple(metrics)
    kept = PackedMetrics.pack(metrics, len(doc["text"])) or metrics
    return DocumentView(document, kept, articles, tuple(tuple(p) for p in data["parts"]))


def metric_record(doc_id: int, m: Metric) -> dict[str, Any]:
    return {"doc_id": doc_id, **{k: getattr(m, k) for k in TABLE_FIELDS}}


def metric_from_record(row: dict[str, Any]) -> Metric:
    values = {}
    for k in TABLE_FIELDS:
        v = row[k]
        if v is not None and isinstance(v, float) and math.isnan(v) and k not in ("value", "range_low", "range_high"):
            v = None
        elif hasattr(v, "item"):
            v = v.item()
        elif type(v) is str:
            # Shared, as the extractor shares them: a table row's strings are new objects each,
            # nine a metric (units, kinds, entities and figures repeat over 10^6 rows).
            v = sys.intern(v)
        values[k] = v
    for k in ("value", "range_low", "range_high"):
        if values[k] is not None and isinstance(values[k], float) and math.isnan(values[k]):
            values[k] = None
    for k in ("start", "end", "line", "norm_start", "norm_end"):
        values[k] = int(values[k])
    for k in ("year", "article"):
        values[k] = None if values[k] is None or _isnan(values[k]) else int(values[k])
    values["placeholder"] = bool(values["placeholder"])
    return Metric(**values)


def _isnan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def arrow_schemas():
    """The three tables' Arrow schemas (the Spark engine writes the same columns)."""
    import pyarrow as pa

    documents = pa.schema([("doc_id", pa.int64()), ("path", pa.string()), ("sha256", pa.string()),
                           ("encoding", pa.string()), ("format", pa.string()), ("size", pa.int64()),
                           ("chars", pa.int64()), ("text", pa.string()), ("articles", pa.string())])
    metric_types = {"start": pa.int64(), "end": pa.int64(), "value": pa.float64(), "year": pa.int64(),
                    "placeholder": pa.bool_(), "range_low": pa.float64(), "range_high": pa.float64(),
                    "article": pa.int64(), "line": pa.int64(), "norm_start": pa.int64(), "norm_end": pa.int64()}
    metrics = pa.schema([("doc_id", pa.int64())] + [(k, metric_types.get(k, pa.string())) for k in TABLE_FIELDS])
    finding_types = {"start": pa.int64(), "end": pa.int64(), "line": pa.int64(), "column": pa.int64()}
    findings = pa.schema([(k, finding_types.get(k, pa.string())) for k in FINDING_COLUMNS])
    return {"documents": documents, "metrics": metrics, "findings": findings, "run": pa.schema([("manifest", pa.string())])}


TABLES_FORMAT = "auditor-tables/1"


def run_record(rule_set, rules: Sequence["Rule"], lang: str, elapsed_s: float) -> dict[str, Any]:
    """The `run` table's one row: what the reports need besides the rows. The rule files go in
    with their text, since a report may be made where they are not (a cluster's output read on
    an editor's machine) or after they changed."""
    from .. import __version__
    from ..rules.loader import rule_file_text

    manifest = {"format": TABLES_FORMAT, "auditor": __version__, "lang": lang, "elapsed_s": elapsed_s,
                "rules_run": [r.id for r in rules],
                "rule_files": [[path, rule_file_text(path)] for path in rule_set.files]}
    return {"manifest": json.dumps(manifest, ensure_ascii=False)}


def write_tables(result: "AuditResult", output_dir: str | os.PathLike) -> Path:
    """documents/, metrics/, findings/ and run/ of an audit as Parquet under `output_dir` (the
    layout the Spark engine writes), all or nothing. Rows are written a row group at a time, as
    the documents are read (from the spill, for a large audit), so memory does not grow with the
    corpus."""
    schemas = arrow_schemas()
    with staged_folder(output_dir) as tmp:
        tables = {name: _TableWriter(tmp / name, schema) for name, schema in schemas.items()}
        try:
            for i, d in enumerate(result.documents):
                tables["documents"].add(document_record(i, d), len(d.original))
                for m in d.metrics:
                    tables["metrics"].add(metric_record(i, m))
            for f in result.findings:
                tables["findings"].add(finding_record(f))
            tables["run"].add(run_record(result.rule_set, result.rules, result.lang, result.elapsed_s))
        except BaseException:
            for table in tables.values():
                table.out.close()  # the folder goes; nothing more is written to it
            raise
        for table in tables.values():
            table.close()
    return Path(output_dir)


class _TableWriter:
    """One table's part file, written a row group at a time: every `rows` rows or `chars`
    characters of text (a documents row holds a whole page)."""

    def __init__(self, folder: Path, schema, rows: int = 8192, chars: int = 2 * MB):
        import pyarrow.parquet as pq

        folder.mkdir()
        self.schema, self.rows, self.chars = schema, rows, chars
        self.pending: list[dict[str, Any]] = []
        self.pending_chars = 0
        self.out = pq.ParquetWriter(folder / "part-00000.parquet", schema)

    def add(self, row: dict[str, Any], chars: int = 0) -> None:
        self.pending.append(row)
        self.pending_chars += chars
        if len(self.pending) >= self.rows or self.pending_chars >= self.chars:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa

        if self.pending:
            self.out.write_table(pa.Table.from_pylist(self.pending, schema=self.schema))
            self.pending, self.pending_chars = [], 0

    def close(self) -> None:
        self.flush()
        self.out.close()


@contextmanager
def staged_folder(target: str | os.PathLike) -> Iterator[Path]:
    """A temporary folder beside `target`, renamed to `target` when the block succeeds (an existing
    `target` is replaced) and removed when it fails: readers never see a half-written folder."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise UsageError("output folder is a file", path=str(target))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.part"
        tmp.mkdir()
    except OSError as exc:
        raise UsageError(f"cannot write output folder: {exc.strerror or exc}", path=str(target)) from None
    try:
        yield tmp
        replace_folder(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def replace_folder(tmp: Path, target: Path) -> None:
    """Move a finished folder into place, replacing an older one."""
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.old"
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
