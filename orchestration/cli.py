"""`contact-warehouse`: generate sample exports, run the pipeline, inspect what was loaded."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from contact_warehouse.settings import GLOSSARY_PATH, turn_off_telemetry


def _cmd_generate(args: argparse.Namespace) -> int:
    from contact_warehouse.generator.cli import run

    return run(args)


# Exit codes of `contact-warehouse run`.
EXIT_FAILED = 1  # the run started and failed: the summary names the step and the cause
EXIT_USAGE = 2  # nothing was done: an unknown setting or dbt var, a missing or empty landing folder
EXIT_BUSY = 3  # nothing was done: another run holds the warehouse


class UsageError(Exception):
    """Bad input found before any work: one line for the user, exit code EXIT_USAGE."""


def _landing_has_exports(landing: Path) -> bool:
    """Whether the landing folder holds any file a loader would read (an export's folder, or a mapping
    profile's), by the loaders' own rules."""
    from contact_warehouse.loading.landing import readable_files
    from contact_warehouse.settings import profiles_dir

    return next(readable_files(landing, profiles_dir()), None) is not None


def _preflight(args: argparse.Namespace) -> dict:
    """Everything a run needs from the user, checked before any work; returns the dbt vars."""
    from contact_warehouse.settings import SETTINGS, file_group, landing_dir, parse_dbt_vars, unknown_settings

    unknown = unknown_settings()
    if unknown:
        raise UsageError(
            f"unknown setting {', '.join(unknown)} (a typo? known settings: {', '.join(sorted(SETTINGS))})"
        )
    try:
        dbt_vars = parse_dbt_vars(args.vars or "")
        file_group()
    except ValueError as error:
        raise UsageError(str(error)) from None
    landing = landing_dir()
    if not landing.is_dir():
        raise UsageError(f"landing folder {landing} does not exist (give --landing or set CONTACT_WAREHOUSE_LANDING)")
    if not _landing_has_exports(landing):
        raise UsageError(
            f"landing folder {landing} is empty: no export file in any of its export folders "
            "(calls/, chat_conversations/, ...) nor in a mapping profile's folder"
        )
    return dbt_vars


def _cmd_run(args: argparse.Namespace) -> int:
    """Materialize every asset in-process: load the exports, dbt build (models + tests), checks, publication,
    report. One line per step on the terminal; Dagster's and dbt's full output go to the run's log file."""
    if args.landing:
        os.environ["CONTACT_WAREHOUSE_LANDING"] = args.landing
    if args.db:
        os.environ["CONTACT_WAREHOUSE_DB"] = args.db
    try:
        dbt_vars = _preflight(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    from contact_warehouse.settings import ensure_warehouse_env, private_files

    with private_files():
        db = ensure_warehouse_env()
        from contact_warehouse.publication.locking import WarehouseBusyError, exclusive_warehouse_lock

        try:
            lock = exclusive_warehouse_lock(db, owner="contact-warehouse run", for_own_runs=True)
            lock.__enter__()
        except WarehouseBusyError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_BUSY
        try:
            return _run_holding_the_lock(args, db, dbt_vars)
        finally:
            lock.__exit__(None, None, None)


def run_config(full_refresh: bool, dbt_vars: dict | None = None) -> dict:
    """The job's run config: ``full_refresh`` rebuilds the incremental models from all loaded rows (after a
    change of a var they depend on, or of the phone region or the key, which the load applies to the raw
    tables); ``dbt_vars`` are dbt's ``--vars``."""
    import json

    config: dict = {"full_refresh": full_refresh}
    if dbt_vars:
        config["vars"] = json.dumps(dbt_vars)
    return {"ops": {"warehouse_dbt_assets": {"config": config}}}


@contextlib.contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """Send everything written to this process's stdout and stderr (Dagster's DEBUG events, dbt's lines, warnings)
    to ``log``; file descriptors, so that loggers created earlier and child processes follow."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for descriptor in (fd, *saved):
            os.close(descriptor)


def _run_holding_the_lock(args: argparse.Namespace, db: Path, dbt_vars: dict) -> int:
    import time
    import traceback
    from datetime import UTC, datetime

    from contact_warehouse.settings import ensure_pii_key, landing_dir, log_dir, make_private, report_dir, serving_db
    from orchestration.progress import RunProgress

    started = time.monotonic()
    console = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    logs = log_dir()
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"run-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{os.getpid()}.log"
    print(f"contact-warehouse run: {landing_dir()} -> {db} (full log: {log})", file=console)
    for path in (db, db.with_name(db.name + ".wal")):
        if path.exists():  # a file from before this version may be readable by everyone
            make_private(path)
    note = ensure_pii_key()
    if note:
        print(note, file=console)

    import dagster as dg
    from dagster._core.utils import make_new_run_id

    run_id = make_new_run_id()
    progress = RunProgress(console, run_id=run_id, serving=serving_db(), report=report_dir() / "index.html")
    result = None
    with _output_to(log):
        try:
            from orchestration.project import prepare_manifest

            prepare_manifest(force=True)
            from orchestration.definitions import defs

            definitions = defs()
            instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
            instance.add_event_listener(run_id, progress.on_event)
            result = definitions.resolve_job_def("warehouse_job").execute_in_process(
                run_config=run_config(args.full_refresh, dbt_vars),
                instance=instance,
                raise_on_error=False,
                run_id=run_id,
            )
        except BaseException as error:  # the manifest, the definitions: before any step
            traceback.print_exc()
            progress.fail_outside_steps("prepare", error)
            if not isinstance(error, Exception):
                raise
    # The process ends with the run: at interpreter exit, skip the garbage collections over every object the run's
    # modules hold (dagster, dbt, Great Expectations, pandas: about 1.5-2 s of CPU every night, DECISIONS.md "Where
    # the nightly run's fixed cost goes"). Registered last, so it runs first at exit; the other exit handlers, the
    # streams' flush and the modules' teardown still run. In a process that goes on (a test), it only acts at its exit.
    atexit.register(gc.freeze)
    success = result is not None and result.success and progress.failure is None
    progress.finish(db=db, log=log, success=success, seconds=time.monotonic() - started)
    console.close()
    return 0 if success else EXIT_FAILED


def _cmd_glossary(args: argparse.Namespace) -> int:
    from pathlib import Path

    from contact_warehouse.report.glossary import write_glossary
    from orchestration.project import MANIFEST_PATH, prepare_manifest

    prepare_manifest(force=True)
    count = write_glossary(MANIFEST_PATH, Path(args.out))
    print(f"{count} KPI columns written to {args.out}")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from contact_warehouse.bench import run

    run(sizes=[s.strip() for s in args.sizes.split(",") if s.strip()], keep=args.keep, increments=args.increments)
    return 0


def _cmd_profile_check(args: argparse.Namespace) -> int:
    """What a mapping profile makes of a file, from the library; the warehouse is never opened."""
    from contact_warehouse.loading.conversion import ForeignFileError
    from contact_warehouse.loading.profile_check import check_file, format_check
    from contact_warehouse.loading.profiles import ProfileError, load_profile

    try:
        result = check_file(load_profile(Path(args.profile)), Path(args.file), args.sample)
    except (ProfileError, ForeignFileError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(format_check(result, args.rows))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from contact_warehouse.report import render_report
    from contact_warehouse.settings import private_files, report_dir, serving_db

    serving = Path(args.serving) if args.serving else serving_db()
    out = Path(args.out) if args.out else (report_dir() if not args.serving else serving.parent / "report")
    try:
        with private_files():  # the report shows customers' numbers: its reader is chosen, not everyone
            path = render_report(serving, out)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(path)
    return 0


def _cmd_vacuum(args: argparse.Namespace) -> int:
    """The nightly job's storage step by hand, holding the warehouse lock: rewrite the tables whose deleted rows pass
    the limits (``--all``: every table with a deleted row; ``--dry-run``: measure only)."""
    if args.db:
        os.environ["CONTACT_WAREHOUSE_DB"] = args.db
    from contact_warehouse.maintenance.storage import describe, vacuum_warehouse
    from contact_warehouse.publication.locking import WarehouseBusyError, exclusive_warehouse_lock
    from contact_warehouse.settings import private_files, warehouse_db

    db = warehouse_db()
    if not db.exists():
        print(f"error: warehouse file {db} does not exist", file=sys.stderr)
        return EXIT_USAGE
    share, rows = (0.0, 1) if args.all else (args.min_deleted_share, args.min_deleted_rows)
    with private_files():
        try:
            with exclusive_warehouse_lock(db, owner="contact-warehouse vacuum", for_own_runs=True):
                result = vacuum_warehouse(db, min_deleted_share=share, min_deleted_rows=rows, dry_run=args.dry_run)
        except WarehouseBusyError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_BUSY
    print(describe(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contact-warehouse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    from contact_warehouse.generator.cli import add_arguments

    generate = sub.add_parser("generate", help="write realistic exports of every tool into a landing folder")
    add_arguments(generate)
    generate.set_defaults(func=_cmd_generate)

    run = sub.add_parser(
        "run",
        help="load the landing folder and build the warehouse (dbt build)",
        epilog="exit codes: 0 done; 1 the run failed (the summary says where and why); 2 bad input, nothing done; "
        "3 another run holds the warehouse, nothing done",
    )
    run.add_argument("--landing", help="landing folder (default: $CONTACT_WAREHOUSE_LANDING or seeds/)")
    run.add_argument("--db", help="warehouse file (default: $CONTACT_WAREHOUSE_DB or data/warehouse.duckdb)")
    run.add_argument(
        "--vars",
        help="dbt vars for this run, a YAML or JSON mapping as dbt's --vars, e.g. '{session_gap_minutes: 20}' "
        "(names declared in dbt_project/dbt_project.yml)",
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental staging models from every loaded row (dbt build --full-refresh)",
    )
    run.set_defaults(func=_cmd_run)

    glossary = sub.add_parser("glossary", help="write the KPI glossary from the dbt docs")
    glossary.add_argument("--out", default=str(GLOSSARY_PATH), help="markdown file to write")
    glossary.set_defaults(func=_cmd_glossary)

    report = sub.add_parser("report", help="write the static HTML cockpit from the serving file")
    report.add_argument(
        "--serving", help="serving file (default: $CONTACT_WAREHOUSE_SERVING_DB or data/serving.duckdb)"
    )
    report.add_argument("--out", help="folder to write index.html into (default: report/ beside the serving file)")
    report.set_defaults(func=_cmd_report)

    profile = sub.add_parser("profile", help="try a mapping profile on a file")
    profile_sub = profile.add_subparsers(dest="profile_command", required=True)
    check = profile_sub.add_parser(
        "check",
        help="print the canonical rows a profile makes of a file, its rejected rows with reasons and the counts, "
        "without touching the warehouse",
    )
    check.add_argument("profile", help="the profile's YAML file")
    check.add_argument("file", help="a vendor's export file (or a sample of it)")
    check.add_argument("--rows", type=int, default=10, help="canonical rows shown per target (default 10)")
    check.add_argument(
        "--sample", type=int, default=1000, help="source rows read from the file's start (default 1000; 0: all)"
    )
    check.set_defaults(func=_cmd_profile_check)

    bench = sub.add_parser("bench", help="benchmark floor, full build and nightly increment at growing sizes")
    bench.add_argument(
        "--sizes",
        default="small,medium,long,large",
        help="comma-separated: small (~100k events), medium (~1M), long (medium's days for 120 days, ~4M), large",
    )
    bench.add_argument("--keep", action="store_true", help="keep the work folders under benchmarks/work/")
    bench.add_argument(
        "--increments",
        type=int,
        default=1,
        help="measure each size's nightly increment this many times from the same warehouse; the median run counts",
    )
    bench.set_defaults(func=_cmd_bench)

    from contact_warehouse.maintenance.storage import DEFAULT_MIN_DELETED_ROWS, DEFAULT_MIN_DELETED_SHARE

    vacuum = sub.add_parser(
        "vacuum",
        help="rewrite the warehouse tables whose deleted rows pass a share of their stored rows (the nightly job's "
        "last step, by hand)",
        epilog="exit codes: 0 done; 2 no warehouse file; 3 another run holds the warehouse, nothing done",
    )
    vacuum.add_argument("--db", help="warehouse file (default: $CONTACT_WAREHOUSE_DB or data/warehouse.duckdb)")
    vacuum.add_argument(
        "--min-deleted-share",
        type=float,
        default=DEFAULT_MIN_DELETED_SHARE,
        help=f"rewrite a table once this share of its stored rows is deleted (default {DEFAULT_MIN_DELETED_SHARE})",
    )
    vacuum.add_argument(
        "--min-deleted-rows",
        type=int,
        default=DEFAULT_MIN_DELETED_ROWS,
        help=f"... and at least this many (default {DEFAULT_MIN_DELETED_ROWS:,}, one DuckDB row group)",
    )
    vacuum.add_argument("--all", action="store_true", help="rewrite every table with a deleted row")
    vacuum.add_argument("--dry-run", action="store_true", help="print the deleted rows per table, rewrite nothing")
    vacuum.set_defaults(func=_cmd_vacuum)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    turn_off_telemetry()
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
