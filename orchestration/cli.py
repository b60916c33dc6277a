"""`contact-warehouse`: generate sample exports, run the pipeline, inspect what was loaded."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from orchestration.settings import GLOSSARY_PATH, ensure_warehouse_env


def _cmd_generate(args: argparse.Namespace) -> int:
    from contact_warehouse.generator.cli import run

    return run(args)


def _cmd_run(args: argparse.Namespace) -> int:
    """Materialize every asset in-process: load the exports, dbt build (models + tests)."""
    import os

    if args.landing:
        os.environ["CONTACT_WAREHOUSE_LANDING"] = args.landing
    if args.db:
        os.environ["CONTACT_WAREHOUSE_DB"] = args.db
    db = ensure_warehouse_env()
    from orchestration.project import prepare_manifest

    prepare_manifest(force=True)
    import dagster as dg

    from orchestration.definitions import defs

    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("warehouse_job").execute_in_process(
        run_config=run_config(full_refresh=args.full_refresh), instance=instance, raise_on_error=False
    )
    _print_summary(str(db))
    print(f"warehouse: {db}")
    print("run succeeded" if result.success else "run FAILED: see the log above")
    return 0 if result.success else 1


def run_config(full_refresh: bool) -> dict:
    """The job's run config: ``full_refresh`` rebuilds the incremental models from all loaded rows (after a
    change of a var they depend on, such as ``phone_default_region``)."""
    return {"ops": {"warehouse_dbt_assets": {"config": {"full_refresh": full_refresh}}}}


def _print_summary(db: str) -> None:
    import duckdb

    with duckdb.connect(db, read_only=True) as con:
        rows = con.execute(
            """select export, count(*) filter (where status = 'loaded'), count(*) filter (where status = 'refused'),
                      sum(rows_read), sum(rows_loaded), sum(rows_rejected)
               from raw._load_ledger group by export order by export"""
        ).fetchall()
    print(f"{'export':<22}{'files':>7}{'refused':>9}{'read':>10}{'loaded':>10}{'rejected':>10}")
    for export, files, refused, read, loaded, rejected in rows:
        print(f"{export:<22}{files:>7}{refused:>9}{read:>10}{loaded:>10}{rejected:>10}")


def _cmd_glossary(args: argparse.Namespace) -> int:
    from pathlib import Path

    from orchestration.glossary import write_glossary
    from orchestration.project import dbt_project, prepare_manifest

    prepare_manifest(force=True)
    count = write_glossary(Path(dbt_project.manifest_path), Path(args.out))
    print(f"{count} KPI columns written to {args.out}")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from contact_warehouse.bench import run

    run(sizes=[s.strip() for s in args.sizes.split(",") if s.strip()], keep=args.keep)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from orchestration.report import render_report
    from orchestration.settings import report_dir, serving_db

    serving = Path(args.serving) if args.serving else serving_db()
    out = Path(args.out) if args.out else (report_dir() if not args.serving else serving.parent / "report")
    try:
        path = render_report(serving, out)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contact-warehouse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    from contact_warehouse.generator.cli import add_arguments

    generate = sub.add_parser("generate", help="write realistic exports of every tool into a landing folder")
    add_arguments(generate)
    generate.set_defaults(func=_cmd_generate)

    run = sub.add_parser("run", help="load the landing folder and build the warehouse (dbt build)")
    run.add_argument("--landing", help="landing folder (default: $CONTACT_WAREHOUSE_LANDING or seeds/)")
    run.add_argument("--db", help="warehouse file (default: $CONTACT_WAREHOUSE_DB or data/warehouse.duckdb)")
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

    bench = sub.add_parser("bench", help="benchmark floor, full build and nightly increment at growing sizes")
    bench.add_argument(
        "--sizes", default="small,medium,large", help="comma-separated: small (~100k events), medium (~1M), large"
    )
    bench.add_argument("--keep", action="store_true", help="keep the work folders under benchmarks/work/")
    bench.set_defaults(func=_cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
