"""The bodies of the project's 8 dbt Python models (staffing forecast and actuals, predictions), written once.

Each body takes its input relations as DuckDB relations (by model name) and its parameters, and returns the
model's table as a pandas frame. Two callers feed them the same way:

- the dbt Python models (dbt_project/models/**/*.py) on DuckDB, with ``dbt.ref(...)`` relations and the vars
  from their config;
- the Python step (contact_warehouse/engine/python_steps.py) on every other engine, with the same relations read
  from the engine into an in-memory DuckDB, so the bodies see the same types and pandas dtypes.

The logic itself stays in contact_warehouse/staffing and contact_warehouse/predictions; this module only wires
inputs to those functions (DECISIONS.md "Python models on every engine").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

Relations = Mapping[str, "object"]  # model name -> duckdb.DuckDBPyRelation (dbt.ref's on DuckDB, or the step's)


@dataclass(frozen=True)
class Params:
    """The dbt vars the bodies read. A dbt Python model gets only the config keys its own file names literally
    (dbt finds ``dbt.config.get("...")`` calls by reading the file), so each model file sets the ones its body
    reads and leaves the others None; the step sets all of them from dbt_project.yml and --vars."""

    staffing_interval_minutes: int | None = None
    forecast_horizon_days: int | None = None
    forecast_history_weeks: int | None = None
    staffing_fallback_aht_days: int | None = None
    reporting_timezone: str | None = None
    engagement_window_days: int | None = None
    churn_horizon_days: int | None = None
    prediction_history_days: int | None = None
    prediction_training_rows_max: int | None = None

    @classmethod
    def from_dbt_config(cls, prediction_params: Mapping[str, object]) -> Params:
        """The prediction models' parameters from their one config key (``prediction_params``, set from the vars
        in each model's YAML; each model file passes ``dbt.config.get("prediction_params")``, so that dbt hands it
        over: dbt's project file cannot read the project's own vars)."""
        return cls(
            engagement_window_days=int(prediction_params["window_days"]),
            churn_horizon_days=int(prediction_params["horizon_days"]),
            prediction_history_days=int(prediction_params["history_days"]),
            # Only the models that train set it (int_prediction_evaluation and the two scoring marts' YAML).
            prediction_training_rows_max=_optional_int(prediction_params.get("training_rows_max")),
        )


def _optional_int(value: object) -> int | None:
    return None if value is None else int(value)


def staffing_forecast(inputs: Relations, params: Params) -> pd.DataFrame:
    from contact_warehouse.staffing.forecast import accuracy_frame, forecast, read_window_days
    from contact_warehouse.staffing.plan import required_for_forecast

    minutes, weeks = params.staffing_interval_minutes, params.forecast_history_weeks
    relation = inputs["mart_staffing_queue_intervals"].filter(f"interval_minutes = {minutes}")
    ((last,),) = relation.aggregate("max(interval_start_utc)").fetchall()
    if weeks is not None and last is not None:
        # Only the bounded history's days (and a day's margin) leave the database; the library cuts exactly.
        relation = relation.filter(f"interval_start_utc >= timestamp '{last}' - interval {read_window_days(weeks)} day")
    intervals = relation.df()
    targets = inputs["int_queue_service_levels"].df()
    future, accuracy = forecast(intervals, params.reporting_timezone, minutes, params.forecast_horizon_days, weeks)
    planned = required_for_forecast(future, targets, minutes)
    planned.insert(0, "interval_minutes", minutes)
    return planned.merge(accuracy_frame(accuracy), on="queue", how="left")


def staffing_actuals(inputs: Relations, params: Params, previous: str | None = None) -> pd.DataFrame:
    """Every interval's Erlang C; on DuckDB's incremental run, only the intervals without a row of the same input
    fingerprint in last night's table ``previous`` (the strategy 'staffing_interval_changes' replaces those rows
    and deletes the vanished intervals). The Python step off DuckDB passes none and computes every interval."""
    from contact_warehouse.staffing.actuals import (
        FALLBACK_AHT_DAYS,
        planning_inputs,
        require_fingerprints,
        rows_to_compute,
    )
    from contact_warehouse.staffing.plan import required_for_actuals

    targets = inputs["int_queue_service_levels"]
    days = params.staffing_fallback_aht_days or FALLBACK_AHT_DAYS
    rows = planning_inputs(inputs["mart_staffing_queue_intervals"], targets, days)
    if previous is not None:
        require_fingerprints(rows, previous)
        rows = rows_to_compute(rows, previous)
    return required_for_actuals(rows.df(), targets.df())


def prediction_rows(
    inputs: Relations, params: Params, session: object | None = None, previous: str | None = None
) -> object:
    """The rows with their input fingerprints; on DuckDB's incremental run, from last night's table ``previous``
    (a table of ``session``, the model's connection): a relation of ``session`` then (the change set); computed
    in full on DuckDB, an Arrow reader of customer batches (predictions/batched.py); else a frame. The Python
    step off DuckDB passes neither and recomputes in full (DECISIONS.md "int_prediction_rows is incremental")."""
    from contact_warehouse.predictions.fingerprints import Sources
    from contact_warehouse.predictions.incremental import nightly_prediction_rows

    # Relations, not frames: a nightly run reads into pandas only what it computes from (predictions/reads.py).
    sources = Sources(
        inputs["int_prediction_interactions"],
        inputs["fct_survey_answers"]
        .filter("is_valid_score and customer_key is not null")
        .project("customer_key, responded_at, survey_type, score"),
        inputs["dim_customers"].project("customer_key, customer_ref, value_tier, crm_created_at, churned_at"),
    )
    return nightly_prediction_rows(
        sources,
        params.engagement_window_days,
        params.churn_horizon_days,
        params.prediction_history_days,
        session,
        previous,
    )


def _horizons(params: Params) -> dict[str, int]:
    from contact_warehouse.predictions import CHURN, REPEAT_CONTACT

    return {REPEAT_CONTACT: params.engagement_window_days, CHURN: params.churn_horizon_days}


def prediction_evaluation_and_calibration(inputs: Relations, params: Params) -> pd.DataFrame:
    from contact_warehouse.predictions import evaluation_and_calibration, rows_to_evaluate

    return evaluation_and_calibration(
        rows_to_evaluate(inputs["int_prediction_rows"], params.prediction_training_rows_max), _horizons(params)
    )


def prediction_evaluation(inputs: Relations, params: Params) -> pd.DataFrame:
    from contact_warehouse.predictions import evaluation_part

    return evaluation_part(inputs["int_prediction_evaluation"].df())


def prediction_calibration(inputs: Relations, params: Params) -> pd.DataFrame:
    from contact_warehouse.predictions import calibration_part

    return calibration_part(inputs["int_prediction_evaluation"].df())


def repeat_contact_predictions(inputs: Relations, params: Params) -> pd.DataFrame:
    from contact_warehouse.predictions import REPEAT_CONTACT, rows_to_score, scores

    rows = rows_to_score(inputs["int_prediction_rows"], REPEAT_CONTACT, params.prediction_training_rows_max)
    return scores(rows, REPEAT_CONTACT)


def churn_predictions(inputs: Relations, params: Params) -> pd.DataFrame:
    from contact_warehouse.predictions import CHURN, rows_to_score, scores

    rows = rows_to_score(inputs["int_prediction_rows"], CHURN, params.prediction_training_rows_max)
    return scores(rows, CHURN)


@dataclass(frozen=True)
class PythonModel:
    name: str
    schema: str  # the layer schema dbt gives the model (generate_schema_name: the folder's +schema as is)
    inputs: tuple[str, ...]  # the models it reads; the dbt model's dbt.ref() calls must name exactly these
    body: Callable[[Relations, Params], pd.DataFrame]


# In dependency order: a model's inputs are either dbt SQL models or models earlier in this list.
PYTHON_MODELS = (
    PythonModel(
        "int_staffing_forecast",
        "intermediate",
        ("mart_staffing_queue_intervals", "int_queue_service_levels"),
        staffing_forecast,
    ),
    PythonModel(
        "int_staffing_actuals",
        "intermediate",
        ("mart_staffing_queue_intervals", "int_queue_service_levels"),
        staffing_actuals,
    ),
    PythonModel(
        "int_prediction_rows",
        "intermediate",
        ("int_prediction_interactions", "fct_survey_answers", "dim_customers"),
        prediction_rows,
    ),
    PythonModel(
        "int_prediction_evaluation", "intermediate", ("int_prediction_rows",), prediction_evaluation_and_calibration
    ),
    PythonModel("mart_prediction_evaluation", "marts", ("int_prediction_evaluation",), prediction_evaluation),
    PythonModel("mart_prediction_calibration", "marts", ("int_prediction_evaluation",), prediction_calibration),
    PythonModel("mart_repeat_contact_predictions", "marts", ("int_prediction_rows",), repeat_contact_predictions),
    PythonModel("mart_churn_predictions", "marts", ("int_prediction_rows",), churn_predictions),
)
MODELS = {model.name: model for model in PYTHON_MODELS}
