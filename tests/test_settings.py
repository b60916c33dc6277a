"""Every CONTACT_WAREHOUSE_* setting the code reads is a known setting: the CLI refuses unknown ones, so a setting
read by a library module but unknown to the check would stop every run that sets it."""

from __future__ import annotations

import re

from contact_warehouse.settings import ROOT, SETTINGS, known_settings, unknown_settings

NAME = re.compile(r"CONTACT_WAREHOUSE_[A-Z0-9_]*[A-Z0-9]")


def test_every_setting_read_by_the_code_is_known() -> None:
    read = {
        name
        for package in ("contact_warehouse", "orchestration")
        for path in (ROOT / package).rglob("*.py")
        for name in NAME.findall(path.read_text(encoding="utf-8"))
    }
    assert read - known_settings() == set()
    assert {"CONTACT_WAREHOUSE_SETTLE_SECONDS", "CONTACT_WAREHOUSE_FUTURE_TOLERANCE_MINUTES"} <= set(SETTINGS)


def test_a_misspelt_setting_is_unknown() -> None:
    assert unknown_settings({"CONTACT_WAREHOUSE_SETTLE_SECOND": "0", "CONTACT_WAREHOUSE_DB": "x"}) == [
        "CONTACT_WAREHOUSE_SETTLE_SECOND"
    ]
