"""Test helpers shared across folders: hand-made PDF and ZIP files, the real headless Chromium."""

from __future__ import annotations

import io
import os
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
IN_CI = os.environ.get("CI") == "true"


def make_pdf(content: bytes | None) -> bytes:
    """A minimal but correct one-page PDF, written by hand (pypdf cannot write text).

    ``content`` is the page's content stream; None leaves the page without one (a scan).
    Offsets in the xref table are computed from the bytes actually written.
    """
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
    if content is not None:
        page += b" /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page + b" >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content or b""), content or b""),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_zip(members: dict[str, bytes]) -> bytes:
    """A ZIP archive of the given members (a .docx is one), deflated."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium through Playwright (no browser download). Missing, it skips the test
    locally and fails it in CI, where the browser tests must run."""
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing: CI must run the browser tests")
        pytest.skip(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if IN_CI:
            raise
        pytest.skip("playwright is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
