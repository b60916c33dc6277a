"""Mapping profiles: timestamps of a local-time export that the profile's formats leave to the ISO-8601 fallback
(contact_warehouse/loading/conversion.py). Values with an offset keep it, the others are read in the profile's
zone; pandas must not warn (its FutureWarning becomes an error in pandas 3)."""

from __future__ import annotations

import pandas as pd
import pytest

from contact_warehouse.loading.conversion import _parse_timestamps

FORMATS = ("%d/%m/%Y %H:%M",)
pytestmark = pytest.mark.filterwarnings("error::FutureWarning")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # the fallback rows beside rows the format parses: the case that warned (and, with an offset, raised)
        (["05/10/2026 10:00", "2026-10-05 10:00"], ["2026-10-05 08:00", "2026-10-05 08:00"]),
        (["2026-10-05T10:00:00+02:00", "05/10/2026 10:00"], ["2026-10-05 08:00", "2026-10-05 08:00"]),
        (["2026-10-05 10:00", "2026-10-05T10:00:00-04:00"], ["2026-10-05 08:00", "2026-10-05 14:00"]),
        # every row left to the fallback; a blank and a non-date stay NaT (the loader quarantines the latter)
        (
            ["2026-10-05T10:00:00Z", "2026-10-05 10:00", "", "soon"],
            ["2026-10-05 10:00", "2026-10-05 08:00", None, None],
        ),
    ],
)
def test_fallback_rows_keep_their_offset_or_take_the_profile_zone(values: list[str], expected: list) -> None:
    parsed = _parse_timestamps(pd.Series(values, dtype=object), FORMATS, "Europe/Berlin")
    assert parsed.tolist() == [pd.NaT if e is None else pd.Timestamp(e, tz="UTC") for e in expected]
