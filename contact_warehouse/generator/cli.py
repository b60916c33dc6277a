"""Command line: ``generate --customers N --days D --seed S --out DIR [--start-date YYYY-MM-DD] [--no-progress]``.

``add_arguments`` and ``run`` let the ``contact-warehouse`` console command mount this as its ``generate``
sub-command; ``main`` runs it stand-alone.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from .core import generate


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text}") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=_positive, default=1500, help="CRM customers (default 1500)")
    parser.add_argument("--days", type=_positive, default=28, help="days of activity (default 28)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--out", type=Path, required=True, help="landing folder to write the exports into")
    parser.add_argument(
        "--start-date", type=_date, default=date(2026, 10, 5), help="first day, YYYY-MM-DD (default 2026-10-05)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def run(args: argparse.Namespace) -> int:
    if args.customers < 10:
        print("error: --customers must be at least 10", file=sys.stderr)
        return 2
    summary = generate(
        args.out, args.customers, args.days, args.seed, start_date=args.start_date, progress=not args.no_progress
    )
    mb = summary.bytes_written / 1e6
    print(
        f"wrote {summary.files_written} files ({mb:.1f} MB) to {summary.out_dir}: "
        f"{summary.total_events:,} events in {summary.seconds:.1f} s "
        f"({summary.events_per_second:,.0f} events/s), {summary.start_date}..{summary.end_date}"
    )
    for name, n in summary.rows.items():
        print(f"  {name:<20} {n:>10,}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="generate", description="Generate synthetic contact-center exports.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
