#!/usr/bin/env bash
# Headless Chromium and its WebDriver for the report test (tests/test_report.py), from Debian's packages.
# Does nothing when /usr/bin/chromium is already there. Exit 3 when there is no apt-get (not Debian).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    exit 0
fi
apt_install browser_setup "install chromium and chromium-driver yourself" chromium chromium-driver
