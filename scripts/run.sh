#!/usr/bin/env bash
# The main job on embedded defaults: install auditor, audit the fixtures, write the HTML report
# (reports/fixtures.html) and, when Chromium is there, a screenshot of it (reports/fixtures.png).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check -e .
auditor audit fixtures/ --html reports/fixtures.html --fail-on never
if command -v chromium >/dev/null 2>&1 && python -c "import playwright" 2>/dev/null; then
  python scripts/screenshot_report.py reports/fixtures.html reports/fixtures.png
fi
echo "HTML report: reports/fixtures.html"
