#!/usr/bin/env python
"""Render an HTML audit report to a PNG with headless Chromium, to look at it without a desktop.

    python scripts/screenshot_report.py                      # reports/fixtures.html -> reports/fixtures.png
    python scripts/screenshot_report.py --build              # audit fixtures/ first, then shoot
    python scripts/screenshot_report.py REPORT.html OUT.png --full-page --width 1400

Uses Debian's /usr/bin/chromium (or $CHROMIUM) through Playwright; no browser download.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def chromium_path() -> str:
    return os.environ.get("CHROMIUM", "/usr/bin/chromium")


def screenshot(html_path: str | os.PathLike, png_path: str | os.PathLike, *, width: int = 1440, height: int = 1000,
               full_page: bool = False, scroll_to: str | None = None) -> Path:
    """Open `html_path` in headless Chromium and save a PNG of it to `png_path`."""
    from playwright.sync_api import sync_playwright

    html_path, png_path = Path(html_path).resolve(), Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(html_path.as_uri())
            page.wait_for_load_state("load")
            if scroll_to:
                page.locator(scroll_to).first.scroll_into_view_if_needed()
            page.screenshot(path=str(png_path), full_page=full_page)
        finally:
            browser.close()
    return png_path


def build_fixtures_report(html_path: Path, lang: str = "zh") -> None:
    sys.path.insert(0, str(ROOT))
    from auditor.audit import run_audit
    from auditor.config import Config
    from auditor.report.html import render_html

    result = run_audit([str(ROOT / "fixtures")], Config(lang=lang))
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(render_html(result), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", nargs="?", default=str(ROOT / "reports" / "fixtures.html"))
    parser.add_argument("png", nargs="?", default=None)
    parser.add_argument("--build", action="store_true", help="audit fixtures/ into HTML first")
    parser.add_argument("--lang", default="zh", choices=["zh", "en"])
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--full-page", action="store_true")
    parser.add_argument("--scroll-to", default=None, help="CSS selector to scroll into view first")
    args = parser.parse_args(argv)
    html_path = Path(args.html)
    png_path = Path(args.png) if args.png else html_path.with_suffix(".png")
    if args.build or not html_path.exists():
        build_fixtures_report(html_path, args.lang)
    out = screenshot(html_path, png_path, width=args.width, height=args.height, full_page=args.full_page,
                     scroll_to=args.scroll_to)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
