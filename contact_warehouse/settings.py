"""Every path and environment variable the project reads, in one place."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = ROOT / "dbt_project"
EXPECTATIONS_DIR = ROOT / "expectations"
MAPPING_PROFILES_DIR = ROOT / "mapping_profiles"
GLOSSARY_PATH = ROOT / "docs" / "kpi_glossary.md"
DEFAULT_LANDING_DIR = ROOT / "seeds"
DEFAULT_WAREHOUSE_DB = ROOT / "data" / "warehouse.duckdb"

# Telemetry off: no network here, and users' machines may be locked down.
TELEMETRY_ENV = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "False",
    "DAGSTER_DISABLE_TELEMETRY": "1",
}


def turn_off_telemetry() -> None:
    """Export TELEMETRY_ENV where the user has not chosen otherwise; called where work starts (the CLI, loading the
    Dagster definitions), not on import, so that importing a module never changes the environment."""
    for name, value in TELEMETRY_ENV.items():
        os.environ.setdefault(name, value)


def dbt_target() -> str | None:
    """The target of dbt_project/profiles.yml the nightly job's dbt step builds on (``CONTACT_WAREHOUSE_DBT_TARGET``);
    None: the profile's default, DuckDB's build file (README "Scaling out")."""
    return os.environ.get("CONTACT_WAREHOUSE_DBT_TARGET", "").strip() or None


def warehouse_db() -> Path:
    """The build DuckDB file. Its name stays ``warehouse.duckdb``: dbt-duckdb puts it in the manifest."""
    return Path(os.environ.get("CONTACT_WAREHOUSE_DB", DEFAULT_WAREHOUSE_DB))


def serving_db() -> Path:
    """The published file readers use: only the marts of the last run whose blocking checks passed. By default
    ``serving.duckdb`` beside the build file (``data/serving.duckdb``)."""
    default = warehouse_db().parent / "serving.duckdb"
    return Path(os.environ.get("CONTACT_WAREHOUSE_SERVING_DB", default))


def report_dir() -> Path:
    """Where the nightly job writes the cockpit report: ``report/`` beside the serving file by default."""
    return Path(os.environ.get("CONTACT_WAREHOUSE_REPORT_DIR", serving_db().parent / "report"))


def landing_dir() -> Path:
    return Path(os.environ.get("CONTACT_WAREHOUSE_LANDING", DEFAULT_LANDING_DIR))


def profiles_dir() -> Path:
    return Path(os.environ.get("CONTACT_WAREHOUSE_PROFILES", MAPPING_PROFILES_DIR))


def lock_path_for(database: Path | str) -> Path:
    """The run lock of a build file (contact_warehouse.publication.locking): ``<warehouse>.lock`` beside it."""
    database = Path(database)
    return database.with_name(database.name + ".lock")


def children_lock_path_for(database: Path | str) -> Path:
    """Held shared by every dbt process a run starts, for as long as it lives (``duckdb_settings.Plugin``): a run
    that finds it held after taking the run lock knows a dead run's dbt is still writing the build file."""
    database = Path(database)
    return database.with_name(database.name + ".lock.children")


# Set by the holder of the run lock for the processes it starts (dbt): the pid they must not outlive.
RUN_PID_ENV = "CONTACT_WAREHOUSE_RUN_PID"


def log_dir() -> Path:
    """Where ``contact-warehouse run`` writes the full Dagster and dbt log of each run: ``logs/`` beside the build
    file by default (``data/logs``)."""
    return Path(os.environ.get("CONTACT_WAREHOUSE_LOG_DIR", warehouse_db().parent / "logs"))


def ensure_warehouse_env() -> Path:
    """Export the warehouse path so dbt's profiles.yml and Dagster's resource read the same file."""
    path = warehouse_db()
    os.environ["CONTACT_WAREHOUSE_DB"] = str(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def dbt_executable() -> str:
    """The dbt installed beside this Python (the venv's), so a run never picks another dbt from PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


# ------------------------------------------------------------------------------------------- settings

PREFIX = "CONTACT_WAREHOUSE_"
# Every setting a user may export, with what it does (listed by the CLI when one is misspelt).
SETTINGS: dict[str, str] = {
    "CONTACT_WAREHOUSE_DB": "build file (default data/warehouse.duckdb)",
    "CONTACT_WAREHOUSE_LANDING": "landing folder of the exports (default seeds/, the bundled demo)",
    "CONTACT_WAREHOUSE_PROFILES": "mapping profiles folder (default mapping_profiles/)",
    "CONTACT_WAREHOUSE_SERVING_DB": "serving file (default serving.duckdb beside the build file)",
    "CONTACT_WAREHOUSE_REPORT_DIR": "cockpit report folder (default report/ beside the serving file)",
    "CONTACT_WAREHOUSE_LOG_DIR": "run logs folder (default logs/ beside the build file)",
    "CONTACT_WAREHOUSE_PII_KEY": "secret key of the identifier hashes",
    "CONTACT_WAREHOUSE_PII_KEY_FILE": "file holding that key (default pii.key beside the build file)",
    "CONTACT_WAREHOUSE_PHONE_REGION": "region of phone numbers written without a country code (default US)",
    "CONTACT_WAREHOUSE_LAKE": "Parquet lake the loader writes raw rows to (default lake/ beside the build file; off)",
    "CONTACT_WAREHOUSE_FILE_GROUP": "group that may read the data files (default: none, owner only)",
    "CONTACT_WAREHOUSE_THREADS": "DuckDB threads",
    "CONTACT_WAREHOUSE_MEMORY_LIMIT": "DuckDB memory limit",
    "CONTACT_WAREHOUSE_PYTHON_MODEL_MEMORY_LIMIT": "DuckDB memory limit while int_prediction_rows runs (default 1GB)",
    "CONTACT_WAREHOUSE_TEMP_DIR": "DuckDB spill folder",
    "CONTACT_WAREHOUSE_PREDICTION_BATCH_ROWS": "int_prediction_rows built in full: rows computed at once (1000000)",
    "CONTACT_WAREHOUSE_SCHEDULE_TZ": "time zone of the nightly schedule",
    "CONTACT_WAREHOUSE_UPDATE_SCREENSHOT": "tests: rewrite docs/cockpit.png",
    "CONTACT_WAREHOUSE_SETTLE_SECONDS": "seconds a landing file must stay unchanged before it is read (default 5)",
    "CONTACT_WAREHOUSE_MAX_RECORD_BYTES": "largest record a loader reads; a larger one is quarantined (default 4 MiB)",
    "CONTACT_WAREHOUSE_FUTURE_TOLERANCE_MINUTES": "how far after the load a timestamp may lie (default 60)",
    "CONTACT_WAREHOUSE_LOAD_BATCH_MB": "MB of an export's new files loaded in one transaction (32; 0: file by file)",
    "CONTACT_WAREHOUSE_ALERT_COMMAND": "shell command run on a failed step or a stale source (alert JSON on stdin)",
    "CONTACT_WAREHOUSE_ALERT_WEBHOOK": "URL the same alert is POSTed to as JSON (Slack/Mattermost-style 'text' field)",
    "CONTACT_WAREHOUSE_RETRY_DELAY_SECONDS": "first wait before a step that failed transiently is retried (default 30)",
    "CONTACT_WAREHOUSE_DBT_TARGET": "dbt target of the nightly job's dbt step: dev (DuckDB, default), postgres, spark",
}
_SETTING_NAME = re.compile(r"CONTACT_WAREHOUSE_[A-Z0-9_]*[A-Z0-9]")


def _settings_read_by_the_code() -> set[str]:
    """Every CONTACT_WAREHOUSE_* name the project's code or dbt project mentions: a setting added by a module
    without being listed above is still known, so the check below never refuses a real setting."""
    names: set[str] = set()
    folders = (
        (ROOT / "orchestration", ("*.py",)),
        (ROOT / "contact_warehouse", ("*.py",)),
        (DBT_PROJECT_DIR, ("*.yml", "*.sql")),
    )
    for folder, patterns in folders:
        for pattern in patterns:
            for path in folder.rglob(pattern):
                if "target" in path.relative_to(folder).parts:
                    continue
                with contextlib.suppress(OSError, UnicodeDecodeError):
                    names.update(_SETTING_NAME.findall(path.read_text(encoding="utf-8")))
    return names


def known_settings() -> set[str]:
    return set(SETTINGS) | _settings_read_by_the_code()


def unknown_settings(environ: Mapping[str, str] | None = None) -> list[str]:
    """CONTACT_WAREHOUSE_* variables of the environment that no code reads (a misspelt setting is ignored
    silently otherwise: CONTACT_WAREHOUSE_LANDINGS would build the demo instead of the user's exports)."""
    environ = os.environ if environ is None else environ
    known = known_settings()
    return sorted(name for name in environ if name.startswith(PREFIX) and name not in known)


# ---------------------------------------------------------------------------------------- PII key

PII_KEY_ENV = "CONTACT_WAREHOUSE_PII_KEY"
PII_KEY_FILE_ENV = "CONTACT_WAREHOUSE_PII_KEY_FILE"
PII_KEY_FILE_NAME = "pii.key"


def is_bundled_demo() -> bool:
    """The landing folder is the repository's own seeds/: fictional people, hashed with the documented
    development key so that the demo's numbers are the same everywhere."""
    with contextlib.suppress(OSError):
        return landing_dir().resolve() == DEFAULT_LANDING_DIR.resolve()
    return False


def pii_key_file() -> Path:
    return Path(os.environ.get(PII_KEY_FILE_ENV, "") or warehouse_db().parent / PII_KEY_FILE_NAME)


def ensure_pii_key() -> str | None:
    """Make sure the identifiers of a real landing folder are hashed with a secret key.

    Order: ``CONTACT_WAREHOUSE_PII_KEY``; else the key file (``CONTACT_WAREHOUSE_PII_KEY_FILE``, default
    ``pii.key`` beside the build file); else, for the bundled demo only, the development key; else a random key is
    written to the key file, readable by its owner only. The loader finds the same file by the same rule
    (``enrichment.functions.pii_key``): dbt never needs the key, which is never passed on. Returns a sentence to
    show the user when a key file was created."""
    if os.environ.get(PII_KEY_ENV, "").strip():
        return None
    path = pii_key_file()
    if path.is_file():
        return None
    if is_bundled_demo() and not os.environ.get(PII_KEY_FILE_ENV, "").strip():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    existing_warehouse = warehouse_db().exists()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask: only the owner may read the key
        os.write(fd, (secrets.token_hex(32) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    note = (
        f"Created the identifier-hashing key {path} (owner-only). Keep it with the warehouse and back it up: "
        "a new key changes every customer hash"
    )
    if existing_warehouse:
        note += "; this warehouse was hashed with another key, so run once with --full-refresh"
    return note + "."


# ------------------------------------------------------------------------------------------ file modes

FILE_GROUP_ENV = "CONTACT_WAREHOUSE_FILE_GROUP"


def file_group() -> int | None:
    """The group id that may read the data files (``CONTACT_WAREHOUSE_FILE_GROUP``, a name or a number)."""
    name = os.environ.get(FILE_GROUP_ENV, "").strip()
    if not name:
        return None
    if name.isdigit():
        return int(name)
    import grp

    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise ValueError(f"{FILE_GROUP_ENV}={name!r} is not a group on this machine") from None


def private_mode() -> int:
    """Mode of a new data file: the owner only, or the owner and the configured group (read)."""
    return 0o640 if file_group() is not None else 0o600


def make_private(path: Path) -> None:
    """Give an existing file the data files' mode (and group)."""
    os.chmod(path, private_mode())
    group = file_group()
    if group is not None:
        os.chown(path, -1, group)


@contextlib.contextmanager
def private_files() -> Iterator[None]:
    """Every file and folder created meanwhile, by this process or its children (dbt), is readable by its owner
    only (umask 077), or also by the configured group (umask 027): the build file holds raw phone numbers and
    e-mails."""
    previous = os.umask(0o027 if file_group() is not None else 0o077)
    try:
        yield
    finally:
        os.umask(previous)


# -------------------------------------------------------------------------------------------- dbt vars


def declared_dbt_vars() -> dict[str, object]:
    """The vars declared in dbt_project.yml (name -> default): the parameters a run may set."""
    import yaml

    document = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8")) or {}
    return dict(document.get("vars") or {})


def parse_dbt_vars(text: str) -> dict[str, object]:
    """A ``--vars`` value (a YAML or JSON mapping, as dbt takes it), checked against the declared vars: dbt itself
    ignores a misspelt var, and the run would silently use the default."""
    import yaml

    try:
        values = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as error:
        raise ValueError(f"--vars is not YAML or JSON: {' '.join(str(error).split())}") from None
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ValueError(f"--vars must be a mapping such as '{{session_gap_minutes: 20}}', not {text!r}")
    declared = declared_dbt_vars()
    unknown = sorted(str(name) for name in values if name not in declared)
    if unknown:
        raise ValueError(
            f"unknown dbt var {', '.join(unknown)} (declared in dbt_project/dbt_project.yml: {', '.join(declared)})"
        )
    return values


# ------------------------------------------------------------------------------------------ operations


def alert_command() -> str:
    """Shell command run for each alert (``contact_warehouse.operations.alerts``); empty: none."""
    return os.environ.get("CONTACT_WAREHOUSE_ALERT_COMMAND", "").strip()


def alert_webhook() -> str:
    """URL each alert is POSTed to as JSON; empty: none."""
    return os.environ.get("CONTACT_WAREHOUSE_ALERT_WEBHOOK", "").strip()


def retry_delay_seconds() -> float:
    """First wait before retrying a step that failed transiently (doubled at each retry); read when the
    definitions load. A value that is not a non-negative number fails loading rather than retrying at a guess."""
    text = os.environ.get("CONTACT_WAREHOUSE_RETRY_DELAY_SECONDS", "").strip() or "30"
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise ValueError(f"CONTACT_WAREHOUSE_RETRY_DELAY_SECONDS={text!r} is not a number of seconds >= 0")
    return value
