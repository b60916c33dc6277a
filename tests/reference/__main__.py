"""`python -m tests.reference LANDING DB [--all]`: print the reference-vs-mart comparison table."""

from __future__ import annotations

import argparse
from pathlib import Path

from tests.reference.compare import compare, format_table


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.reference", description=__doc__)
    parser.add_argument("landing", type=Path, help="landing folder of the raw exports the warehouse was built from")
    parser.add_argument("db", type=Path, help="the built warehouse.duckdb")
    parser.add_argument("--disagreements", action="store_true", help="print only the figures that disagree")
    parser.add_argument("--csv", type=Path, help="also write the whole comparison to this CSV file")
    args = parser.parse_args()
    frame = compare(args.landing, args.db)
    print(format_table(frame, only_disagreements=args.disagreements))
    print(f"\n{int(frame['agrees'].sum())} of {len(frame)} comparisons agree")
    if args.csv:
        frame.to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
