"""The rows of a few customers at many prediction times in a few pandas passes, not one per time (issue 22).

The nightly run recomputes the customers whose inputs changed (a late contact, a correction, a merge) at every kept
prediction time: 89 times at 120 days of history. ``rows_at`` runs ``parts_at`` once per time, and each run costs
a fixed ~30-50 ms of pandas steps whatever the number of customers, so a few hundred customers cost what the
number of times costs (DECISIONS.md "The recomputed customers in one pass of stacked copies").

``stacked_rows_at`` gives the rows of ``rows_at``, row for row, from one ``parts_at`` over copies of the inputs,
one copy per time ``t``, each shifted in time by ``T - t`` (``T`` the last time of the pass) and with keys of its
own (the integer codes of ``coded`` plus the copy's number times their count). Nothing the rows compute depends on
a time other than through differences with the prediction time or comparisons with it (features.py, snapshots.py:
``known_at``, windows of 7 and 30 days, hours and days since, tenure, the labels' horizons), and a difference of
two timestamps moved by the same amount is the same integer number of microseconds, so the features and labels of
the copy of ``t`` at ``T`` are those of the original at ``t``, to the last bit; each copy keeps its rows in their
order (float sums and means add in the same order).

Each copy holds what its time reads (``bounded``'s cut at ``t``, vectorised: the interactions of an engagement
with a contact ended or started after ``t`` less the longest window, with the older ones summed per customer in
``earlier``; none started after ``t`` plus the repeat-contact window, which neither the features, known at ``t``,
nor the label, the window after ``t``, read; the answers given by ``t``), so a pass costs what the windows cost,
not the history times the times. Times are grouped into passes of at most about ``batch_rows`` stacked rows
(``CONTACT_WAREHOUSE_PREDICTION_BATCH_ROWS``): memory stays bounded however many customers a night recomputes.

With a NULL key (``coded`` leaves the keys as strings) it is ``rows_at`` itself.
"""

from __future__ import annotations

import pandas as pd

from . import _assemble, rows_at
from .features import DAY, Frames
from .snapshots import Part, coded, parts_at


def _read_at(
    frames: Frames, t: pd.Timestamp, latest: pd.Series, window_days: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """What time ``t`` reads of coded ``frames`` (interactions, answers, customers) and the interactions
    ``bounded`` drops at ``t`` (summed in ``earlier``). ``latest``: per contact, its engagement's latest end or
    start."""
    it, sv, cu = frames.interactions, frames.surveys, frames.customers
    cut = t - max(30, window_days) * DAY
    # bounded's rule: kept when any contact of the engagement ended or started after the cut (coded: no NULL id).
    recent = (latest > cut).to_numpy()
    keep = recent & ~(it["started_at"] > t + window_days * DAY).to_numpy()
    return it[keep], sv[(sv["responded_at"] <= t).to_numpy()], cu, it[~recent]


def _keyed(df: pd.DataFrame, offset: int, columns: tuple[str, ...], shift: pd.Timedelta, **keys: int) -> pd.DataFrame:
    moved = {c: df[c] + shift for c in columns}
    return df.assign(**{name: df[name] + off * offset for name, off in keys.items()}, **moved)


def _pass(
    code_frames: Frames,
    latest: pd.Series,
    times: list[pd.Timestamp],
    n_keys: int,
    n_engagements: int,
    window_days: int,
    horizon_days: int,
) -> tuple[list[Part], list[Part]]:
    """The repeat-contact and churn parts of ``times`` from one ``parts_at`` at the last of them."""
    last = times[-1]
    its, svs, cus, earlier = [], [], [], []
    base = code_frames.earlier
    for k, t in enumerate(times):
        shift = last - t
        it, sv, cu, dropped = _read_at(code_frames, t, latest, window_days)
        its.append(_keyed(it, k, ("started_at", "ended_at"), shift, customer_key=n_keys, engagement_id=n_engagements))
        svs.append(_keyed(sv, k, ("responded_at",), shift, customer_key=n_keys))
        cus.append(_keyed(cu, k, ("crm_created_at", "churned_at"), shift, customer_key=n_keys))
        if len(dropped):
            summed = pd.DataFrame(
                {
                    "customer_key": dropped["customer_key"] + k * n_keys,
                    "contacts": dropped["is_customer_initiated"].astype(float),
                    "last_ended_at": dropped["ended_at"] + shift,
                }
            )
            earlier.append(summed)
        if base is not None:
            earlier.append(_keyed(base, k, ("last_ended_at",), shift, customer_key=n_keys))
    ea = None
    if earlier:
        # One sum per customer and copy of what the copy's cut dropped and what the frames' own bound had (whole
        # numbers as floats: exact in any order), as ``bounded`` sums the dropped rows.
        ea = (
            pd.concat(earlier, ignore_index=True)
            .groupby("customer_key", dropna=False)
            .agg(contacts=("contacts", "sum"), last_ended_at=("last_ended_at", "max"))
            .reset_index()
        )
    stacked = Frames(
        pd.concat(its, ignore_index=True), pd.concat(svs, ignore_index=True), pd.concat(cus, ignore_index=True), ea
    )
    del its, svs, cus, earlier
    repeat, churn = parts_at(stacked, last, window_days, horizon_days)

    def split(part: Part | None) -> list[Part]:
        if part is None:
            return []
        copy = part.customer_key // n_keys
        out = []
        for k, t in enumerate(times):
            mine = copy == k
            if not mine.any():
                continue
            out.append(
                Part(
                    snapshot_at=t,
                    customer_key=part.customer_key[mine] - k * n_keys,
                    engagement_id=None if part.engagement_id is None else part.engagement_id[mine] - k * n_engagements,
                    intent=None if part.intent is None else part.intent[mine],
                    customer_ref=None if part.customer_ref is None else part.customer_ref[mine],
                    features=part.features[mine],
                    label=part.label[mine],
                )
            )
        return out

    return split(repeat), split(churn)


def stacked_rows_at(
    frames: Frames,
    times: list[pd.Timestamp],
    window_days: int,
    horizon_days: int,
    data_end: pd.Timestamp | None,
    batch_rows: int,
) -> pd.DataFrame:
    """``rows_at(frames, times, ...)``, row for row, computed from stacked copies (module docstring): for a few
    customers at many times. ``batch_rows``: at most about this many stacked rows a pass (the callers pass the
    configured batch of the full build, ``batched.configured_batch_rows()``)."""
    code = coded(frames)
    if code.customer_keys is None or code.engagement_ids is None or len(times) < 2:
        return rows_at(frames, times, window_days, horizon_days, data_end)
    cf = code.frames
    it = cf.interactions
    n_keys = max(1, len(code.customer_keys))
    n_engagements = max(1, len(code.engagement_ids))
    # Per contact, the latest end or start of its engagement (NULLs skipped): above a cut, the engagement is kept.
    latest = it[["ended_at", "started_at"]].max(axis=1).groupby(it["engagement_id"]).transform("max")
    limit = batch_rows
    # Times grouped into passes of at most ~limit stacked rows (one time a pass when a time alone exceeds it).
    sizes = [
        int(((latest > t - max(30, window_days) * DAY) & ~(it["started_at"] > t + window_days * DAY)).sum())
        + len(cf.customers)
        + int((cf.surveys["responded_at"] <= t).sum())
        for t in times
    ]
    repeat: list[Part] = []
    churn: list[Part] = []
    group: list[pd.Timestamp] = []
    held = 0
    for t, size in zip([*times, None], [*sizes, 0], strict=True):
        if group and (t is None or held + size > limit):
            r, c = _pass(cf, latest, group, n_keys, n_engagements, window_days, horizon_days)
            repeat += r
            churn += c
            group, held = [], 0
        if t is not None:
            group.append(t)
            held += size
    return _assemble(repeat, churn, code, data_end, window_days, horizon_days)


__all__ = ["stacked_rows_at"]
