"""Several `mf` commands in one Python process: ``python tests/mf_batch.py COMMANDS.json RESULTS.json``.

COMMANDS.json is a list of argument lists (what follows `mf` on the command line). Each runs through MetricFlow's
CLI entry point, `dbt_metricflow.cli.main:cli` (the venv's `mf` script is that one call), in standalone mode as
the script runs it: its exit code, and what it wrote to stdout and stderr, are recorded per command. Every command
sets up its own CLI configuration (project, manifest, warehouse connection) as a fresh `mf` does; what the batch
shares is the interpreter and its imports, about 3 of the 5 CPU seconds each `mf` process took
(tests/test_semantic_layer.py checks that the batch prints what the `mf` executable prints)."""

from __future__ import annotations

import contextlib
import io
import json
import sys
import traceback
from pathlib import Path


def run_commands(commands: list[list[str]]) -> list[dict[str, object]]:
    from dbt_metricflow.cli.main import cli

    results: list[dict[str, object]] = []
    for arguments in commands:
        stdout, stderr = io.StringIO(), io.StringIO()
        code: int | str | None = 0
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                cli.main(arguments, prog_name="mf")  # standalone mode ends in sys.exit, as the script does
            except SystemExit as exit_:
                code = exit_.code
            except Exception:  # the script would print the traceback and exit 1
                traceback.print_exc()
                code = 1
        returncode = code if isinstance(code, int) else (0 if code is None else 1)
        results.append(
            {"arguments": arguments, "returncode": returncode, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}
        )
    return results


if __name__ == "__main__":
    commands_file, results_file = map(Path, sys.argv[1:3])
    results = run_commands(json.loads(commands_file.read_text()))
    results_file.write_text(json.dumps(results))
