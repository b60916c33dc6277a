"""Measure the three models that train on ``int_prediction_rows`` (int_prediction_evaluation and the two scoring
marts) outside dbt, with and without the training cap (issue 22, docs/predictions.md "Training size"):

    python -m contact_warehouse.predictions.training_bench load ROWS.parquet ROWS.duckdb
    python -m contact_warehouse.predictions.training_bench run ROWS.duckdb WINDOW HORIZON CAP|all
    python -m contact_warehouse.predictions.training_bench quality ROWS.duckdb WINDOW HORIZON CAP...

``load`` writes prediction rows (``bench rows``' output) into a DuckDB file as ``int_prediction_rows``, as the
warehouse holds them; ``run`` calls the three models' bodies as dbt does (``rows_to_evaluate`` /
``rows_to_score`` on the table, then the fit), one process per cap, and prints each model's CPU seconds, the
process's peak RSS, each task's evaluation (ROC AUC, Brier, beats_baseline, rows) and how many rows were scored.
Run one cap per process: the peak RSS is the process's. On a shared machine read CPU seconds, not wall time.
``quality`` sets the caps side by side on one yardstick: each task's model and baseline trained on the capped
sample's training rows and evaluated on *all* the evaluation rows (the marts evaluate on the sample's, whose
metrics also move with which customers are drawn).
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import duckdb

from . import (
    CHURN,
    REPEAT_CONTACT,
    TASK_FEATURES,
    evaluation_and_calibration,
    evaluation_part,
    rows_to_evaluate,
    rows_to_score,
    scores,
)


def load(parquet: Path, database: Path) -> None:
    with duckdb.connect(str(database)) as con:
        con.execute(f"create or replace table int_prediction_rows as select * from read_parquet('{parquet}')")


def run(database: Path, window_days: int, horizon_days: int, max_rows: int | None) -> None:
    horizons = {REPEAT_CONTACT: window_days, CHURN: horizon_days}
    with duckdb.connect(str(database), read_only=True) as con:
        con.execute("set enable_progress_bar = false")
        relation = con.table("int_prediction_rows")
        cpu = time.process_time()
        evaluated = evaluation_part(evaluation_and_calibration(rows_to_evaluate(relation, max_rows), horizons))
        print(f"cap {max_rows or 'none'}: int_prediction_evaluation {time.process_time() - cpu:.1f} s CPU")
        scored = {}
        for task in (REPEAT_CONTACT, CHURN):
            cpu = time.process_time()
            scored[task] = scores(rows_to_score(relation, task, max_rows), task)
            print(f"cap {max_rows or 'none'}: scores of {task} {time.process_time() - cpu:.1f} s CPU")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    print(f"cap {max_rows or 'none'}: process CPU {time.process_time():.1f} s, peak RSS {peak:.2f} GiB")
    for row in evaluated.itertuples():
        print(
            f"cap {max_rows or 'none'}: {row.model_name}/{row.scorer} {row.status} AUC {row.roc_auc} "
            f"Brier {row.brier_score} beats_baseline {row.beats_baseline} training {row.training_rows} "
            f"({row.training_positives} positive) evaluation {row.evaluation_rows} ({row.evaluation_positives})"
        )
    for task, frame in scored.items():
        rows = int(frame["training_rows"].iloc[0]) if len(frame) else 0
        print(f"cap {max_rows or 'none'}: {task} scored {len(frame)}, trained on {rows} rows")


def quality(database: Path, window_days: int, horizon_days: int, caps: list[int | None]) -> None:
    from .models import _metrics, held_out_predictions, split

    horizons = {REPEAT_CONTACT: window_days, CHURN: horizon_days}
    with duckdb.connect(str(database), read_only=True) as con:
        con.execute("set enable_progress_bar = false")
        relation = con.table("int_prediction_rows")
        for task in (REPEAT_CONTACT, CHURN):
            rows = relation.filter(f"model_name = '{task}'")
            _, _, test = split(rows_to_evaluate(rows), horizons[task])
            for cap in caps:
                _, train, _ = split(rows_to_evaluate(rows, cap), horizons[task])
                y, p_model, p_base = held_out_predictions(train, test, list(TASK_FEATURES[task]))
                (auc_m, brier_m), (auc_b, brier_b) = _metrics(y, p_model), _metrics(y, p_base)
                print(
                    f"{task} cap {cap or 'none'}: trained on {len(train)} rows ({int(train['label'].sum())} positive), "
                    f"evaluated on all {len(test)} ({int(y.sum())}): model AUC {auc_m:.4f} Brier {brier_m:.5f}, "
                    f"baseline AUC {auc_b:.4f} Brier {brier_b:.5f}, beats {auc_m > auc_b and brier_m < brier_b}"
                )


if __name__ == "__main__":
    command, *args = sys.argv[1:] or ["help"]
    if command == "load" and len(args) == 2:
        load(Path(args[0]), Path(args[1]))
    elif command == "run" and len(args) == 4:
        began = time.perf_counter()
        run(Path(args[0]), int(args[1]), int(args[2]), None if args[3] == "all" else int(args[3]))
        print(f"wall {time.perf_counter() - began:.1f} s")
    elif command == "quality" and len(args) >= 4:
        quality(Path(args[0]), int(args[1]), int(args[2]), [None if a == "all" else int(a) for a in args[3:]])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
