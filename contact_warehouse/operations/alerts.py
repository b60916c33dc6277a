"""Alerts: tell the people who run the warehouse that a step failed or an export stopped arriving.

The user configures where alerts go (``contact_warehouse.settings``): ``CONTACT_WAREHOUSE_ALERT_COMMAND``, a shell
command run with the alert as JSON on its standard input and as ``ALERT_*`` environment variables, and/or
``CONTACT_WAREHOUSE_ALERT_WEBHOOK``, a URL the same JSON is POSTed to (its ``text`` field is what Slack,
Mattermost and Teams-style incoming webhooks display). Sending never raises: an alert that cannot be delivered is
returned as a problem for the caller to log, so that it never hides the failure it reports.

One alert per failed run, not one per failed step: whoever reports a run failure first (the failure hook of its
first failed step, or the orphaned-run sensor when the process died) claims the run (``claim_run_alert``, a marker
file beside the warehouse that the run's process and the Dagster daemon both see); the others stay quiet. The
first failure is the one to act on; the run's log has the rest.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from contact_warehouse.settings import alert_command, alert_webhook

# A hung mail relay or webhook must not hold the run (and the warehouse lock) for long.
COMMAND_TIMEOUT_SECONDS = 60
WEBHOOK_TIMEOUT_SECONDS = 15
MAX_ERROR_CHARS = 500
# Markers of alerted runs older than this are removed (a run id is never reused; the folder must not grow forever).
SENT_MARKER_DAYS = 30


def first_line(text: object, limit: int = MAX_ERROR_CHARS) -> str:
    """The first non-blank line of an error's text (tracebacks and dbt logs follow it), shortened to ``limit``."""
    for line in str(text).splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


@dataclass(frozen=True)
class Alert:
    """One alert. ``kind``: ``run_failure`` (a step failed: the run publishes nothing) or ``stale_source`` (an
    export's newest rows are older than its error threshold)."""

    kind: str
    run_id: str
    job: str
    step: str
    error: str

    @property
    def text(self) -> str:
        """One sentence for a chat channel or a mail subject."""
        if self.kind == "run_failure":
            return f"contact-warehouse: {self.job} run {self.run_id} failed at step {self.step}: {self.error}"
        return f"contact-warehouse: {self.job} run {self.run_id}, {self.step}: {self.error}"

    def payload(self) -> dict[str, str]:
        return {**asdict(self), "text": self.text}


def send_alert(alert: Alert, command: str | None = None, webhook: str | None = None) -> list[str]:
    """Deliver ``alert`` to the configured command and webhook (both when both are set; the settings when not
    given). Returns what could not be delivered, one sentence each; empty when all went out or none is set."""
    command = alert_command() if command is None else command
    webhook = alert_webhook() if webhook is None else webhook
    problems = []
    if command:
        problems += _run_command(command, alert)
    if webhook:
        problems += _post_webhook(webhook, alert)
    return problems


def sent_alerts_dir(database: Path | str) -> Path:
    """Where the runs already alerted are marked: ``<warehouse>.alerts/`` beside the build file, as its lock."""
    database = Path(database)
    return database.with_name(database.name + ".alerts")


def claim_run_alert(run_id: str, database: Path | str) -> bool:
    """True for the first caller for ``run_id`` (it sends the run's alert), False for every later one. The marker
    is created atomically (O_EXCL), so two reporters cannot both claim it. When the marker cannot be written the
    caller alerts anyway: an alert sent twice is better than a failure nobody hears of."""
    directory = sent_alerts_dir(database)
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in run_id) or "_"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _remove_old_markers(directory)
        fd = os.open(directory / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    except OSError:
        return True
    os.close(fd)
    return True


def _remove_old_markers(directory: Path) -> None:
    oldest = time.time() - SENT_MARKER_DAYS * 86400
    for marker in directory.iterdir():
        try:
            if marker.stat().st_mtime < oldest:
                marker.unlink()
        except OSError:  # removed by another reporter meanwhile
            pass


def _run_command(command: str, alert: Alert) -> list[str]:
    body = json.dumps(alert.payload())
    env = {**os.environ, **{f"ALERT_{key.upper()}": value for key, value in alert.payload().items()}}
    try:
        # A shell, so that users may write pipes and redirections (`mail -s ... ops@example.com`); the command is
        # the operator's own setting, the alert's text reaches it only as data (stdin, environment).
        result = subprocess.run(
            command,
            shell=True,
            input=body,
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return [f"alert command did not finish within {COMMAND_TIMEOUT_SECONDS} s: {command}"]
    except OSError as error:
        return [f"alert command could not start ({error}): {command}"]
    if result.returncode != 0:
        detail = first_line(result.stderr or result.stdout, 200)
        return [f"alert command exited with {result.returncode}{': ' + detail if detail else ''}: {command}"]
    return []


def _post_webhook(url: str, alert: Alert) -> list[str]:
    if not url.lower().startswith(("http://", "https://")):
        return [f"alert webhook {url!r} is not an http(s) URL"]
    request = urllib.request.Request(
        url,
        data=json.dumps(alert.payload()).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            response.read()
    except urllib.error.HTTPError as error:
        return [f"alert webhook {url} answered HTTP {error.code}"]
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return [f"alert webhook {url} could not be reached: {reason}"]
    return []
