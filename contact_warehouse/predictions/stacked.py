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

The copies are taken for all the times of a pass at once (a mask of times x rows, one ``take`` per input), not
one frame per time: building 89 copies one by one cost ~13 ms of pandas steps each, 1.2 of the 2.3 s CPU the
recomputed customers took at 120 days (DECISIONS.md "The stacked copies taken at once", ninth session).

With a NULL key (``coded`` leaves the keys as strings) it is ``rows_at`` itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _assemble, rows_at
from .features import DAY, Frames
from .snapshots import Part, coded, parts_at


def _kept(frames: Frames, times: list[pd.Timestamp], latest: pd.Series, window_days: int) -> tuple[np.ndarray, ...]:
    """Per time ``t`` of ``times`` (rows) and interaction of coded ``frames`` (columns): whether ``t`` reads it
    and whether ``bounded`` drops it at ``t`` (summed in ``earlier``); per time and answer, whether ``t`` reads it.
    ``latest``: per contact, its engagement's latest end or start. Comparisons with NaT are false, as in pandas."""
    at = np.array(times, dtype="datetime64[us]")[:, None]
    it, sv = frames.interactions, frames.surveys
    # bounded's rule: kept when any contact of the engagement ended or started after the cut (coded: no NULL id).
    recent = latest.to_numpy(dtype="datetime64[us]")[None, :] > at - np.timedelta64(max(30, window_days) * DAY)
    later = it["started_at"].to_numpy(dtype="datetime64[us]")[None, :] > at + np.timedelta64(window_days * DAY)
    answered = sv["responded_at"].to_numpy(dtype="datetime64[us]")[None, :] <= at
    return recent & ~later, ~recent, answered


def _copies(
    df: pd.DataFrame, mask: np.ndarray | None, shifts: list[pd.Timedelta], columns: tuple[str, ...], **keys: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows of ``df`` each copy holds (``mask``: copies x rows; None: every row in every copy), copy after copy
    and in ``df``'s order within a copy, with the copy's keys (``key + copy * offset``) and its times moved by its
    shift: one ``take``, not one frame per copy. Also the copy of each row."""
    if mask is None:
        mask = np.ones((len(shifts), len(df)), dtype=bool)
    copy, rows = np.nonzero(mask)
    out = df.take(rows).reset_index(drop=True)
    by_copy = pd.Series(pd.to_timedelta(shifts)).to_numpy()[copy]
    # Set in place on the frame just taken (``assign`` would copy every column of every copy once more).
    for name, offset in keys.items():
        out[name] = out[name] + copy * offset
    for c in columns:
        out[c] = out[c] + by_copy
    return out, copy


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
    shifts = [last - t for t in times]
    kept, dropped, answered = _kept(code_frames, times, latest, window_days)
    cf = code_frames
    it, _ = _copies(
        cf.interactions, kept, shifts, ("started_at", "ended_at"), customer_key=n_keys, engagement_id=n_engagements
    )
    sv, _ = _copies(cf.surveys, answered, shifts, ("responded_at",), customer_key=n_keys)
    cu, _ = _copies(cf.customers, None, shifts, ("crm_created_at", "churned_at"), customer_key=n_keys)
    earlier = []
    if dropped.any():
        # Only the columns ``earlier`` sums, copy by copy in numpy: the dropped rows are most of the history at
        # every time, and an index of them all (a ``take``) would hold two more arrays of that size.
        it_all = cf.interactions
        keys, initiated = it_all["customer_key"].to_numpy(), it_all["is_customer_initiated"].astype(float).to_numpy()
        ended = it_all["ended_at"].to_numpy()
        parts = [
            (keys[m] + k * n_keys, initiated[m], ended[m] + shifts[k].to_timedelta64()) for k, m in enumerate(dropped)
        ]
        summed = pd.DataFrame(
            {
                "customer_key": np.concatenate([p[0] for p in parts]),
                "contacts": np.concatenate([p[1] for p in parts]),
                "last_ended_at": np.concatenate([p[2] for p in parts]),
            }
        )
        del parts
        earlier.append(summed)
    if cf.earlier is not None:
        earlier.append(_copies(cf.earlier, None, shifts, ("last_ended_at",), customer_key=n_keys)[0])
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
    stacked = Frames(it, sv, cu, ea)
    del it, sv, cu, earlier
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
    kept, _, answered = _kept(cf, times, latest, window_days)
    sizes = (kept.sum(axis=1) + len(cf.customers) + answered.sum(axis=1)).tolist()
    del kept, answered
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
