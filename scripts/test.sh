#!/usr/bin/env bash
# Install auditor with its development extras and run the whole test suite.
# This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
# The HTML report is tested in a real headless Chromium (Debian's package).
bash scripts/install_browser.sh || echo "warning: no chromium; the browser tests fail under CI=true" >&2
python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
python -m pytest -q "$@"
