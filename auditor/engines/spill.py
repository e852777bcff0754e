"""Analysed documents and findings kept on disk between the stages of a large audit.

The rules need the whole audit together, so the parent used to hold every analysed document from
the moment a worker sent it until the reports were written: about 3 bytes per byte of input,
growing with the corpus. Above ``Config.spill_above`` bytes of input, a pool worker pickles the
documents of its chunk into a file of the spill folder instead (``SpillWriter``) and sends back only
where each one lies (``WrittenChunk``); the parent holds a ``SpilledDocument`` per page, a handle of
a few dozen bytes that reads its document back when a rule or a report asks for it. What is read
stays loaded up to a fixed budget (``_PINNED_BYTES``), so memory no longer grows with the corpus,
and an audit within the budget is read back from disk once.

The findings of a spilled audit go to disk too: the per-document rules' as the chunks come in
(``FindingLog``), then merged with the corpus-wide rules' in one pass (they come in path order)
into ``SpilledFindings``, which the reports read a batch at a time.

The prepared part of the corpus-wide rules (``AnalysedDocument.prepared``) is pickled apart from
the document: the duplicate rules read it once, the reports never, and ``drop_prepared`` forgets it.

The folder lives as long as its ``Spill`` (the handles keep it alive) and is removed when the
last handle goes, when ``close`` is called, or at exit; forked workers share it and never remove
it. Reads use ``os.pread``: a descriptor inherited across a fork has no shared position to race on.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import shutil
import tempfile
import weakref
from array import array
from collections import OrderedDict, deque
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, islice
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterable, Iterator, Sequence

from ..errors import UsageError
from ..findings import Tally

if TYPE_CHECKING:  # pragma: no cover
    from ..findings import Finding
    from ..pipeline import AnalysedDocument

MB = 1024 * 1024
# Documents kept loaded per process. The rules pass over the audit several times, in order (D001
# reads each page six times): the documents read first stay loaded up to _PINNED_BYTES (of pickle,
# about their size loaded), so an audit that fits is read from disk once; past that, an LRU would
# lose every page before its next pass, so only the last _RECENT stay for a rule's window.
_PINNED_BYTES = 128 * MB
_RECENT = 16
# Loaded size per pickled byte, where it is well above one: a page's metrics hold a str object for
# each figure's text and a pointer for each of its nine strings, so they take ~2.8 times their pickle
# (the 5 MB bench corpus; bodies, texts and prepared parts 0.7 to 1.2). Charged at their pickle
# length, the metrics alone could fill the budget three times over: the year-over-year and
# magnitude-slip workers grew to 410-460 MB at 200 MB of text.
METRICS_EXPANSION = 3
_FINDINGS_BATCH = 2048  # findings pickled together (~0.8 MB in memory)


@dataclass(frozen=True, slots=True)
class Extent:
    """Where one pickle lies in a spill file."""
    offset: int
    length: int


# A spilled page's four pickles, in the order a worker writes them: its body (the document without
# its metrics), its prepared part (length 0 when it has none), its normalised text alone (most
# passes of the corpus-wide rules read only that) and its metrics alone (the year-over-year and
# magnitude rules and the reports' metrics read only those).
_BODY, _PREPARED, _TEXT, _METRICS = range(4)
_PARTS = 4


@dataclass(frozen=True)
class WrittenChunk:
    """What a worker sends back for the documents of its chunk: the file, each document's path, and
    per document the offset and length of each of its pickles (``_PARTS`` pairs, flat)."""
    file: str
    paths: tuple[str, ...]
    extents: array


@dataclass(frozen=True)
class SpillWriter:
    """The picklable half of a spill, given to the pool's workers: writes files, owns nothing."""
    folder: str

    def write(self, name: str, documents: Sequence["AnalysedDocument"]) -> WrittenChunk:
        from ..pipeline import AnalysedDocument

        file = os.path.join(self.folder, name)
        extents = array("q")
        try:
            with open(file, "wb") as out:
                for doc in documents:
                    body = AnalysedDocument(doc.document, doc.norm, doc.segmentation, ())
                    extents.extend(_dump_pair(out, body))
                    extents.extend(_dump_pair(out, doc.prepared) if doc.prepared else (0, 0))
                    extents.extend(_dump_pair(out, doc.norm.text))
                    extents.extend(_dump_pair(out, doc.metrics))
        except OSError as exc:
            raise _spill_error(exc, os.path.dirname(self.folder)) from None
        return WrittenChunk(name, tuple(doc.path for doc in documents), extents)


def _spill_error(exc: OSError, folder: str) -> UsageError:
    """A full or unwritable temporary folder, said as what it is (not "writing output")."""
    return UsageError(f"cannot keep analysed documents on disk: {exc.strerror or exc} "
                      "(free space there, point TMPDIR elsewhere, or raise spill-above)", path=folder)


@contextmanager
def scratch_file(documents: Sequence[Any]) -> Iterator[BinaryIO]:
    """A file for a rule's working data that grows with the audit. When `documents` are spilled, an
    unnamed temporary file in the spill folder (where the audit keeps its large temporary data),
    gone when closed or when the process ends, however it ends; a full or unwritable folder is
    said as such. Otherwise the audit is small enough to be held, and so is this: in memory."""
    if not (len(documents) and isinstance(documents[0], SpilledDocument)):
        with io.BytesIO() as scratch:
            yield scratch
        return
    folder = documents[0].spill_folder
    try:
        with tempfile.TemporaryFile(dir=folder) as scratch:
            yield scratch
    except OSError as exc:
        raise UsageError(f"cannot keep a rule's working data on disk: {exc.strerror or exc} "
                         "(free space there, or point TMPDIR elsewhere)", path=os.path.dirname(folder)) from None


_MISSING = object()


def _dump(out, value: Any) -> Extent:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    offset = out.tell()
    out.write(data)
    return Extent(offset, len(data))


def _dump_pair(out, value: Any) -> tuple[int, int]:
    extent = _dump(out, value)
    return extent.offset, extent.length


class Spill:
    """A spill folder, its files' descriptors and the cache of documents read back."""

    def __init__(self, parent: str | None = None):
        try:
            self.folder = tempfile.mkdtemp(prefix="auditor-spill-", dir=parent)
        except OSError as exc:
            raise _spill_error(exc, parent or tempfile.gettempdir()) from None
        self._descriptors: dict[tuple[int, str], int] = {}
        self._pinned: dict[tuple[str, int], Any] = {}
        self._pinned_bytes = 0
        self._recent: OrderedDict[tuple[str, int], Any] = OrderedDict()
        # Where every attached page's pickles lie, as arrays (a page's handle holds only its place
        # here): per page the index of its file in _files and _PARTS (offset, length) pairs.
        self._files: list[str] = []
        self._file_of = array("I")
        self._extents = array("q")
        self._finalizer = weakref.finalize(self, _remove, self.folder, os.getpid(), self._descriptors)

    def writer(self) -> SpillWriter:
        return SpillWriter(self.folder)

    def attach(self, chunk: WrittenChunk, paths: Sequence[str] | None = None) -> list["SpilledDocument"]:
        """Handles for the documents of `chunk`. `paths`: the caller's own strings for the same
        paths, kept instead of the chunk's copies (a million pages' paths are ~100 MB)."""
        first = len(self._file_of)
        self._files.append(chunk.file)
        self._file_of.extend([len(self._files) - 1] * len(chunk.paths))
        self._extents.extend(chunk.extents)
        if paths is not None and list(paths) == list(chunk.paths):
            kept = paths
        else:
            kept = chunk.paths
        return [SpilledDocument(self, path, first + i) for i, path in enumerate(kept)]

    def extent(self, page: int, part: int) -> Extent | None:
        """Where pickle `part` of attached page `page` lies; None for an empty prepared part."""
        at = 2 * (_PARTS * page + part)
        length = self._extents[at + 1]
        return Extent(self._extents[at], length) if length else None

    def file_of(self, page: int) -> str:
        return self._files[self._file_of[page]]

    def forget(self, page: int, part: int) -> None:
        """Pickle `part` of page `page` is no longer needed: it reads as absent."""
        self._extents[2 * (_PARTS * page + part) + 1] = 0

    def read(self, file: str, extent: Extent, expansion: float = 1.0) -> Any:
        """What lies at `extent` of `file`, kept while the budget allows; `expansion`: its loaded
        size per byte of pickle, as the budget counts it."""
        key = (file, extent.offset)
        value = self._pinned.get(key, _MISSING)
        if value is not _MISSING:
            return value
        value = self._recent.get(key, _MISSING)
        if value is not _MISSING:
            self._recent.move_to_end(key)
            return value
        value = self.load(file, extent)
        size = math.ceil(extent.length * expansion)
        if self._pinned_bytes + size <= _PINNED_BYTES:
            self._pinned[key] = value
            self._pinned_bytes += size
        else:
            self._recent[key] = value
            if len(self._recent) > _RECENT:
                self._recent.popitem(last=False)
        return value

    def load(self, file: str, extent: Extent) -> Any:
        """What lies at `extent` of `file`, read now and not kept."""
        data = os.pread(self._descriptor(file), extent.length, extent.offset)
        if len(data) != extent.length:
            raise OSError(f"spill file {file} is shorter than written")
        return pickle.loads(data)

    def findings(self, findings: Iterable["Finding"], name: str) -> "SpilledFindings":
        """`findings` written to a file of this folder, in order, a batch at a time."""
        extents, count, tally = [], 0, Tally()
        try:
            with open(os.path.join(self.folder, name), "wb") as out:
                for batch in _batches(findings, _FINDINGS_BATCH):
                    extents.append(_dump(out, batch))
                    count += len(batch)
                    tally.add(batch)
        except OSError as exc:
            raise _spill_error(exc, os.path.dirname(self.folder)) from None
        return SpilledFindings(self, name, extents, count, tally)

    def views(self, views: Iterable[Any], name: str) -> list["SpilledView"]:
        """`views` (documents as the reports see them: ``local.DocumentView``) written to a file of
        this folder one by one, and a handle for each."""
        handles = []
        try:
            with open(os.path.join(self.folder, name), "wb") as out:
                for view in views:
                    handles.append(SpilledView(self, name, view.path, _dump(out, view)))
        except OSError as exc:
            raise _spill_error(exc, os.path.dirname(self.folder)) from None
        return handles

    def finding_log(self, name: str) -> "FindingLog":
        return FindingLog(self, name)

    def remove(self, name: str) -> None:
        """A file of this folder no longer needed (its descriptor closed first)."""
        fd = self._descriptors.pop((os.getpid(), name), None)
        if fd is not None:
            os.close(fd)
        try:
            os.unlink(os.path.join(self.folder, name))
        except FileNotFoundError:
            pass

    def _descriptor(self, file: str) -> int:
        key = (os.getpid(), file)
        fd = self._descriptors.get(key)
        if fd is None:
            fd = self._descriptors[key] = os.open(os.path.join(self.folder, file), os.O_RDONLY)
        return fd

    def close(self) -> None:
        """Remove the folder now (the handles can no longer be read)."""
        self._pinned.clear()
        self._recent.clear()
        self._finalizer()


def _remove(folder: str, owner: int, descriptors: dict) -> None:
    if os.getpid() != owner:  # a forked worker exiting: the folder is its parent's
        return
    for fd in descriptors.values():
        try:
            os.close(fd)
        except OSError:
            pass
    descriptors.clear()
    shutil.rmtree(folder, ignore_errors=True)


def _loaded(name: str) -> property:
    """An attribute of the document a handle stands for, read back from the spill."""
    return property(lambda self: getattr(self._body_read(), name), doc=f"The document's {name}, read back.")


class _SpilledNorm:
    """A spilled page's ``NormText``: its text read alone (a fifth of the page's pickle: the duplicate
    rules' passes read nothing else), anything else from the whole page."""

    __slots__ = ("_doc",)

    def __init__(self, doc: "SpilledDocument"):
        self._doc = doc

    @property
    def text(self) -> str:
        return self._doc._spill.read(self._doc._file, self._doc._text)

    def __getattr__(self, name: str):
        return getattr(self._doc._body_read().norm, name)


class SpilledDocument:
    """An ``AnalysedDocument`` on disk: its path at hand, the rest read back when asked for.
    It pickles as the document it stands for. A handle holds only its path and its place in the
    spill's arrays: the parent keeps one a page, ~150 bytes with the arrays' share (with an
    ``Extent`` object per pickle, ~650: tracemalloc over the 20 MB bench corpus)."""

    __slots__ = ("path", "_spill", "_page")

    def __init__(self, spill: Spill, path: str, page: int):
        self.path = path
        self._spill, self._page = spill, page

    @property
    def _file(self) -> str:
        return self._spill.file_of(self._page)

    @property
    def _body(self) -> Extent:
        return self._spill.extent(self._page, _BODY)

    @property
    def _prepared(self) -> Extent | None:
        return self._spill.extent(self._page, _PREPARED)

    @property
    def _text(self) -> Extent:
        return self._spill.extent(self._page, _TEXT)

    @property
    def _metrics(self) -> Extent:
        return self._spill.extent(self._page, _METRICS)

    def load(self) -> "AnalysedDocument":
        """The whole document (its body and its metrics)."""
        from ..pipeline import AnalysedDocument

        body = self._body_read()
        return AnalysedDocument(body.document, body.norm, body.segmentation, self.metrics)

    def _body_read(self) -> "AnalysedDocument":  # the document with no metrics
        return self._spill.read(self._file, self._body)

    @property
    def metrics(self) -> Sequence:
        return self._spill.read(self._file, self._metrics, METRICS_EXPANSION)

    @property
    def norm(self) -> "_SpilledNorm":
        return _SpilledNorm(self)

    document = _loaded("document")
    segmentation = _loaded("segmentation")
    original = _loaded("original")

    def original_span(self, norm_start: int, norm_end: int) -> tuple[int, int]:
        return self._body_read().original_span(norm_start, norm_end)

    @property
    def prepared(self) -> dict:
        extent = self._prepared
        return {} if extent is None else self._spill.read(self._file, extent)

    def drop_prepared(self) -> None:
        self._spill.forget(self._page, _PREPARED)

    @property
    def spill_folder(self) -> str:
        return self._spill.folder

    def packed(self) -> "AnalysedDocument":
        return self.load()

    def __reduce__(self):
        from ..pipeline import AnalysedDocument

        doc = self.load()
        return AnalysedDocument, (doc.document, doc.norm, doc.segmentation, doc.metrics, self.prepared)

    def __repr__(self) -> str:
        return f"SpilledDocument({self.path!r})"


def held_or_spilled(views: Iterable[Any], held_chars: int, spill: Callable[[], Spill]) -> Sequence[Any]:
    """`views` (``local.DocumentView``s, made one at a time) as a sequence: held while their text
    is under `held_chars` characters, all of them on disk past it (`spill()` gives the folder), so
    a large audit read back takes no more memory than a small one."""
    held: deque = deque()
    chars = 0
    views = iter(views)
    for view in views:
        held.append(view)
        chars += len(view.original)
        if chars > held_chars:
            return spill().views(chain(_drain(held), views), "views")
    return tuple(held)


def _drain(held: deque) -> Iterator[Any]:
    while held:  # the first views let go as they are written
        yield held.popleft()


class SpilledView:
    """A document as the reports see it (``local.DocumentView``: original text, articles, packed
    metrics), on disk: its path at hand, anything else read back through the spill's cache. The
    reports read the documents in order, each a few times, so the budget and the recent pages keep
    them from being read again; memory no longer grows with the audit read back
    (``auditor report``). It pickles as the view it stands for."""

    __slots__ = ("path", "_spill", "_file", "_extent")

    def __init__(self, spill: Spill, file: str, path: str, extent: Extent):
        self.path = path
        self._spill, self._file, self._extent = spill, file, extent

    def load(self) -> Any:
        return self._spill.read(self._file, self._extent, METRICS_EXPANSION)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy and pickle probe for hooks: the view's are in __reduce__
            raise AttributeError(name)
        return getattr(self.load(), name)

    def __reduce__(self):
        return _itself, (self.load(),)

    def __repr__(self) -> str:
        return f"SpilledView({self.path!r})"


def _itself(value: Any) -> Any:
    return value


def _batches(items: Iterable, size: int) -> Iterator[list]:
    items = iter(items)
    while batch := list(islice(items, size)):
        yield batch


class SpilledFindings(Sequence["Finding"]):
    """Findings on disk, in order: a pass over them reads one batch at a time, an index reads its
    batch (the last one read is kept). What ``audit_documents`` returns for a spilled audit, so
    the parent does not hold the findings of the whole corpus (~400 bytes each) while the rules
    run and the reports are written."""

    def __init__(self, spill: Spill, file: str, extents: list[Extent], count: int, tally: "Tally"):
        self._spill, self._file, self._extents, self._count = spill, file, extents, count
        self.tally = tally  # counted as they were written: a summary need not read them again
        self._batch: tuple[int, list] = (-1, [])

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator["Finding"]:
        for extent in self._extents:
            yield from self._spill.load(self._file, extent)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._count))]
        if i < 0:
            i += self._count
        if not 0 <= i < self._count:
            raise IndexError(i)
        k = i // _FINDINGS_BATCH
        if self._batch[0] != k:
            self._batch = (k, self._spill.load(self._file, self._extents[k]))
        return self._batch[1][i - k * _FINDINGS_BATCH]

    def __repr__(self) -> str:
        return f"SpilledFindings({self._count} findings in {self._file})"

    def rewritten(self, findings: Iterable["Finding"]) -> "SpilledFindings":
        """`findings` (made from these, one by one) written in their place."""
        name = self._file + "+"
        out = self._spill.findings(findings, name)
        self._spill.remove(self._file)
        return out


class FindingLog:
    """Findings appended as the pool's chunks come in (each chunk's in ``run_rules`` order), in
    batches of ``_FINDINGS_BATCH``: read back as ``SpilledFindings``."""

    def __init__(self, spill: Spill, name: str):
        self._spill, self._name = spill, name
        self._extents: list[Extent] = []
        self._buffer: list = []
        self._count = 0
        self._tally = Tally()
        try:
            self._out = open(os.path.join(spill.folder, name), "wb")
        except OSError as exc:
            raise _spill_error(exc, os.path.dirname(spill.folder)) from None

    def extend(self, findings: Sequence["Finding"]) -> None:
        self._buffer.extend(findings)
        self._count += len(findings)
        self._tally.add(findings)
        while len(self._buffer) >= _FINDINGS_BATCH:
            self._write(self._buffer[:_FINDINGS_BATCH])
            del self._buffer[:_FINDINGS_BATCH]

    def close(self) -> SpilledFindings:
        if self._buffer:
            self._write(self._buffer)
            self._buffer = []
        self._out.close()
        return SpilledFindings(self._spill, self._name, self._extents, self._count, self._tally)

    def _write(self, batch: list) -> None:
        try:
            self._extents.append(_dump(self._out, batch))
        except OSError as exc:
            self._out.close()
            raise _spill_error(exc, os.path.dirname(self._spill.folder)) from None
