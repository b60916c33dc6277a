#!/usr/bin/env bash
# PostgreSQL's server programs (initdb, pg_ctl, postgres) for the run-storage test (tests/test_postgres.py), from
# Debian's packages. The test starts its own throw-away cluster on a free localhost port; it never uses a system
# cluster. Does nothing when initdb is already there (on PATH or under /usr/lib/postgresql/<version>/bin); prints
# the folder of the server programs. Exit 3 when there is no apt-get (not Debian).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"

find_bindir() {
    if command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$found" && -x "$found/initdb" ]]; then
        echo "$found"
        return 0
    fi
    return 1
}

if find_bindir; then
    exit 0
fi
apt_install postgres_setup "install PostgreSQL's server (initdb, pg_ctl) yourself" postgresql
find_bindir
