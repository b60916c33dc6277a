#!/usr/bin/env bash
# Headless Chromium and its WebDriver for the report test (tests/test_report.py), from Debian's packages.
# Does nothing when /usr/bin/chromium is already there. Exit 3 when there is no apt-get (not Debian).
set -euo pipefail

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "browser_setup: apt-get not found; install chromium and chromium-driver yourself" >&2
    exit 3
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    SUDO="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium chromium-driver
