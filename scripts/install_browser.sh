#!/usr/bin/env bash
# Debian's Chromium (the HTML report's tests and screenshots run in it; Playwright's own browser
# download does not work here) and a CJK font so Chinese renders in screenshots.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "wqy\|noto.*cjk"; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install Debian's chromium and fonts-wqy-microhei to run the browser tests" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
