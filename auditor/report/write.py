"""Writing outputs so that a failure never leaves a half-written file behind."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import UsageError

_BATCH_CHARS = 1 << 20  # characters of a streamed report joined for one write (pieces: a record, or a run of them)


def write_output(path: str | os.PathLike | None, data: str | bytes | Iterable[str]) -> None:
    """Write to `path` atomically (temp file in the same folder, then rename), or to stdout if None.
    `data` may be the pieces of a report (``iter_json``, ``iter_html``): written as they come, so a
    report of hundreds of megabytes is never one string in memory; an error while they are made
    leaves nothing behind, as an error while writing does."""
    if path is None or str(path) == "-":
        if isinstance(data, (str, bytes)):
            _write_stdout(data)
        else:
            for batch in batches(data):
                _write_stdout(batch)
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError("output path is a folder", path=str(target))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise UsageError(f"cannot write output: {exc.strerror}", path=str(target)) from None
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(data, (str, bytes)):
                out.write(data.encode("utf-8") if isinstance(data, str) else data)
            else:
                for batch in batches(data):
                    out.write(batch.encode("utf-8"))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is shared like any file
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):  # a full disk, a quota, the folder gone: one line, exit 2
            raise UsageError(f"cannot write output: {exc.strerror or exc}", path=str(target)) from None
        raise


def batches(pieces: Iterable[str], limit: int = _BATCH_CHARS) -> Iterator[str]:
    """The pieces joined into texts of about `limit` characters (one write, one encode each; the
    joining in C). By size, not by count: a piece may be one record or a worker's run of
    thousands (auditor/report/parallel.py), and a count of runs would hold the whole report."""
    batch: list[str] = []
    size = 0
    for piece in pieces:
        batch.append(piece)
        size += len(piece)
        if size >= limit:
            yield "".join(batch)
            batch, size = [], 0
    if batch:
        yield "".join(batch)


def _write_stdout(data: str | bytes) -> None:
    """All of `data` to stdout, or an OSError. On a full disk behind `> report.json`, write(2)
    first writes part and returns its length; the buffered file object then dropped the rest without
    an error, so the bytes go to the descriptor here, in a loop that sees the ENOSPC."""
    stream = sys.stdout
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test runner's capture)
        if isinstance(data, bytes):
            stream.buffer.write(data)
        else:
            stream.write(data)
        stream.flush()
        return
    if isinstance(data, str):
        data = data.encode(getattr(stream, "encoding", None) or "utf-8", getattr(stream, "errors", None) or "strict")
    stream.flush()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
