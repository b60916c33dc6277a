"""Staging: phone numbers to E.164 (default region configurable), e-mails normalised, latest export wins."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import load_landing

from contact_warehouse.loading.sources import CALLS

HEADER = ",".join(CALLS.main_table.column_names)


def _call(call_id: str, from_number: str, resolved: str = "") -> str:
    return (
        f'{call_id},,inbound,"{from_number}",+18005550100,,billing,A1,2026-10-05T09:14:03Z,,,,0,0,0,'
        f"completed,billing_question,{resolved}"
    )


def test_phone_numbers_normalise_to_e164_and_bad_ones_are_counted(warehouse: Path, tmp_path: Path, dbt) -> None:
    landing = tmp_path / "landing"
    (landing / "calls").mkdir(parents=True)
    rows = [
        _call("p1", "(415) 555-0123"),
        _call("p2", "+1 415 555 0123"),
        _call("p3", "4155550123"),
        _call("p4", "n/a"),
        _call("p5", ""),
    ]
    (landing / "calls" / "calls_2026-10-05.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    load_landing(warehouse, landing)

    result = dbt(["build", "--select", "stg_phone_system__calls"], warehouse)

    with duckdb.connect(str(warehouse), read_only=True) as con:
        phones = dict(con.execute("select call_id, from_phone from staging.stg_phone_system__calls").fetchall())
    assert phones == {"p1": "+14155550123", "p2": "+14155550123", "p3": "+14155550123", "p4": None, "p5": None}
    # The unparseable number is a counted warning, never a failure.
    assert "WARN 1 phone_normalized_stg_phone_system__calls_from_phone__from_number_raw" in result.stdout


def test_default_region_is_a_setting_and_a_change_reenriches(
    warehouse: Path, tmp_path: Path, dbt, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing = tmp_path / "landing"
    (landing / "calls").mkdir(parents=True)
    rows = [_call("g1", "020 7946 0018"), _call("g2", "+1 415 555 0123")]
    (landing / "calls" / "calls_2026-10-05.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    monkeypatch.setenv("CONTACT_WAREHOUSE_PHONE_REGION", "GB")
    load_landing(warehouse, landing)

    dbt(["run", "--select", "stg_phone_system__calls"], warehouse)

    with duckdb.connect(str(warehouse), read_only=True) as con:
        phones = dict(con.execute("select call_id, from_phone from staging.stg_phone_system__calls").fetchall())
    assert phones == {"g1": "+442079460018", "g2": "+14155550123"}

    # Back to the default region: the next load (no new file) recomputes the raw table's E.164 column.
    monkeypatch.delenv("CONTACT_WAREHOUSE_PHONE_REGION")
    load_landing(warehouse, landing)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        raw = dict(con.execute("select call_id, from_number_e164 from raw.calls").fetchall())
    assert raw == {"g1": None, "g2": "+14155550123"}


def test_latest_export_wins_and_emails_are_normalised(warehouse: Path, tmp_path: Path, dbt) -> None:
    landing = tmp_path / "landing"
    (landing / "calls").mkdir(parents=True)
    (landing / "calls" / "calls_2026-10-05.csv").write_text("\n".join([HEADER, _call("d1", "4155550123")]) + "\n")
    (landing / "calls" / "calls_2026-10-06.csv").write_text(
        "\n".join([HEADER, _call("d1", "4155550123", "true")]) + "\n"
    )
    (landing / "customers").mkdir()
    (landing / "customers" / "customers_2026-10-06.csv").write_text(
        "customer_ref,email,phone,value_tier,timezone,created_at,churned_at\n"
        "C1,  Jane.Doe@Example.COM ,415.555.0123,HIGH,America/New_York,2026-01-01T00:00:00Z,\n"
    )
    load_landing(warehouse, landing)

    dbt(["run", "--select", "stg_phone_system__calls", "stg_crm__customers"], warehouse)

    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select is_resolved from staging.stg_phone_system__calls").fetchall() == [(True,)]
        assert con.execute("select email, phone, value_tier from staging.stg_crm__customers").fetchall() == [
            ("jane.doe@example.com", "+14155550123", "high")
        ]
