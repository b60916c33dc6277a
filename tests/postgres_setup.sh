#!/usr/bin/env bash
# PostgreSQL's server programs (initdb, pg_ctl, postgres) for the run-storage test (tests/test_postgres.py), from
# Debian's packages. The test starts its own throw-away cluster on a free localhost port; it never uses a system
# cluster. Does nothing when initdb is already there (on PATH or under /usr/lib/postgresql/<version>/bin); prints
# the folder of the server programs. Exit 3 when there is no apt-get (not Debian).
set -euo pipefail

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
if ! command -v apt-get >/dev/null 2>&1; then
    echo "postgres_setup: apt-get not found; install PostgreSQL's server (initdb, pg_ctl) yourself" >&2
    exit 3
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    SUDO="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq postgresql
find_bindir
