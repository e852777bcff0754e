"""Bad documents through the real command line: `auditor audit FILE` and `auditor extract FILE`.

Every case ends in exit code 2 and ONE line on stderr, `auditor: error: <the file>: <why>`, never a
traceback, nothing on stdout, within a time and a memory bound. The cases are a table (CASES) so
that docs/robustness.md lists exactly what is asserted here (tests/robustness/make_table.py).
"""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from tests.support import make_pdf, make_zip

from .helpers import FIXTURES, Run, can_drop_privileges, one_line_error, run_cli

PAGE = "本报讯 2021年，长春市总工会救助困难职工84名，发放救助资金28.74万元。\n"


@dataclass(frozen=True)
class Case:
    id: str
    input: str  # what the file is, for the results table
    make: Callable[[Path], str]  # builds it under the folder given; returns the path to pass
    needles: tuple[str, ...]  # what the error line must say
    expected: str  # for the results table
    seconds: float = 40.0  # wall-time bound of one run: a hang, not a speed test (CI shares its cores)
    peak_mb: float = 400.0  # peak-memory bound of one run
    needs_unprivileged: bool = False


def _write(folder: Path, name: str, data: bytes) -> str:
    path = folder / name
    path.write_bytes(data)
    return str(path)


# --------------------------------------------------------------------------- builders


def _docx(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _docx_members() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(_docx(["x"]))) as z:
        return {name: z.read(name) for name in z.namelist()}


def zip_bomb(folder: Path) -> str:
    """A .docx whose document.xml inflates 1000:1 to 200 MB (honest headers)."""
    members = _docx_members()
    path = folder / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in members.items():
            if name != "word/document.xml":
                z.writestr(name, data)
        with z.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = bytes(1 << 20)
            for _ in range(200):
                member.write(chunk)
    return str(path)


def lying_zip_bomb(folder: Path, inflated_mb: int = 300) -> str:
    """A valid .docx package whose document.xml declares 1000 bytes and inflates to 300 MB: zipfile
    inflates a member whole before cutting it to its declared size, so only a check that counts
    what really comes out refuses it without the memory."""
    out = io.BytesIO()
    entries = []

    def put(name: str, payload: bytes, declared: int, crc: int) -> None:
        raw_name = name.encode()
        entries.append((raw_name, crc, len(payload), declared, out.tell()))
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(payload), declared,
                              len(raw_name), 0) + raw_name + payload)

    for name, data in _docx_members().items():
        deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
        if name == "word/document.xml":
            head = data[:data.index(b"<w:body>") + 8] + b"<w:p><w:r><w:t>"
            parts = [deflate.compress(head)] + [deflate.compress(b"A" * (1 << 20)) for _ in range(inflated_mb)]
            put(name, b"".join(parts) + deflate.flush(), 1000, 0)
        else:
            put(name, deflate.compress(data) + deflate.flush(), len(data), zlib.crc32(data))
    start = out.tell()
    for raw_name, crc, csize, usize, offset in entries:
        out.write(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, csize, usize,
                              len(raw_name), 0, 0, 0, 0, 0, offset) + raw_name)
    end = out.tell()
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), end - start, start, 0))
    return _write(folder, "lying-bomb.docx", out.getvalue())


_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
           + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
           + ']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
           '<w:p><w:r><w:t>&i;</w:t></w:r></w:p></w:body></w:document>')
_XXE = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        '<w:p><w:r><w:t>&e;</w:t></w:r></w:p></w:body></w:document>')


def _pdf_deflate_bomb() -> bytes:
    """A page whose content stream inflates to 200 MB (~200 KB on disk)."""
    deflate = zlib.compressobj(9)
    stream = deflate.compress(b"BT /F1 12 Tf 72 720 Td (Total 1416) Tj ET\n")
    stream += b"".join(deflate.compress(b" " * (1 << 20)) for _ in range(200)) + deflate.flush()
    data = make_pdf(b"@" * len(stream))  # the same layout, then the placeholder replaced byte for byte
    return data.replace(b"<< /Length %d >>" % len(stream), b"<< /Length %d /Filter /FlateDecode >>" % len(stream)
                        ).replace(b"@" * len(stream), stream)


def _encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(b"BT /F1 12 Tf 72 720 Td (Total 1416) Tj ET"))))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _sparse(folder: Path, name: str, size: int) -> str:
    path = folder / name
    with open(path, "wb") as fh:
        fh.truncate(size)  # sparse: no time, no disk
    return str(path)


def _mixed_encodings() -> bytes:
    utf8 = "".join(f"本报讯 2021年，长春市总工会第{i}次救助困难职工84名。\n" for i in range(5)).encode("utf-8")
    return utf8 + "发放救助资金28.74万元。\n".encode("gbk")


def _unreadable(folder: Path) -> str:
    path = Path(_write(folder, "locked.txt", PAGE.encode()))
    path.chmod(0)
    return str(path)


def _unreadable_folder(folder: Path) -> str:
    root = folder / "pages"
    (root / "locked").mkdir(parents=True)
    (root / "a.txt").write_text(PAGE, encoding="utf-8")
    (root / "locked" / "b.txt").write_text(PAGE, encoding="utf-8")
    (root / "locked").chmod(0)
    return str(root)


def _symlink_loop(folder: Path) -> str:
    os.symlink("loop.txt", folder / "loop.txt")
    return str(folder / "loop.txt")


def _symlink_pair(folder: Path) -> str:
    os.symlink("b.txt", folder / "a.txt")
    os.symlink("a.txt", folder / "b.txt")
    return str(folder / "a.txt")


def _broken_link(folder: Path) -> str:
    os.symlink(folder / "nowhere.txt", folder / "broken.txt")
    return str(folder / "broken.txt")


def _fifo(folder: Path) -> str:
    os.mkfifo(folder / "pipe.txt")
    return str(folder / "pipe.txt")


def _folder_named_like_a_file(folder: Path) -> str:
    (folder / "page.txt").mkdir()
    return str(folder / "page.txt")


CASES: list[Case] = [
    Case("empty", "empty file (0 bytes)", lambda d: _write(d, "empty.txt", b""),
         ("empty.txt", "file is empty"), "exit 2: file is empty"),
    Case("whitespace", "whitespace only (a BOM, spaces, tabs, CR LF, U+3000)",
         lambda d: _write(d, "blank.txt", b"\xef\xbb\xbf \t\r\n\xe3\x80\x80\n \n"),
         ("blank.txt", "file has no text"), "exit 2: file has no text"),
    Case("binary", "binary bytes (NUL bytes, every byte value) named .txt",
         lambda d: _write(d, "binary.txt", bytes(range(256)) * 64), ("binary.txt", "binary file"),
         "exit 2: looks like a binary file"),
    Case("png", "a PNG image named .txt", lambda d: _write(d, "image.txt", b"\x89PNG\r\n\x1a\n" + bytes(300)),
         ("image.txt", "binary file (PNG image)"), "exit 2: looks like a binary file (PNG image)"),
    Case("truncated-utf8", "UTF-8 cut in the middle of its last character",
         lambda d: _write(d, "cut.txt", (PAGE * 20).encode()[:-2]), ("cut.txt", "truncated"),
         "exit 2: UTF-8 text is truncated (offset named)"),
    Case("mixed-encodings", "UTF-8 lines then a GBK line in one file",
         lambda d: _write(d, "mixed.txt", _mixed_encodings()), ("mixed.txt", "cannot decode", "offset"),
         "exit 2: damaged UTF-8, invalid byte and offset named"),
    Case("over-size-limit", "200 MB text file (sparse), default 64 MiB limit",
         lambda d: _sparse(d, "huge.txt", 200 * 1024 * 1024), ("huge.txt", "200.0 MB", "over the limit", "--max-bytes"),
         "exit 2 at once, before reading: over the limit (--max-bytes)", seconds=20, peak_mb=150),
    Case("zip-bomb", "zip bomb named .docx (200 MB of zeros, 1000:1)", zip_bomb, ("bomb.docx", "zip bomb"),
         "exit 2: looks like a zip bomb (compression ratio)", seconds=20, peak_mb=250),
    Case("zip-bomb-lying", ".docx whose document.xml declares 1000 bytes and inflates to 300 MB", lying_zip_bomb,
         ("lying-bomb.docx", "zip bomb", "declares"), "exit 2: zip bomb, refused while inflating in 1 MB steps",
         seconds=20, peak_mb=250),
    Case("docx-no-text", ".docx without any text", lambda d: _write(d, "blank.docx", _docx([])),
         ("blank.docx", "no text in document"), "exit 2: no text in document"),
    Case("docx-garbage", "random bytes named .docx", lambda d: _write(d, "junk.docx", os.urandom(4096)),
         ("junk.docx", "not a valid .docx"), "exit 2: not a valid .docx"),
    Case("docx-truncated", "a .docx cut in half", lambda d: _write(d, "half.docx", _docx([PAGE] * 50)[:6000]),
         ("half.docx", "not a valid .docx"), "exit 2: not a valid .docx"),
    Case("docx-laughs", ".docx whose XML is a billion-laughs entity bomb",
         lambda d: _write(d, "laughs.docx", make_zip({**_docx_members(), "word/document.xml": _LAUGHS.encode()})),
         ("laughs.docx", "not a valid .docx"), "exit 2: not a valid .docx (entity amplification refused)"),
    Case("docx-xxe", ".docx whose XML names an external entity (file:///etc/passwd)",
         lambda d: _write(d, "xxe.docx", make_zip({**_docx_members(), "word/document.xml": _XXE.encode()})),
         ("xxe.docx", "no text in document"), "exit 2: no text in document (the entity is never read)"),
    Case("pdf-encrypted", "encrypted PDF (user password)", lambda d: _write(d, "locked.pdf", _encrypted_pdf()),
         ("locked.pdf", "encrypted PDF"), "exit 2: encrypted PDF (needs a password)"),
    Case("pdf-image-only", "PDF without a text layer (a scan)", lambda d: _write(d, "scan.pdf", make_pdf(None)),
         ("scan.pdf", "no text layer"), "exit 2: PDF has no text layer; run OCR first"),
    Case("pdf-deflate-bomb", "a PDF whose content stream inflates to 200 MB", lambda d: _write(d, "bomb.pdf",
         _pdf_deflate_bomb()), ("bomb.pdf", "not a valid PDF", "Limit reached"),
         "exit 2: not a valid PDF (pypdf's decompression limit)", peak_mb=400),
    Case("pdf-truncated", "a PDF cut after 100 bytes", lambda d: _write(d, "cut.pdf", make_pdf(b"BT ET")[:100]),
         ("cut.pdf", "not a valid PDF"), "exit 2: not a valid PDF"),
    Case("html-scripts-only", "HTML whose only text is in <script>, <style> and <title>",
         lambda d: _write(d, "app.html", b"<html><head><title>t</title><style>p{}</style></head><body>"
                          b"<script>document.write('84\xe5\x90\x8d')</script></body></html>"),
         ("app.html", "no text in document"), "exit 2: no text in document"),
    Case("folder", "a folder (named page.txt) holding no documents", _folder_named_like_a_file,
         ("page.txt", "no documents found"), "exit 2: no documents found, the folder named"),
    Case("unreadable", "a file without read permission", _unreadable, ("locked.txt", "permission denied"),
         "exit 2: cannot read file (permission denied)", needs_unprivileged=True),
    Case("unreadable-subfolder", "a folder holding a subfolder without permission", _unreadable_folder,
         ("locked", "permission denied"), "exit 2: cannot read directory (permission denied)",
         needs_unprivileged=True),
    Case("symlink-loop", "a symbolic link to itself", _symlink_loop, ("loop.txt", "symbolic link loop"),
         "exit 2: symbolic link loop"),
    Case("symlink-pair", "two symbolic links to each other", _symlink_pair, ("a.txt", "symbolic link loop"),
         "exit 2: symbolic link loop"),
    Case("broken-symlink", "a symbolic link to nothing", _broken_link, ("broken.txt", "broken symbolic link"),
         "exit 2: broken symbolic link"),
    Case("fifo", "a named pipe (would block a reader forever)", _fifo, ("pipe.txt", "not a regular file"),
         "exit 2 at once: not a regular file"),
    Case("device", "a character device (/dev/zero: endless)", lambda d: "/dev/zero",
         ("/dev/zero", "not a regular file"), "exit 2 at once: not a regular file"),
    Case("missing", "a path that does not exist", lambda d: str(d / "nothing.txt"),
         ("nothing.txt", "no such file"), "exit 2: no such file or directory"),
    Case("name-control-characters", "an empty file whose name holds a newline and an ESC sequence",
         lambda d: _write(d, "evil\n\x1b[31mname.txt", b""), ("evil\\n\\x1b[31mname.txt", "file is empty"),
         "exit 2, still one line: the name's control characters escaped"),
]

COMMANDS = ("audit", "extract")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[tuple[str, str], tuple[Case, Run | None]]:
    """Every case through both commands, two at a time (the machine has two cores)."""
    jobs: list[tuple[Case, str, list[str]]] = []
    for case in CASES:
        folder = tmp_path_factory.mktemp(case.id)
        folder.chmod(0o755)
        target = case.make(folder)
        for command in COMMANDS:
            jobs.append((case, command, [command, target]))

    def one(job):
        case, command, args = job
        if case.needs_unprivileged and not can_drop_privileges():
            return (case.id, command), (case, None)
        return (case.id, command), (case, run_cli(*args, timeout=case.seconds * 3,
                                                   drop_privileges=case.needs_unprivileged))

    try:
        with ThreadPoolExecutor(2) as pool:
            yield dict(pool.map(one, jobs))
    finally:
        for folder in tmp_path_factory.getbasetemp().rglob("*"):  # let pytest clean up what we locked
            if folder.is_dir() and not folder.is_symlink() and not os.access(folder, os.W_OK | os.X_OK):
                folder.chmod(stat.S_IRWXU)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_document_is_one_clear_line(runs, case: Case, command: str) -> None:
    _, run = runs[(case.id, command)]
    if run is None:
        pytest.skip("cannot drop root's permission override here (no setpriv)")
    one_line_error(run, *case.needles)
    assert run.stdout == "", "nothing half-written on stdout"
    assert run.seconds < case.seconds, f"took {run.seconds:.1f} s"
    assert not run.peak_mb > case.peak_mb, f"peak memory {run.peak_mb:.0f} MB"


def test_a_bad_file_among_good_ones_stops_the_run_naming_it(tmp_path) -> None:
    """One broken page in a folder: the run stops at it, names it, writes no report."""
    pages = tmp_path / "pages"
    pages.mkdir()
    for p in sorted(FIXTURES.glob("00[12]_*.txt")):
        (pages / p.name).write_bytes(p.read_bytes())
    (pages / "001a_broken.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    out = tmp_path / "report.json"
    run = run_cli("audit", str(pages), "--format", "json", "-o", str(out))
    one_line_error(run, "001a_broken.txt", "PNG")
    assert not out.exists() and not list(tmp_path.glob(".report.json.*")), "nothing half-written"


def test_a_symlink_loop_inside_a_walked_folder_does_not_hang(tmp_path) -> None:
    """Loops below a folder given on the command line are walked once; the pages are audited."""
    pages = tmp_path / "pages"
    (pages / "sub").mkdir(parents=True)
    (pages / "sub" / "page.txt").write_text(PAGE, encoding="utf-8")
    os.symlink("..", pages / "sub" / "up")
    os.symlink(".", pages / "here")
    os.symlink("self.txt", pages / "self.txt")
    run = run_cli("extract", str(pages), "--format", "json")
    assert run.returncode == 0, run.stderr
    assert '"84名"' in run.stdout and run.stdout.count('"document"') == 2  # 84名 and 28.74万元, once each


def test_max_bytes_raised_lets_a_large_file_through_to_the_next_check(tmp_path) -> None:
    """With --max-bytes above its size, a 70 MB sparse file (all NUL) is read and refused as binary."""
    path = _sparse(tmp_path, "zeros.txt", 70 * 1024 * 1024)
    run = run_cli("extract", path, "--max-bytes", str(100 * 1024 * 1024), timeout=60)
    one_line_error(run, "zeros.txt", "binary")
    assert run.peak_mb < 600, run.peak_mb


def test_a_tiny_max_bytes_refuses_a_normal_page(tmp_path) -> None:
    path = _write(tmp_path, "page.txt", PAGE.encode())
    one_line_error(run_cli("audit", path, "--max-bytes", "10"), "page.txt", "over the limit of 10 bytes")
