#!/usr/bin/env bash
# Java for Spark in session mode (the engine-equality test, tests/test_engines.py: dbt-spark runs pyspark inside
# dbt's process, and pyspark starts a JVM), from Debian's packages. Does nothing when `java` is already on PATH;
# prints the java executable. Exit 3 when there is no apt-get (not Debian): the Spark test then skips and says why.
set -euo pipefail

if command -v java >/dev/null 2>&1; then
    command -v java
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "spark_setup: apt-get not found; install Java 17 (a JRE) yourself" >&2
    exit 3
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    SUDO="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq openjdk-17-jre-headless
command -v java
