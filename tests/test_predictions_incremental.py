"""int_prediction_rows on a nightly run (contact_warehouse/predictions/incremental.py, issue 22): computed from last
night's table, it equals a full recompute row for row after a new day with a late correction, a merge of two
customers and a CRM churn; an unchanged customer's rows are kept, not recomputed. On a small synthetic history."""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from contact_warehouse.engine.python_models import Params, prediction_rows
from contact_warehouse.predictions import batched, frames_from, rows_at, typed
from contact_warehouse.predictions.bench import as_of
from contact_warehouse.predictions.features import Frames
from contact_warehouse.predictions.fingerprints import sources_of
from contact_warehouse.predictions.incremental import FINGERPRINT, STORED_ROW_COLUMNS, nightly_prediction_rows
from contact_warehouse.predictions.reads import named, window, windows
from contact_warehouse.predictions.snapshots import bounded, coded, snapshot_times
from contact_warehouse.predictions.stacked import stacked_rows_at
from contact_warehouse.predictions.strategy import write

WINDOW, HORIZON = 3, 5
START = pd.Timestamp("2026-09-01")
INTENTS = ["billing_question", "cancel_service", "technical_issue", "unknown"]
CHANNELS = ["voice", "chat", "email"]


def synthetic(customers: int = 80, days: int = 40, seed: int = 7) -> Frames:
    """A small history: engagements of 1-3 interactions per customer, survey answers, a CRM for two customers in
    three (some created during the history, some churned)."""
    rng = np.random.default_rng(seed)
    rows, answers = [], []
    for c in range(customers):
        key = f"c{c:03d}"
        for e in range(rng.poisson(5)):
            at = START + pd.Timedelta(minutes=int(rng.integers(0, days * 24 * 60)))
            intent = INTENTS[rng.integers(len(INTENTS))]
            contacts = int(rng.integers(1, 4))
            for i in range(contacts):
                ended = at + pd.Timedelta(minutes=int(rng.integers(2, 90)))
                rows.append(
                    {
                        "interaction_id": f"{key}-{e}-{i}",
                        "engagement_id": f"{key}-{e}",
                        "customer_key": key,
                        "started_at": at,
                        "ended_at": ended,
                        "intent": intent,
                        "first_channel": CHANNELS[rng.integers(3)],
                        "channels_count": 1,
                        "is_assisted": bool(rng.random() < 0.6),
                        "is_customer_initiated": bool(rng.random() < 0.85),
                        "is_resolved": bool(i == contacts - 1 and rng.random() < 0.5),
                        "effort_minutes": float(rng.integers(1, 40)),
                        "transfers": int(rng.integers(0, 2)),
                        "abandoned_legs": int(rng.integers(0, 2)),
                        "wait_seconds": float(rng.integers(0, 300)) if rng.random() < 0.7 else None,
                        "sentiment_compound": float(rng.uniform(-1, 1)) if rng.random() < 0.6 else None,
                    }
                )
                at = ended + pd.Timedelta(hours=int(rng.integers(1, 60)))
            if rng.random() < 0.3:
                kind = "nps" if rng.random() < 0.6 else "csat"
                answers.append(
                    {
                        "customer_key": key,
                        "responded_at": at,
                        "survey_type": kind,
                        "score": float(rng.integers(0, 11) if kind == "nps" else rng.integers(1, 6)),
                    }
                )
    crm = []
    for c in range(customers):
        known = c % 3 != 0
        created = START - pd.Timedelta(days=100) if c % 7 else START + pd.Timedelta(days=int(rng.integers(1, days)))
        churned = START + pd.Timedelta(days=float(rng.uniform(5, days + 10))) if known and c % 5 == 0 else None
        crm.append(
            {
                "customer_key": f"c{c:03d}",
                "customer_ref": f"CRM{c}" if known else None,
                "value_tier": ("high" if c % 4 == 0 else "standard") if known else None,
                "crm_created_at": created if known else None,
                "churned_at": churned,
            }
        )
    return frames_from(pd.DataFrame(rows), pd.DataFrame(answers), pd.DataFrame(crm))


def nightly(frames: Frames, history: int | None, con: duckdb.DuckDBPyConnection, previous: str | None):
    """The table after tonight's run, written as dbt's strategy writes it (the macro's SQL) into a copy of last
    night's table ``previous`` (None: a full refresh)."""
    result = nightly_prediction_rows(frames, WINDOW, HORIZON, history, con, previous)
    if previous is None:
        assert computed_in_full(result)
        return whole(result)
    con.execute(f"create or replace table tonight as select * from {previous}")
    write(con, "tonight", result)
    return typed(con.sql("select * from tonight").df(), STORED_ROW_COLUMNS)


def computed_in_full(result: pd.DataFrame | pa.RecordBatchReader | duckdb.DuckDBPyRelation) -> bool:
    """The whole table (a frame, or a reader of its batches), not a change set (a relation)."""
    return isinstance(result, pd.DataFrame | pa.RecordBatchReader)


def whole(result: pd.DataFrame | pa.RecordBatchReader) -> pd.DataFrame:
    return typed(result if isinstance(result, pd.DataFrame) else result.read_pandas(), STORED_ROW_COLUMNS)


def store(con: duckdb.DuckDBPyConnection, name: str, rows: pd.DataFrame) -> None:
    con.register("__rows", rows)
    con.execute(f"create or replace table {name} as select * from __rows")
    con.unregister("__rows")


def ordered(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.sort_values(["model_name", "snapshot_at", "customer_key", "engagement_id"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def history() -> Frames:
    return synthetic()


def next_day(history: Frames) -> tuple[Frames, Frames, dict[str, str]]:
    """Last night's data (up to the afternoon two days before the end) and tonight's: a new day and a half, with
    a late correction of a contact two weeks old, customer b merged into customer c (b's contacts re-keyed, b's
    CRM row gone), and a CRM churn recorded today for customer d."""
    last = history.data_end.floor("D") - pd.Timedelta(days=1) + pd.Timedelta(hours=15)
    before = as_of(history, last)
    it, cu = history.interactions.copy(), history.customers.copy()
    crm = cu.loc[cu["customer_ref"].notna() & cu["churned_at"].isna() & (cu["crm_created_at"] < START), "customer_key"]
    old = it[it["ended_at"].between(last - pd.Timedelta(days=14), last - pd.Timedelta(days=10))]
    old = old[old["customer_key"].isin(crm)]
    a = old["customer_key"].iloc[0]
    it.loc[old.index[0], "transfers"] += 2.0  # transfers_30d of the churn rows of the last 10 to 14 days
    b, c = "c010", "c011"
    it.loc[it["customer_key"] == b, "customer_key"] = c
    cu = cu[cu["customer_key"] != b]
    alive = cu[cu["customer_ref"].notna() & cu["churned_at"].isna() & (cu["crm_created_at"] < last)]
    d = alive["customer_key"].iloc[3]
    cu.loc[cu["customer_key"] == d, "churned_at"] = history.data_end - pd.Timedelta(hours=3)
    return before, Frames(it, history.surveys, cu), {"a": a, "b": b, "c": c, "d": d}


@pytest.mark.parametrize("history_days", [20, None], ids=["bounded_history", "unbounded"])
def test_the_nightly_rows_equal_a_full_recompute(history, history_days) -> None:
    """Last night's table, then tonight's data (a new day, a late correction, a merge, a CRM churn): the rows
    computed from last night's table are those of a full recompute, value for value (order aside), fingerprints
    included; and the run did keep rows (it was not a full recompute in disguise)."""
    before, today, who = next_day(history)
    con = duckdb.connect()
    store(con, "previous", nightly(before, history_days, con, None))
    result = nightly_prediction_rows(today, WINDOW, HORIZON, history_days, con, "previous")
    assert not computed_in_full(result)  # the incremental path, not the full fallback
    got, want = nightly(today, history_days, con, "previous"), nightly(today, history_days, con, None)
    pd.testing.assert_frame_equal(ordered(got), ordered(want), check_exact=True)
    # The scenario's changes are in the rows: the correction moved a feature of a time last night knew, the
    # merged key is gone, the churn is labelled.
    then = nightly(before, history_days, con, None)
    then = then[(then["customer_key"] == who["a"]) & (then["snapshot_at"] < before.data_end)]
    now = want.merge(then[["model_name", "snapshot_at", "customer_key", "engagement_id"]])
    assert (now["transfers_30d"].sum() - then["transfers_30d"].sum()) > 0
    assert not (want["customer_key"] == who["b"]).any()
    churned = want[(want["model_name"] == "churn") & (want["customer_key"] == who["d"])]
    assert churned["label"].any()
    # Times that fell out of the history, and last night's end (not a midnight), are gone.
    assert before.data_end not in set(got["snapshot_at"])


def test_an_unchanged_customer_keeps_last_nights_rows(history) -> None:
    """A customer whose inputs known last night did not change is not recomputed: a marker written into their
    rows of last night's table survives (where the label is final), also for a customer whose churn was recorded
    tonight; the changed ones' rows are recomputed."""
    before, today, who = next_day(history)
    con = duckdb.connect()
    previous = nightly(before, 20, con, None)
    untouched = previous[~previous["customer_key"].isin(list(who.values()))]["customer_key"].iloc[0]
    for key in (untouched, who["a"], who["c"]):
        previous.loc[previous["customer_key"] == key, "tenure_days"] = -1.0
    store(con, "previous", previous)
    got = nightly(today, 20, con, "previous")
    assert (got.loc[got["customer_key"] == untouched, "tenure_days"] == -1.0).any()
    # A churn recorded tonight (after last night's end) changes no input of the times up to it: d is kept and
    # only relabelled, not recomputed at every time.
    previous.loc[previous["customer_key"] == who["d"], "tenure_days"] = -1.0
    store(con, "previous", previous)
    got = nightly(today, 20, con, "previous")
    assert (got.loc[got["customer_key"] == who["d"], "tenure_days"] == -1.0).any()
    for changed in (who["a"], who["c"]):
        assert not (got.loc[got["customer_key"] == changed, "tenure_days"] == -1.0).any()


def test_the_nightly_write_holds_only_what_changed(history) -> None:
    """The change set the model hands to the strategy holds no row as it already is in last night's table except
    those of the customers recomputed (a late correction, a merge): an unchanged customer's kept rows are not
    written again, only relabelled where their label or label_known changes (the churn recorded today)."""
    before, today, who = next_day(history)
    con = duckdb.connect()
    store(con, "previous", nightly(before, 20, con, None))
    changes = nightly_prediction_rows(today, WINDOW, HORIZON, 20, con, "previous").df()
    con.register("rows", typed(changes[~changes["model_name"].str.startswith("__")], STORED_ROW_COLUMNS))
    # Set operations take NULLs as equal: a row of the change set that last night's table holds as it is.
    same = con.sql("select distinct customer_key from (select * from rows intersect all select * from previous)")
    assert {key for (key,) in same.fetchall()} <= {who["a"], who["c"]}
    ((relabelled, written, table),) = con.sql(
        f"select count(*) filter (customer_key = '{who['d']}' and model_name = 'churn' and label), count(*), "
        "(select count(*) from previous) from rows"
    ).fetchall()
    assert relabelled > 0 and written < table / 2
    assert (changes["model_name"] == "__delete_customer").any() and (changes["model_name"] == "__changes").sum() == 1


@pytest.mark.parametrize(
    "change",
    ["survey_answer", "value_tier", "crm_created", "contact_started_before_the_end", "late_contact_of_a_new_key"],
)
def test_a_change_to_any_earlier_input_recomputes_the_customer(history, change) -> None:
    """Each input the rows of earlier times read, changed for one customer, makes the nightly rows equal a full
    recompute again (the fingerprint sees it): an old survey answer's score, the CRM value tier, the CRM creation
    date, and a contact that started before last night's end but ended after it (a label of a closed horizon
    reads the contacts started in it)."""
    before, today, who = next_day(history)
    last = before.data_end
    it, sv, cu = today.interactions.copy(), today.surveys.copy(), today.customers.copy()
    others = ~cu["customer_key"].isin(list(who.values()))  # not already recomputed for the scenario's changes
    if change == "survey_answer":
        # A promoter's answer, now a detractor's, of a CRM customer with rows after it.
        crm = cu.loc[others & cu["customer_ref"].notna() & cu["churned_at"].isna(), "customer_key"]
        recent = sv["responded_at"].between(last - pd.Timedelta(days=15), last - pd.Timedelta(days=2))
        promoter = recent & (sv["survey_type"] == "nps") & (sv["score"] > 6) & sv["customer_key"].isin(crm)
        sv.loc[sv.index[promoter][0], "score"] = 0.0
    elif change == "value_tier":
        i = cu.index[(cu["value_tier"] == "standard") & others][0]
        cu.loc[i, "value_tier"] = "high"
    elif change == "crm_created":
        i = cu.index[(cu["crm_created_at"] < last - pd.Timedelta(days=30)) & others][0]
        cu.loc[i, "crm_created_at"] = last - pd.Timedelta(days=3)
    elif change == "late_contact_of_a_new_key":
        # A customer with no rows last night (a key new to the table) whose contact, ended two days before last
        # night's end, arrives late: an engagement open at the kept midnights after it.
        late = it.iloc[[0]].copy()
        late["interaction_id"], late["engagement_id"], late["customer_key"] = "late-2", "late-2", "c999"
        late["intent"], late["is_customer_initiated"], late["is_resolved"] = "billing_question", True, False
        late["started_at"], late["ended_at"] = last - pd.Timedelta(days=2, minutes=30), last - pd.Timedelta(days=2)
        it = pd.concat([it, late], ignore_index=True)
        cu = pd.concat([cu, cu.iloc[[0]].assign(customer_key="c999", customer_ref=None, value_tier=None)])
        cu = cu.assign(crm_created_at=cu["crm_created_at"].where(cu["customer_key"] != "c999"))
    else:
        # An open engagement whose label was final last night (no contact on its intent within the window), and a
        # contact on it that started within that window, before last night's end, but ended after it.
        rows = nightly(before, 20, duckdb.connect(), None)
        closed = rows[(rows["model_name"] == "repeat_contact") & rows["label_known"] & ~rows["label"]]
        row = closed[closed["snapshot_at"] + pd.Timedelta(days=WINDOW) < last - pd.Timedelta(hours=2)].iloc[-1]
        late = it[it["engagement_id"] == row["engagement_id"]].iloc[[0]].copy()
        late["interaction_id"], late["engagement_id"], late["is_customer_initiated"] = "late-1", "late", True
        late["started_at"] = row["snapshot_at"] + pd.Timedelta(hours=1)
        late["ended_at"] = last + pd.Timedelta(hours=1)
        it = pd.concat([it, late], ignore_index=True)
    today = Frames(it, sv, cu)
    con = duckdb.connect()
    store(con, "previous", nightly(before, 20, con, None))
    pd.testing.assert_frame_equal(
        ordered(nightly(today, 20, con, "previous")), ordered(nightly(today, 20, con, None)), check_exact=True
    )


def test_a_churn_recorded_ahead_and_withdrawn_or_moved_is_relabelled(history) -> None:
    """Last night's CRM already held churns after its end (scheduled ones), labelled true on the open churn rows;
    tonight one is withdrawn, one moved past every open horizon, one moved a few days later, and one customer's
    churn is recorded for the first time after last night's end. None changes an input as known at last night's
    end (the customers are kept), so only the relabelling can change their rows: the rows whose stored label is
    true, and those of customers churned after last night's end (incremental.relabelled_rows_sql's rule)."""
    before, today, _ = next_day(history)
    last = before.data_end
    cu = before.customers.copy()
    alive = cu.index[cu["customer_ref"].notna() & cu["churned_at"].isna() & (cu["crm_created_at"] < START)]
    withdrawn, moved_out, moved, recorded = (cu.loc[i, "customer_key"] for i in alive[5:9])
    ahead = {withdrawn: 2, moved_out: 3, moved: 1}
    for key, days in ahead.items():
        cu.loc[cu["customer_key"] == key, "churned_at"] = last + pd.Timedelta(days=days)
    before = Frames(before.interactions, before.surveys, cu)
    cu = today.customers.copy()
    tonight = {withdrawn: None, moved_out: last + pd.Timedelta(days=HORIZON + 5), moved: last + pd.Timedelta(days=6)}
    tonight[recorded] = last + pd.Timedelta(days=4)
    for key, churned in tonight.items():
        cu.loc[cu["customer_key"] == key, "churned_at"] = churned
    today = Frames(today.interactions, today.surveys, cu)
    con = duckdb.connect()
    previous = nightly(before, 20, con, None)
    churn = previous[previous["model_name"] == "churn"]
    assert churn[churn["customer_key"].isin(list(ahead))].groupby("customer_key")["label"].any().all()
    store(con, "previous", previous)
    got, want = nightly(today, 20, con, "previous"), nightly(today, 20, con, None)
    pd.testing.assert_frame_equal(ordered(got), ordered(want), check_exact=True)
    labelled = want[(want["model_name"] == "churn") & want["label"]].groupby("customer_key").size()
    assert withdrawn not in labelled and moved_out not in labelled and recorded in labelled and moved in labelled


def test_a_changed_parameter_or_an_old_table_means_a_full_recompute(history) -> None:
    """Another window, horizon or history bound than last night's, an engagement of two customers, or last night's
    table of another shape (built before the fingerprints) or none: the rows are computed in full."""
    before, today, _ = next_day(history)
    con = duckdb.connect()
    store(con, "previous", nightly(before, 20, con, None))
    result = nightly_prediction_rows(today, WINDOW, HORIZON, 25, con, "previous")
    assert computed_in_full(result)
    pd.testing.assert_frame_equal(ordered(whole(result)), ordered(nightly(today, 25, con, None)))
    # An engagement of two customers: a customer's rows would read another's contacts.
    it = today.interactions.copy()
    two = it["engagement_id"].duplicated(keep=False)
    it.loc[it.index[two][0], "customer_key"] = "c999"
    shared = Frames(it, today.surveys, today.customers)
    assert computed_in_full(nightly_prediction_rows(shared, WINDOW, HORIZON, 20, con, "previous"))
    con.execute(f"alter table previous drop column {FINGERPRINT}")
    assert computed_in_full(nightly_prediction_rows(today, WINDOW, HORIZON, 20, con, "previous"))
    assert computed_in_full(nightly_prediction_rows(today, WINDOW, HORIZON, 20, con, "missing_table"))


def test_the_full_computation_by_batches_equals_one_batch(history, monkeypatch, caplog) -> None:
    """Computed in full by batches of customers (bounded memory, issue 22), the rows are those of the one-batch
    computation, value for value and fingerprints included, with a bounded history (each batch's own ``earlier``
    sums); so is the nightly run's fall-back to a full recompute (another history bound last night), which dbt
    gets as a reader of batches too. The batch size is forced small enough for three batches of the fixture's
    80 customers."""
    before, today, _ = next_day(history)
    one, want = nightly(history, 20, None, None), nightly(today, 20, None, None)
    monkeypatch.setattr(batched, "BATCH_ROWS", 600)
    con = duckdb.connect()
    with caplog.at_level(logging.INFO, logger=batched.__name__):
        result = nightly_prediction_rows(history, WINDOW, HORIZON, 20, con, None)
    assert isinstance(result, pa.RecordBatchReader)  # the batched path
    (message,) = [r.getMessage() for r in caplog.records if "batches" in r.getMessage()]
    assert " in 3 batches " in message, message
    pd.testing.assert_frame_equal(ordered(whole(result)), ordered(one), check_exact=True)
    store(con, "previous", nightly(before, None, con, None))
    fallback = nightly_prediction_rows(today, WINDOW, HORIZON, 20, con, "previous")
    assert isinstance(fallback, pa.RecordBatchReader)
    pd.testing.assert_frame_equal(ordered(whole(fallback)), ordered(want), check_exact=True)


def model_inputs(con: duckdb.DuckDBPyConnection, frames: Frames) -> dict[str, duckdb.DuckDBPyRelation]:
    """``frames`` as the dbt model gets its inputs: tables of the database, read by a cursor (dbt-duckdb's session)
    as relations ``select * from <table>``."""
    tables = {
        "int_prediction_interactions": frames.interactions,
        "fct_survey_answers": frames.surveys.assign(is_valid_score=True),
        "dim_customers": frames.customers,
    }
    for name, df in tables.items():
        store(con, name, df)
    return {name: con.query(f"select * from {name}") for name in tables}


@pytest.mark.parametrize(
    ("history_days", "batch_rows"), [(None, 300), (5, 60)], ids=["whole_history", "bounded_history"]
)
def test_the_full_computation_reads_its_batches_from_duckdb(
    history, tmp_path, monkeypatch, caplog, history_days, batch_rows
) -> None:
    """dbt's full refresh (the model's inputs are tables, the result a reader that dbt-duckdb writes with ``create
    table as``): each batch of customers is read from DuckDB while that statement runs (on a cursor: the model's
    connection is busy), and the table equals the one-batch computation from the whole frames, value for value and
    fingerprints included, with many batches (``CONTACT_WAREHOUSE_PREDICTION_BATCH_ROWS`` forced small) and with a
    bounded history (each batch's ``earlier`` summed in DuckDB). A NULL customer key or an engagement of two
    customers, found in DuckDB, makes it one batch (the frame)."""
    one = nightly_prediction_rows(history, WINDOW, HORIZON, history_days, None, None)
    assert isinstance(one, pd.DataFrame) and len(one)
    monkeypatch.setenv(batched.BATCH_ROWS_ENV, str(batch_rows))
    session = duckdb.connect(str(tmp_path / "warehouse.duckdb")).cursor()
    params = Params(engagement_window_days=WINDOW, churn_horizon_days=HORIZON, prediction_history_days=history_days)
    with caplog.at_level(logging.INFO, logger=batched.__name__):
        result = prediction_rows(model_inputs(session, history), params, session, None)
    assert isinstance(result, pa.RecordBatchReader)
    (message,) = [r.getMessage() for r in caplog.records if "batches of customers read from DuckDB" in r.getMessage()]
    assert int(message.split(" in ")[1].split()[0]) >= 5, message
    write(session, "int_prediction_rows", result)  # as dbt-duckdb materializes the model's result
    got = typed(session.sql("select * from int_prediction_rows").df(), STORED_ROW_COLUMNS)
    pd.testing.assert_frame_equal(ordered(got), ordered(one), check_exact=True)
    null_key, shared = history.interactions.copy(), history.interactions.copy()
    null_key.loc[null_key.index[5], "customer_key"] = None
    shared.loc[shared.index[shared["engagement_id"].duplicated(keep=False)][0], "customer_key"] = "c999"
    for it in (null_key, shared):
        frames = Frames(it, history.surveys, history.customers)
        assert isinstance(prediction_rows(model_inputs(session, frames), params, session, None), pd.DataFrame)


def test_the_nightly_reads_of_the_history_are_what_bounded_keeps(history) -> None:
    """What a nightly run reads into pandas for the new prediction times (``reads.window``, cut in DuckDB) is what
    ``bounded`` keeps of the whole frames, row for row, with the same per-customer sums of the rest (``earlier``):
    the new times' features read the same values while the older history stays in DuckDB. Cut into batches of
    customers, the batches hold every customer's rows once."""
    con = duckdb.connect()
    named(con, sources_of(history, con))
    first = history.data_end.floor("D") - pd.Timedelta(days=2)
    want = bounded(history, first, WINDOW)
    coded = window(con, first, WINDOW)
    # The keys arrive as codes in the keys' sorted order (what snapshots.coded gives), with the keys to decode them.
    assert coded.codes is not None and all(list(keys) == sorted(keys) for keys in coded.codes)
    got = decoded(coded)
    assert want.earlier is not None and len(got.interactions) < len(history.interactions)

    def rows(df: pd.DataFrame, key: str) -> pd.DataFrame:
        return df.sort_values(key).reset_index(drop=True)

    # The interaction ids arrive as their rank (they only order the contacts): the same order, the same rows.
    assert list(rows(got.interactions, "interaction_id")["interaction_id"]) == list(range(1, len(got.interactions) + 1))
    pd.testing.assert_frame_equal(
        rows(got.interactions, "interaction_id").drop(columns="interaction_id"),
        rows(want.interactions, "interaction_id").drop(columns="interaction_id"),
    )
    pd.testing.assert_frame_equal(rows(got.earlier, "customer_key"), rows(want.earlier, "customer_key"))
    parts = [window(con, first, WINDOW, (b, 3)) for b in range(3)]
    assert all(len(p.customers) for p in parts)
    for name in ("interactions", "surveys", "customers"):
        whole = pd.concat([getattr(p, name) for p in parts])
        assert len(whole) == len(getattr(got, name))
    assert sorted(pd.concat([decoded(p).earlier for p in parts])["customer_key"]) == sorted(got.earlier["customer_key"])
    # Every batch from one split of the inputs (``windows``, the full build's path for more than two batches): each
    # batch's frames are window's of that batch, value for value; the split's temporary tables are gone after.
    split = list(windows(con, first, WINDOW, 3))
    assert len(split) == 3
    for one, other in zip(split, parts, strict=True):
        a, b = decoded(one), decoded(other)
        for name, key in (("interactions", "interaction_id"), ("surveys", "responded_at"), ("customers", None)):
            by = [key, "customer_key"] if key else ["customer_key"]
            pd.testing.assert_frame_equal(rows(getattr(a, name), by), rows(getattr(b, name), by), check_exact=True)
        pd.testing.assert_frame_equal(rows(a.earlier, "customer_key"), rows(b.earlier, "customer_key"))
    assert not con.sql("select * from duckdb_tables() where table_name like '__prediction_rows_%'").fetchall()
    # A NULL key: the frames stay uncoded (snapshots.coded leaves them so too), the same rows.
    null_key = history.interactions.copy()
    null_key.loc[null_key.index[5], "customer_key"] = None
    con = duckdb.connect()
    named(con, sources_of(Frames(null_key, history.surveys, history.customers), con))
    uncoded = window(con, first, WINDOW)
    want = bounded(Frames(null_key, history.surveys, history.customers), first, WINDOW)
    assert uncoded.codes is None
    pd.testing.assert_frame_equal(
        rows(uncoded.interactions, "interaction_id"), rows(want.interactions, "interaction_id")
    )


def decoded(frames: Frames) -> Frames:
    """``frames`` read by ``reads.window`` with their keys as strings again (it codes them in DuckDB)."""
    assert frames.codes is not None
    customers, engagements = frames.codes

    def keys(df: pd.DataFrame) -> pd.DataFrame:
        out = df.assign(customer_key=customers[df["customer_key"].to_numpy()])
        if "engagement_id" in out:
            out["engagement_id"] = engagements[out["engagement_id"].to_numpy()]
        return out

    earlier = keys(frames.earlier) if frames.earlier is not None else None
    return Frames(keys(frames.interactions), keys(frames.surveys), keys(frames.customers), earlier)


def test_the_nightly_rows_by_batches_equal_a_full_recompute(history, monkeypatch, caplog) -> None:
    """The new prediction times computed by batches of customers (bounded memory: the batch size forced small,
    several batches for the fixture's 80 customers): the nightly table still equals a full recompute."""
    before, today, _ = next_day(history)
    con = duckdb.connect()
    store(con, "previous", nightly(before, 20, con, None))
    want = nightly(today, 20, con, None)
    monkeypatch.setattr(batched, "BATCH_ROWS", 200)
    with caplog.at_level(logging.INFO, logger="contact_warehouse.predictions.incremental"):
        got = nightly(today, 20, con, "previous")
    (message,) = [r.getMessage() for r in caplog.records if "batches of customers" in r.getMessage()]
    assert " in 1 batches" not in message, message
    pd.testing.assert_frame_equal(ordered(got), ordered(want), check_exact=True)


@pytest.mark.parametrize(
    ("first_day", "batch_rows", "null_key", "missing_times"),
    [(0, batched.BATCH_ROWS, False, False), (25, batched.BATCH_ROWS, False, False), (25, 150, False, False)]
    + [(0, 1, False, False), (25, batched.BATCH_ROWS, True, False), (25, 150, False, True)],
    ids=["whole_history", "bounded_history", "several_passes", "one_time_a_pass", "a_null_key", "missing_times"],
)
def test_the_recomputed_customers_stacked_equal_rows_at(
    history, first_day, batch_rows, null_key, missing_times
) -> None:
    """The nightly run computes its recomputed customers at the kept times from stacked copies shifted in time
    (stacked.py, issue 22): the rows are those of ``rows_at`` time by time, to the last bit and in the same order,
    from the whole history or one ``bounded`` at the first time (its ``earlier`` summed with what each copy's cut
    drops), in one pass or in several (a bound on the stacked rows), and ``rows_at`` itself with a NULL key. A
    missing start, end or answer time (NaT: false in every comparison) is read or dropped by each copy as
    ``rows_at`` reads or drops it (the case fails a vectorised cut that reads a NaT start as later)."""
    frames = history
    if null_key:
        it = frames.interactions.copy()
        it.loc[it.index[len(it) // 3], "customer_key"] = None
        frames = Frames(it, frames.surveys, frames.customers)
    if missing_times:
        it, sv = frames.interactions.copy(), frames.surveys.copy()
        it.loc[it.index[len(it) // 3], "started_at"] = pd.NaT
        # A whole engagement without times: its latest end or start is NaT (never recent, always dropped).
        it.loc[it["engagement_id"] == it["engagement_id"].iloc[len(it) // 2], ["started_at", "ended_at"]] = pd.NaT
        sv.loc[sv.index[len(sv) // 2], "responded_at"] = pd.NaT
        frames = Frames(it, sv, frames.customers)
    times = snapshot_times(frames)[first_day:]
    cut = bounded(frames, times[0], WINDOW) if first_day else frames
    assert (cut.earlier is not None) == bool(first_day) and len(times) > 5
    expected = rows_at(cut, times, WINDOW, HORIZON, frames.data_end)
    got = stacked_rows_at(cut, times, WINDOW, HORIZON, frames.data_end, batch_rows=batch_rows)
    assert len(expected) and expected["label"].any() and expected["label_known"].any()
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_duckdbs_codes_are_the_codes_pandas_gives_whatever_the_keys_spelling(history) -> None:
    """``reads.window`` numbers the keys in DuckDB's order, ``snapshots.coded`` in Python's: the same codes when the
    keys mix case, digits and characters beyond ASCII (DuckDB's byte order of UTF-8 is Python's code point order),
    so the features group and order the rows as before."""
    spellings = ["B", "a10", "a2", "é", "Z", "ß", "a1", "\U0001f600x", "ab", "Ab", "z", "É"]
    customers = sorted(history.customers["customer_key"].dropna().unique())
    renamed = {key: f"{spellings[i % len(spellings)]}{i // len(spellings)}" for i, key in enumerate(customers)}
    engagements = sorted(history.interactions["engagement_id"].dropna().unique())
    engaged = {key: f"{spellings[-1 - i % len(spellings)]}-{i}" for i, key in enumerate(engagements)}
    frames = Frames(
        history.interactions.assign(
            customer_key=history.interactions["customer_key"].map(renamed),
            engagement_id=history.interactions["engagement_id"].map(engaged),
        ),
        history.surveys.assign(customer_key=history.surveys["customer_key"].map(renamed)),
        history.customers.assign(customer_key=history.customers["customer_key"].map(renamed)),
    )
    con = duckdb.connect()
    named(con, sources_of(frames, con))
    first = history.data_end.floor("D") - pd.Timedelta(days=2)
    in_duckdb = coded(window(con, first, WINDOW))
    in_pandas = coded(bounded(frames, first, WINDOW))
    assert list(in_duckdb.customer_keys) == list(in_pandas.customer_keys)
    assert list(in_duckdb.engagement_ids) == list(in_pandas.engagement_ids)
    got, want = in_duckdb.frames.interactions, in_pandas.frames.interactions
    for key in ("customer_key", "engagement_id"):
        assert list(got[key]) == list(want[key])  # both in the contacts' order
    assert sorted(in_duckdb.frames.customers["customer_key"]) == sorted(in_pandas.frames.customers["customer_key"])
