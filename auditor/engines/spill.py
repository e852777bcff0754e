"""Analysed documents kept on disk between the stages of a large audit.

The rules need the whole audit together, so the parent used to hold every analysed document from
the moment a worker sent it until the reports were written: about 3 bytes per byte of input,
growing with the corpus. Above ``Config.spill_above`` bytes of input, a pool worker pickles the
documents of its chunk into a file of the spill folder instead (``SpillWriter``) and sends back only
where each one lies (``WrittenChunk``); the parent holds a ``SpilledDocument`` per page, a handle of
a few dozen bytes that reads its document back when a rule or a report asks for it. What is read
stays loaded up to a fixed budget (``_PINNED_BYTES``), so memory no longer grows with the corpus,
and an audit within the budget is read back from disk once.

The prepared part of the corpus-wide rules (``AnalysedDocument.prepared``) is pickled apart from
the document: the duplicate rules read it once, the reports never, and ``drop_prepared`` forgets it.

The folder lives as long as its ``Spill`` (the handles keep it alive) and is removed when the
last handle goes, when ``close`` is called, or at exit; forked workers share it and never remove
it. Reads use ``os.pread``: a descriptor inherited across a fork has no shared position to race on.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from ..pipeline import AnalysedDocument

MB = 1024 * 1024
# Documents kept loaded per process. The rules pass over the audit several times, in order (D001
# reads each page six times): the documents read first stay loaded up to _PINNED_BYTES (of pickle,
# about their size loaded), so an audit that fits is read from disk once; past that, an LRU would
# lose every page before its next pass, so only the last _RECENT stay for a rule's window.
_PINNED_BYTES = 128 * MB
_RECENT = 16


@dataclass(frozen=True)
class Extent:
    """Where one pickle lies in a spill file."""
    offset: int
    length: int


@dataclass(frozen=True)
class WrittenChunk:
    """What a worker sends back for the documents of its chunk: the file, and per document its
    path and the extents of its body and of its prepared part (None when empty)."""
    file: str
    entries: tuple[tuple[str, Extent, Extent | None], ...]


@dataclass(frozen=True)
class SpillWriter:
    """The picklable half of a spill, given to the pool's workers: writes files, owns nothing."""
    folder: str

    def write(self, name: str, documents: Sequence["AnalysedDocument"]) -> WrittenChunk:
        from ..pipeline import AnalysedDocument

        file = os.path.join(self.folder, name)
        entries = []
        try:
            with open(file, "wb") as out:
                for doc in documents:
                    body = AnalysedDocument(doc.document, doc.norm, doc.segmentation, doc.metrics)
                    extents = [_dump(out, body), _dump(out, doc.prepared) if doc.prepared else None]
                    entries.append((doc.path, *extents))
        except OSError as exc:
            raise _spill_error(exc, os.path.dirname(self.folder)) from None
        return WrittenChunk(name, tuple(entries))


def _spill_error(exc: OSError, folder: str) -> UsageError:
    """A full or unwritable temporary folder, said as what it is (not "writing output")."""
    return UsageError(f"cannot keep analysed documents on disk: {exc.strerror or exc} "
                      "(free space there, point TMPDIR elsewhere, or raise spill-above)", path=folder)


_MISSING = object()


def _dump(out, value: Any) -> Extent:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    offset = out.tell()
    out.write(data)
    return Extent(offset, len(data))


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
        self._finalizer = weakref.finalize(self, _remove, self.folder, os.getpid(), self._descriptors)

    def writer(self) -> SpillWriter:
        return SpillWriter(self.folder)

    def attach(self, chunk: WrittenChunk) -> list["SpilledDocument"]:
        return [SpilledDocument(self, path, chunk.file, body, prepared) for path, body, prepared in chunk.entries]

    def read(self, file: str, extent: Extent) -> Any:
        key = (file, extent.offset)
        value = self._pinned.get(key, _MISSING)
        if value is not _MISSING:
            return value
        value = self._recent.get(key, _MISSING)
        if value is not _MISSING:
            self._recent.move_to_end(key)
            return value
        data = os.pread(self._descriptor(file), extent.length, extent.offset)
        if len(data) != extent.length:
            raise OSError(f"spill file {file} is shorter than written")
        value = pickle.loads(data)
        if self._pinned_bytes + extent.length <= _PINNED_BYTES:
            self._pinned[key] = value
            self._pinned_bytes += extent.length
        else:
            self._recent[key] = value
            if len(self._recent) > _RECENT:
                self._recent.popitem(last=False)
        return value

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
    return property(lambda self: getattr(self.load(), name), doc=f"The document's {name}, read back.")


class SpilledDocument:
    """An ``AnalysedDocument`` on disk: its path at hand, the rest read back when asked for.
    It pickles as the document it stands for."""

    __slots__ = ("path", "_spill", "_file", "_body", "_prepared")

    def __init__(self, spill: Spill, path: str, file: str, body: Extent, prepared: Extent | None):
        self.path = path
        self._spill, self._file, self._body, self._prepared = spill, file, body, prepared

    def load(self) -> "AnalysedDocument":
        return self._spill.read(self._file, self._body)

    document = _loaded("document")
    norm = _loaded("norm")
    segmentation = _loaded("segmentation")
    metrics = _loaded("metrics")
    original = _loaded("original")

    def original_span(self, norm_start: int, norm_end: int) -> tuple[int, int]:
        return self.load().original_span(norm_start, norm_end)

    @property
    def prepared(self) -> dict:
        return {} if self._prepared is None else self._spill.read(self._file, self._prepared)

    def drop_prepared(self) -> None:
        self._prepared = None

    def packed(self) -> "AnalysedDocument":
        return self.load()

    def __reduce__(self):
        from ..pipeline import AnalysedDocument

        doc = self.load()
        return AnalysedDocument, (doc.document, doc.norm, doc.segmentation, doc.metrics, self.prepared)

    def __repr__(self) -> str:
        return f"SpilledDocument({self.path!r})"
