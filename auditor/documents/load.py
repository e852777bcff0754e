"""Read documents from disk: plain text (any common Chinese encoding), .docx, .pdf and .html.

Every failure is an :class:`~auditor.errors.InputError` carrying the path and one line of
explanation, so the CLI can print it and exit 2.  Nothing here guesses silently: when the
bytes do not decode cleanly we say so instead of substituting replacement characters,
because an auditor that invents characters would report problems that are not there.
"""

from __future__ import annotations

import codecs
import errno
import fnmatch
import io
import logging
import os
import re
import stat
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from hashlib import sha256 as _sha256
from html.parser import HTMLParser

from auditor.errors import InputError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SUPPORTED_SUFFIXES",
    "Document",
    "iter_document_paths",
    "load_document",
    "load_text",
]

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".docx", ".pdf", ".html", ".htm")
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

# Zip-bomb limits for .docx: the uncompressed total may not exceed this many times the
# --max-bytes limit nor this absolute cap, and (for archives big enough to matter) the
# overall compression ratio must stay below _DOCX_MAX_RATIO.  Real .docx files compress
# their XML 5-20x; a ratio in the hundreds means long runs of identical bytes.
_DOCX_SIZE_FACTOR = 20
_DOCX_ABSOLUTE_CAP = 512 * 1024 * 1024
_DOCX_MAX_RATIO = 200
_DOCX_RATIO_FLOOR = 1024 * 1024  # below 1 MB uncompressed nothing can hurt us

# Share of "ordinary" characters a GB18030 (or BOM-less UTF-16) decoding must reach.
# Those decoders accept most byte pairs, so a clean decode alone proves little; text that
# is mostly hanzi/ASCII/Chinese punctuation is what a real Chinese document looks like.
_PLAUSIBLE_SHARE = 0.9
# More than this share of C0 control characters (other than whitespace) means binary.
_MAX_CONTROL_SHARE = 0.1
# A failing UTF-8 decode whose valid prefix already holds this many multi-byte characters
# is damaged UTF-8, not GB18030.  Measured on the fixtures' lines re-encoded as GBK, a
# valid UTF-8 prefix of 3 such characters occurs in 0.3% of lines and 4 in none; 8 keeps
# real GBK text safe while still naming the damage in long UTF-8 files precisely.
_UTF8_EVIDENCE = 8

_FORMAT_BY_SUFFIX = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".docx": "docx",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
}


@dataclass(frozen=True, slots=True)
class Document:
    """One document as read from disk.

    ``text`` is the text exactly as decoded (no newline translation, BOM removed); for
    docx/pdf/html it is the extracted visible text.  ``encoding`` names how it was read:
    a codec name for text files, or ``'docx'``, ``'pdf'``, ``'html:<charset>'``.
    """

    path: str
    text: str
    encoding: str
    sha256: str
    format: str
    size: int


# --------------------------------------------------------------------------- paths


def _display_path(path: str | os.PathLike[str] | os.PathLike[bytes] | bytes) -> str:
    """The path as the user gave it, with posix separators (relative stays relative)."""
    text = os.fsdecode(os.fspath(path))
    if os.sep != "/":
        text = text.replace(os.sep, "/")
    if os.altsep and os.altsep != "/":
        text = text.replace(os.altsep, "/")
    return text


def _format_for(display: str) -> str:
    """Format name from the suffix; anything unknown is tried as plain text."""
    suffix = os.path.splitext(display)[1].lower()
    return _FORMAT_BY_SUFFIX.get(suffix, "txt")


def _human_size(n: int) -> str:
    """Sizes for messages: bytes for tiny limits (tests, odd flags), MB otherwise."""
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


# Files skipped when a folder is walked (a file named on the command line is always read):
# a folder of drafts usually carries its own README, which is not a page to audit.
DEFAULT_EXCLUDE = ("README*", "CHANGELOG*", "LICENSE*", "CONTRIBUTING*")


def iter_document_paths(paths: Iterable[str | os.PathLike[str]],
                        exclude: Sequence[str] = DEFAULT_EXCLUDE) -> Iterator[str]:
    """Yield the document paths named by ``paths``.

    Files given are yielded as given (any suffix is tried as text); directories are
    walked recursively in sorted order yielding only SUPPORTED_SUFFIXES, skipping hidden
    files/dirs; a missing path raises InputError; symlink loops do not hang because the
    real path of every directory entered is remembered.  A file reached twice through
    symlinks inside walked directories is yielded once.  Names matching an `exclude` glob
    are skipped inside walked directories.
    """
    seen_dirs: set[str] = set()
    seen_files: set[str] = set()
    for given in paths:
        display = _display_path(given)
        if os.path.isdir(display):
            yield from _walk(display, seen_dirs, seen_files, tuple(exclude))
        elif os.path.exists(display):
            yield display
        elif os.path.islink(display):
            raise InputError(_broken_link(display), path=display)
        else:
            raise InputError("no such file or directory", path=display)


def _broken_link(path: str) -> str:
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop (too many levels of symbolic links)"
    return "broken symbolic link (its target does not exist)"


def _walk(root: str, seen_dirs: set[str], seen_files: set[str], exclude: tuple[str, ...] = ()) -> Iterator[str]:
    """Depth-first walk with entries sorted by name; an explicit stack, not recursion,
    so very deep trees cannot hit the recursion limit."""
    stack: list[Iterator[os.DirEntry[str]]] = []
    real = os.path.realpath(root)
    if real in seen_dirs:
        return
    seen_dirs.add(real)
    stack.append(iter(_sorted_entries(root)))
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith(".") or any(fnmatch.fnmatch(entry.name, g) for g in exclude):
            continue
        path = _display_path(entry.path)
        try:
            is_dir = entry.is_dir()  # follows symlinks, so linked folders are walked
            is_file = not is_dir and entry.is_file()
        except OSError:
            continue  # vanished or unreadable entry; nothing to yield
        if is_dir:
            real = os.path.realpath(entry.path)
            if real in seen_dirs:
                continue  # symlink loop or a folder already walked through another link
            seen_dirs.add(real)
            stack.append(iter(_sorted_entries(path)))
        elif is_file and os.path.splitext(entry.name)[1].lower() in SUPPORTED_SUFFIXES:
            real = os.path.realpath(entry.path)
            if real in seen_files:
                continue
            seen_files.add(real)
            yield path


def _sorted_entries(directory: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as it:
            return sorted(it, key=lambda e: e.name)
    except PermissionError:
        raise InputError("cannot read directory (permission denied)", path=directory) from None
    except OSError as exc:
        raise InputError(f"cannot read directory ({exc.strerror or exc})",
                         path=directory) from None


# --------------------------------------------------------------------------- loading


def load_document(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES,
                  encoding: str | None = None) -> Document:
    """Read one document.  ``encoding`` forces the codec for txt/md/html (ignored for docx
    and pdf, whose formats carry their own encoding)."""
    display = _display_path(path)
    data = _read_bytes(display, max_bytes)
    fmt = _format_for(display)
    if fmt == "docx":
        text, used = _docx_text(data, display, max_bytes), "docx"
    elif fmt == "pdf":
        text, used = _pdf_text(data, display), "pdf"
    elif fmt == "html":
        text, used = _html_text(data, display, encoding)
    else:
        text, used = load_text(data, path=display, encoding=encoding)
    return Document(path=display, text=text, encoding=used, sha256=_sha256(data).hexdigest(),
                    format=fmt, size=len(data))


def _read_bytes(display: str, max_bytes: int) -> bytes:
    """Open once in binary mode and read at most max_bytes + 1 bytes."""
    try:
        st = os.stat(display)
    except FileNotFoundError:
        raise InputError("no such file", path=display) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror or exc})", path=display) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("is a directory, not a file", path=display)
    if not stat.S_ISREG(st.st_mode):
        # A FIFO or device would block or never end; refuse rather than hang.
        raise InputError("not a regular file", path=display)
    if st.st_size > max_bytes:  # refused before reading a byte: no time, no memory
        raise InputError(f"file is {_human_size(st.st_size)}, over the limit of "
                         f"{_human_size(max_bytes)} (--max-bytes)", path=display)
    try:
        with open(display, "rb") as fh:
            data = fh.read(max_bytes + 1)
            if len(data) > max_bytes:
                size = max(os.fstat(fh.fileno()).st_size, len(data))
                raise InputError(f"file is {_human_size(size)}, over the limit of "
                                 f"{_human_size(max_bytes)} (--max-bytes)", path=display)
    except PermissionError:
        raise InputError("cannot read file (permission denied)", path=display) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path=display) from None
    except FileNotFoundError:
        raise InputError("no such file", path=display) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror or exc})", path=display) from None
    if not data:
        raise InputError("file is empty", path=display)
    return data


# --------------------------------------------------------------------------- text decoding

# Signatures of common binary formats.  Only ones containing bytes that plain text never
# starts with (or that are unmistakable), so a real text file is never rejected by them.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"PK\x03\x04", "ZIP archive, e.g. .docx/.xlsx"),
    (b"PK\x05\x06", "ZIP archive"),
    (b"\x7fELF", "ELF executable"),
    (b"\x1f\x8b", "gzip archive"),
    (b"BZh91AY&SY", "bzip2 archive"),
    (b"\xfd7zXZ\x00", "xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\x28\xb5\x2f\xfd", "zstd archive"),
    (b"%PDF-", "PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old Office file, e.g. .doc/.xls"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"\x00asm", "WebAssembly module"),
    (b"MZ\x90\x00", "Windows executable"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
)

# BOMs, longest first: the UTF-32-LE BOM begins with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
)

# Characters an ordinary Chinese document is made of: ASCII, Latin letters (pinyin),
# general punctuation (“” — …), letterlike/number forms (℃ № Ⅲ ①), CJK symbols and
# punctuation, CJK ideographs (incl. Ext A and compatibility), fullwidth forms.
_IMPLAUSIBLE = re.compile(
    "[^\t\n\r\f\v\x20-\x7e\u00a0-\u024f\u2000-\u206f\u2100-\u218f\u2460-\u24ff"
    "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]"
)
_NOT_IDEOGRAPH = re.compile("[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CONTROL = re.compile("[\x01-\x08\x0e-\x1f\x7f]")


def load_text(data: bytes, *, path: str = "<bytes>",
              encoding: str | None = None) -> tuple[str, str]:
    """Decode txt/md bytes; return (text, encoding).  Raises InputError, nothing else.

    Order: BOM; strict UTF-8; BOM-less UTF-16 recognised by its NUL-byte pattern;
    strict GB18030 (covers GBK/GB2312) when the result looks like Chinese text.
    """
    if not data:
        raise InputError("file is empty", path=path)
    _reject_magic(data, path)
    if encoding is not None:
        text, used = _decode_forced(data, path, encoding)
    else:
        text, used = _decode_auto(data, path)
    _reject_empty_text(text, path)
    return text, used


def _reject_magic(data: bytes, path: str) -> None:
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise InputError(f"looks like a binary file ({kind}), not text", path=path)


# Whitespace and the invisible characters the normaliser drops: text made only of these is empty.
_BLANK = re.compile("[\\s\ufeff\u200b-\u200d\u2060\u00ad]*")


def _reject_empty_text(text: str, path: str) -> None:
    # Empty bytes were refused earlier, so an empty text here is a lone BOM (or two, or spaces).
    if _BLANK.fullmatch(text):
        raise InputError("file has no text", path=path)


def _decode_forced(data: bytes, path: str, encoding: str) -> tuple[str, str]:
    """The user named the codec: use it as is, but still refuse NULs and report errors."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r} (--encoding)", path=path) from None
    try:
        text = data.decode(name)
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot decode as {name}: {_describe_error(exc)}", path=path) from None
    except Exception as exc:  # some codecs (e.g. 'idna', 'punycode') raise other errors
        raise InputError(f"cannot decode as {name} ({type(exc).__name__})", path=path) from None
    text = text.removeprefix("\ufeff")  # Document.text never carries a BOM
    if "\x00" in text:
        raise InputError(f"looks like a binary file (NUL characters after decoding as {name}), "
                         "not text", path=path)
    return text, name


def _decode_auto(data: bytes, path: str) -> tuple[str, str]:
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            return _decode_with_bom(data[len(bom):], path, codec, label, len(bom))

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error: UnicodeDecodeError | None = exc
    else:
        if "\x00" not in text:
            _reject_controls(text, path)
            return text, "utf-8"
        utf8_error = None

    if b"\x00" in data:
        found = _try_utf16_without_bom(data)
        if found is not None:
            _reject_controls(found[0], path)
            return found
        raise InputError("looks like a binary file (contains NUL bytes), not text", path=path)

    assert utf8_error is not None  # valid UTF-8 without NULs returned above
    # Text that is clearly UTF-8 up to the error is damaged UTF-8: re-reading it as
    # GB18030 would only produce mojibake (which the plausibility test also rejects).
    if _utf8_evidence(data[:utf8_error.start]) >= _UTF8_EVIDENCE:
        raise InputError(_utf8_message(utf8_error, tried_gb=False), path=path)
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise InputError(_utf8_message(utf8_error, tried_gb=True), path=path) from None
    if _plausible_share(text) < _PLAUSIBLE_SHARE:
        raise InputError(_utf8_message(utf8_error, tried_gb=True), path=path)
    _reject_controls(text, path)
    return text, "gb18030"


def _decode_with_bom(body: bytes, path: str, codec: str, label: str,
                     bom_len: int) -> tuple[str, str]:
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        # Offsets in the message count from the start of the file, BOM included.
        raise InputError(f"cannot decode as {codec.upper()} (BOM present): "
                         f"{_describe_error(exc, shift=bom_len)}", path=path) from None
    if "\x00" in text:
        raise InputError("looks like a binary file (NUL characters), not text", path=path)
    _reject_controls(text, path)
    return text, label


def _try_utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 without a BOM: ASCII characters (newlines, digits) put a NUL byte in the
    high half of their code unit, while CJK characters rarely have one (only the 1 in 256
    whose low byte is 0, like 一 U+4E00).  So the parity holding most NULs gives the byte
    order.  Accept only a strict decode that looks like a document; binary data with
    NULs fails that test."""
    if len(data) % 2:
        return None
    nul_even = data[0::2].count(0)
    nul_odd = data[1::2].count(0)
    if nul_even == nul_odd:
        return None
    order = ("utf-16-le", "utf-16-be") if nul_odd > nul_even else ("utf-16-be", "utf-16-le")
    for codec in order:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text and _plausible_share(text) >= _PLAUSIBLE_SHARE:
            return text, codec
    return None


def _utf8_evidence(prefix: bytes) -> int:
    """Number of multi-byte UTF-8 characters in a prefix that decoded cleanly (lead bytes
    are the bytes >= 0xC0; deleting everything else and measuring is fast in C)."""
    return len(prefix.translate(None, bytes(range(0xC0))))


def _utf8_message(exc: UnicodeDecodeError, *, tried_gb: bool) -> str:
    truncated = exc.reason == "unexpected end of data"
    if truncated:
        detail = ("UTF-8 text is truncated "
                  f"(incomplete character at offset {exc.start} at end of file)")
        return f"cannot decode: {detail}" + (" and not GB18030" if tried_gb else "")
    detail = f"invalid byte 0x{exc.object[exc.start]:02x} at offset {exc.start}"
    if tried_gb:
        return f"cannot decode: not UTF-8 ({detail}) nor GB18030"
    return f"cannot decode: damaged UTF-8 ({detail})"


def _describe_error(exc: UnicodeDecodeError, *, shift: int = 0) -> str:
    if exc.reason in ("unexpected end of data", "truncated data") or exc.start >= len(exc.object):
        return f"truncated at end of file (incomplete character at offset {exc.start + shift})"
    return f"invalid byte 0x{exc.object[exc.start]:02x} at offset {exc.start + shift}"


def _plausible_share(text: str) -> float:
    """Share of characters an ordinary Chinese document is made of.  Ideographs count
    only when they are in GB2312 (the 6763 common hanzi): decoding arbitrary bytes as
    GB18030 mostly yields rare GBK-extension ideographs, real prose mostly common ones."""
    if not text:
        return 1.0
    odd = len(text) - len(_IMPLAUSIBLE.sub("", text))
    ideographs = _NOT_IDEOGRAPH.sub("", text)
    # GB2312 encodes each ideograph it has as 2 bytes and drops the rest.
    common = len(ideographs.encode("gb2312", errors="ignore")) // 2
    rare = len(ideographs) - common
    return 1.0 - (odd + rare) / len(text)


def _reject_controls(text: str, path: str) -> None:
    """Valid UTF-8/UTF-16 can still be binary: many C0 control characters give it away."""
    if not _CONTROL.search(text):
        return  # the common case, decided without copying the text
    controls = len(text) - len(_CONTROL.sub("", text))
    if controls > _MAX_CONTROL_SHARE * len(text):
        raise InputError("looks like a binary file (control characters), not text", path=path)


# --------------------------------------------------------------------------- docx


def _docx_text(data: bytes, path: str, max_bytes: int) -> str:
    _check_docx_archive(data, path, max_bytes)
    # Imported here: python-docx (and lxml) cost import time that plain-text runs never need.
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
        lines = list(_docx_block_lines(document))
    except PackageNotFoundError as exc:
        raise InputError(f"not a valid .docx ({_first_line(exc)})", path=path) from None
    except Exception as exc:  # lxml XMLSyntaxError, KeyError, ValueError on corrupt parts
        raise InputError(f"not a valid .docx ({type(exc).__name__}: {_first_line(exc)})",
                         path=path) from None
    text = "\n".join(lines)
    if not text.strip():
        raise InputError("no text in document", path=path)
    return text


def _check_docx_archive(data: bytes, path: str, max_bytes: int) -> None:
    """Validate the zip and refuse zip bombs before python-docx inflates anything."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError("not a valid .docx (this is an old Word 97-2003 .doc file; "
                         "save it as .docx)", path=path)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise InputError(f"not a valid .docx (not a ZIP archive: {_first_line(exc)})",
                         path=path) from None
    except Exception as exc:  # truncated/odd central directories raise assorted errors
        raise InputError(f"not a valid .docx ({type(exc).__name__}: {_first_line(exc)})",
                         path=path) from None
    # Declared sizes: zipfile stops inflating a member at its declared size, so these
    # bound what python-docx can be made to decompress.
    uncompressed = sum(info.file_size for info in infos)
    compressed = sum(info.compress_size for info in infos)
    limit = min(_DOCX_SIZE_FACTOR * max_bytes, _DOCX_ABSOLUTE_CAP)
    if uncompressed > limit:
        raise InputError(f"looks like a zip bomb: {_human_size(uncompressed)} uncompressed, "
                         f"over the limit of {_human_size(limit)}", path=path)
    if uncompressed > _DOCX_RATIO_FLOOR and uncompressed > _DOCX_MAX_RATIO * max(compressed, 1):
        ratio = uncompressed // max(compressed, 1)
        raise InputError(f"looks like a zip bomb: compression ratio {ratio}:1 "
                         f"({_human_size(uncompressed)} from {_human_size(compressed)})",
                         path=path)
    names = {info.filename for info in infos}
    if "word/document.xml" not in names:
        raise InputError("not a valid .docx (the ZIP has no word/document.xml)", path=path)
    _check_docx_inflation(data, infos, path, limit)


def _check_docx_inflation(data: bytes, infos: list[zipfile.ZipInfo], path: str, limit: int) -> None:
    """Inflate every member in bounded steps, counting, before python-docx reads it: the sizes a
    ZIP declares can lie, and zipfile inflates a deflated member whole in memory before cutting it
    to its declared size, so a small file could take gigabytes."""
    total = 0
    for info in infos:
        if info.compress_type == zipfile.ZIP_STORED:
            size = info.compress_size
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            size = _inflated_size(data, info, path, min(info.file_size, limit - total))
        else:  # Word and LibreOffice write only these two; others are not bounded by zipfile
            raise InputError(f"not a valid .docx ({info.filename} uses ZIP compression method "
                             f"{info.compress_type})", path=path)
        if size > info.file_size:
            raise InputError(f"looks like a zip bomb: {info.filename} inflates past the "
                             f"{_human_size(info.file_size)} its header declares", path=path)
        total += size
        if total > limit:
            raise InputError(f"looks like a zip bomb: over {_human_size(limit)} uncompressed", path=path)


def _inflated_size(data: bytes, info: zipfile.ZipInfo, path: str, cap: int) -> int:
    """How many bytes a deflated member inflates to, stopping once past `cap`."""
    start = info.header_offset
    header = data[start:start + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise InputError(f"not a valid .docx (bad ZIP entry for {info.filename})", path=path)
    name_len, extra_len = int.from_bytes(header[26:28], "little"), int.from_bytes(header[28:30], "little")
    begin = start + 30 + name_len + extra_len
    pending = data[begin:begin + info.compress_size]
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    size = 0
    try:
        while pending and not inflater.eof and size <= cap:
            size += len(inflater.decompress(pending, 1 << 20))
            pending = inflater.unconsumed_tail
        if size <= cap:
            size += len(inflater.flush())
    except zlib.error as exc:
        raise InputError(f"not a valid .docx ({info.filename}: {_first_line(exc)})", path=path) from None
    return size


def _docx_block_lines(container: object) -> Iterator[str]:
    """Paragraph texts in body order; tables row by row, each cell's content in turn
    (nested tables included).  Horizontally merged cells appear once."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for block in container.iter_inner_content():  # type: ignore[attr-defined]
        if isinstance(block, Paragraph):
            yield block.text
        elif isinstance(block, Table):
            for row in block.rows:
                seen: set[int] = set()
                for cell in row.cells:
                    # A merged cell is returned once per grid column it spans.
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    yield from _docx_block_lines(cell)


# --------------------------------------------------------------------------- pdf


def _pdf_text(data: bytes, path: str) -> str:
    # pypdf reports recoverable damage through the 'pypdf' logger and warnings; those
    # would land on the user's stderr between our report lines, so silence them here.
    logger = logging.getLogger("pypdf")
    old_level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pages = _pdf_pages(data, path)
    finally:
        logger.setLevel(old_level)
    text = "\n\n".join(pages)
    if not text.strip():
        raise InputError("PDF has no text layer (scanned image?); run OCR first", path=path)
    return text


def _pdf_pages(data: bytes, path: str) -> list[str]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, WrongPasswordError

    # pypdf raises many exception types (KeyError, ValueError, AssertionError, ...) on
    # damaged files, so every failure that is not ours becomes "not a valid PDF".
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise InputError("encrypted PDF (needs a password)", path=path)
            except (WrongPasswordError, FileNotDecryptedError):
                raise InputError("encrypted PDF (needs a password)", path=path) from None
            except DependencyError as exc:
                raise InputError(f"encrypted PDF ({_first_line(exc)})", path=path) from None
        return [page.extract_text() or "" for page in reader.pages]
    except InputError:
        raise
    except (FileNotDecryptedError, WrongPasswordError):
        raise InputError("encrypted PDF (needs a password)", path=path) from None
    except DependencyError as exc:  # e.g. AES decryption without the cryptography package
        raise InputError(f"cannot read PDF ({_first_line(exc)})", path=path) from None
    except RecursionError:
        raise InputError("not a valid PDF (nested too deeply)", path=path) from None
    except Exception as exc:
        raise InputError(f"not a valid PDF ({type(exc).__name__}: {_first_line(exc)})",
                         path=path) from None


# --------------------------------------------------------------------------- html

_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""",
                           re.IGNORECASE)

# Browsers (WHATWG Encoding) read these labels with a superset decoder; so do we.
_HTML_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}

# Not "head" itself: sloppy pages often never close it, and browsers end it implicitly
# at the first body content; its only text-bearing children are listed here anyway.
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "title"})
_BLOCK_TAGS = frozenset({
    "p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
    "tr", "section", "article", "header", "footer", "table", "blockquote", "pre", "hr",
    "main", "nav", "aside", "figure", "figcaption", "address", "form", "fieldset", "caption",
    "thead", "tbody", "tfoot", "body", "html",
    # Table cells too: otherwise <td>1</td><td>2</td> would read as the number "12".
    "td", "th",
})
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")


def _html_text(data: bytes, path: str, encoding: str | None) -> tuple[str, str]:
    source, charset = _decode_html(data, path, encoding)
    parser = _VisibleText()
    try:
        parser.feed(_drop_unterminated_tail(source))
        parser.close()
    except Exception as exc:  # html.parser is lenient; this is defence in depth
        raise InputError(f"not valid HTML ({type(exc).__name__}: {_first_line(exc)})",
                         path=path) from None
    text = parser.text()
    if not text.strip():
        raise InputError("no text in document", path=path)
    return text, f"html:{charset}"


_OPENS_MARKUP = re.compile(r"<[a-zA-Z/!?]")


def _drop_unterminated_tail(source: str) -> str:
    """Cut a tag, comment or declaration that opens after the last '>' and so never closes: a
    browser shows nothing of it (end of file in a tag), and html.parser rescans to the end of the
    page from each such '<', which is quadratic (800 KB of '<!--' or '<a ' took minutes)."""
    m = _OPENS_MARKUP.search(source, source.rfind(">") + 1)
    return source[:m.start()] if m else source


def _decode_html(data: bytes, path: str, encoding: str | None) -> tuple[str, str]:
    """Charset: explicit option, then BOM, then <meta> in the first 2 KB, then the same
    detection as plain text.  A declared charset that does not decode falls back to
    detection, because pages that declare gb2312 but are UTF-8 are common."""
    if encoding is not None:
        return load_text(data, path=path, encoding=encoding)
    if not any(data.startswith(bom) for bom, _, _ in _BOMS):
        declared = _declared_charset(data[:2048])
        if declared is not None:
            try:
                text = data.decode(declared)
            except (UnicodeDecodeError, LookupError):
                pass
            else:
                _reject_magic(data, path)
                if "\x00" not in text:
                    return text, declared
    return load_text(data, path=path)


def _declared_charset(head: bytes) -> str | None:
    match = _META_CHARSET.search(head)
    if match is None:
        return None
    label = match.group(1).decode("ascii").lower()
    label = _HTML_CHARSET_ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    # A <meta> that says UTF-16 was read as ASCII, so it cannot be true (WHATWG: use UTF-8).
    return "utf-8" if name.startswith("utf-16") else name


class _VisibleText(HTMLParser):
    """Collect text a browser would render: no script/style/title, a line break at each
    block boundary, whitespace collapsed outside <pre>, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._skip_depth = 0
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth += 1
        elif tag == "pre":
            self._pre_depth += 1
        if tag in _BLOCK_TAGS:
            self._newline(force=tag == "br")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/>, <hr/>, <script/>: a boundary at most, never an open element.
        if tag in _BLOCK_TAGS:
            self._newline(force=tag == "br")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag == "pre":
            self._pre_depth = max(0, self._pre_depth - 1)
        if tag in _BLOCK_TAGS and tag != "br":
            self._newline(force=False)

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if self._pre_depth:
            self._parts.append(data)
            return
        data = _HTML_SPACE.sub(" ", data)
        if self._at_line_start():
            data = data.lstrip(" ")
        elif data.startswith(" ") and self._parts and self._parts[-1].endswith(" "):
            data = data[1:]
        if data:
            self._parts.append(data)

    def _at_line_start(self) -> bool:
        return not self._parts or self._parts[-1].endswith("\n")

    def _newline(self, *, force: bool) -> None:
        """End the current line; block boundaries never stack into blank lines, <br> does."""
        if self._skip_depth:
            return
        self._trim_trailing_space()
        if force or not self._at_line_start():
            self._parts.append("\n")

    def _trim_trailing_space(self) -> None:
        if self._pre_depth:
            return
        while self._parts and not self._parts[-1].endswith("\n"):
            trimmed = self._parts[-1].rstrip(" ")
            if trimmed:
                self._parts[-1] = trimmed
                return
            self._parts.pop()  # keep "last part ends with \n" meaning "at line start"

    def text(self) -> str:
        self._trim_trailing_space()
        return "".join(self._parts).strip("\n")


# --------------------------------------------------------------------------- helpers


def _first_line(exc: BaseException, limit: int = 160) -> str:
    """Exception text cut to one short line: InputError messages must be one line."""
    text = str(exc).strip() or type(exc).__name__
    line = text.splitlines()[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"
