#!/usr/bin/env bash
# Install auditor with its development extras and run the whole test suite.
# This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
# The HTML report is tested in a real headless Chromium: Debian's package (a browser download by
# Playwright does not work here). Installed when missing and the machine lets us.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: chromium is not installed; the browser tests will fail under CI=true" >&2
  fi
fi
python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
python -m pytest -q "$@"
