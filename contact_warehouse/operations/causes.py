"""What a user must fix when a run fails, said in one line: the root cause (a full disk, a permission, memory)
anywhere in an error's chain rather than its consequences ("cannot rollback"), and what failed in a dbt invocation
(its ``run_results.json``, else its log). Used by the CLI's run lines (run_lines) and the dbt asset's failure."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

# Messages that say what the user must fix (a full disk, a permission, memory), wherever they appear: the errors
# that follow them ("cannot rollback", aborted transactions, skipped tests) only repeat their consequence.
ROOT_CAUSE = re.compile(
    r"No space left on device|Disk quota exceeded|File too large|Read-only file system|Permission denied|"
    r"Out of Memory|could not allocate|Could not set lock|Conflicting lock",
    re.IGNORECASE,
)
CONSEQUENCE = re.compile(r"cannot rollback|transaction is aborted|no transaction is active", re.IGNORECASE)


def node_name(unique_id: str) -> str:
    """``model.contact_warehouse.stg_x`` -> ``model stg_x``; ``test.<project>.<name>.<hash>`` -> ``test <name>``;
    ``unit_test.<project>.<model>.<name>`` -> ``unit test <model>.<name>``."""
    parts = unique_id.split(".")
    if len(parts) < 3:
        return unique_id
    name = ".".join(parts[2:4]) if parts[0] == "unit_test" else parts[2]
    return f"{parts[0].replace('_', ' ')} {name}"


def dbt_results(target: Path) -> list[dict]:
    """The results of a dbt invocation (run_results.json of its target folder), empty when dbt wrote none."""
    try:
        return json.loads((target / "run_results.json").read_text())["results"]
    except (OSError, ValueError, KeyError):
        return []


def dbt_failure_cause(target: Path) -> str | None:
    """What failed in a dbt invocation, said so a user can act: the first node whose message names a root cause
    (disk, permissions, memory), else the first node that errored or failed, in the order dbt ran them, with its
    message and how many more failed. Falls back to dbt's log when dbt wrote no results (killed, disk full). None
    when every result passed: the step failed after dbt (the Python step, the copy of another engine's marts), and
    its own error says why."""
    results = dbt_results(target)
    failed = [r for r in results if r.get("status") in ("error", "fail", "runtime error")]
    if results and not failed:
        return None
    if failed:
        causes = [r for r in failed if ROOT_CAUSE.search(r.get("message") or "")]
        errors = [r for r in failed if r.get("status") != "fail" and not CONSEQUENCE.search(r.get("message") or "")]
        first = (causes or errors or failed)[0]
        message = one_line(first.get("message") or first.get("status", ""))
        more = f" (and {len(failed) - 1} more failed)" if len(failed) > 1 else ""
        return f"{node_name(first.get('unique_id', '?'))}: {message}{more}"
    try:
        lines = (target / "dbt.log").read_text(errors="replace").splitlines()
    except OSError:
        return None
    found = [line for line in lines if ROOT_CAUSE.search(line)] or [line for line in lines if "Error" in line]
    if not found:
        return None
    text = found[0]
    with contextlib.suppress(ValueError, KeyError, TypeError):  # dbt writes JSON log lines under Dagster
        text = json.loads(text)["info"]["msg"]
    return one_line(text)


def one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_messages(error: Any) -> list[str]:
    """Messages of an error and of everything it was raised from or during, outermost first."""
    messages, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if getattr(error, "message", None):
            messages.append(error.message)
        error = getattr(error, "cause", None) or getattr(error, "context", None)
    return messages


def cause_of(error: Any, description: str | None = None) -> str:
    """The sentence that says what to fix: a root cause (disk, permission, memory) anywhere in the chain, else a
    Failure's own description, else the innermost error that is not a consequence of another ("cannot
    rollback")."""
    messages = error_messages(error)
    for message in [description or "", *messages]:
        if ROOT_CAUSE.search(message):
            return one_line(message)
    if description:
        return one_line(description)
    useful = [m for m in messages if not CONSEQUENCE.search(m)] or messages
    if not useful:
        return "unknown error (see the log)"
    # Dagster wraps user errors ("Error occurred while executing op ..."): the innermost is the user's.
    return one_line(useful[-1])


def python_error(error: BaseException) -> str:
    chain: list[str] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 10:
        chain.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    for message in chain:
        if ROOT_CAUSE.search(message):
            return one_line(message)
    return one_line(chain[0])
