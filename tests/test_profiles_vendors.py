"""Vendors' documented exports through their shipped profiles, end to end into the marts: Genesys Cloud
conversation details (JSON), Twilio call and message logs, Intercom conversations (one row per conversation part)
and a Typeform responses download (fixtures in tests/fixtures/profiles_v2, written from each vendor's field names;
Zendesk Talk and Amazon Connect are in test_cockpit_foreign.py). Numbers computed by hand."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import SQL_BUILD, load_landing

from contact_warehouse.settings import MAPPING_PROFILES_DIR

FIXTURES = Path(__file__).parent / "fixtures" / "profiles_v2"
VENDORS = ("twilio_calls", "twilio_messages", "typeform_responses", "intercom_conversations", "genesys_conversations")


@pytest.fixture
def built(warehouse: Path, tmp_path: Path, dbt, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CONTACT_WAREHOUSE_SETTLE_SECONDS", "0")
    landing = tmp_path / "landing"
    for folder in VENDORS:
        shutil.copytree(FIXTURES / folder, landing / folder)
    load_landing(warehouse, landing, MAPPING_PROFILES_DIR)
    dbt(SQL_BUILD, warehouse)
    return warehouse


def test_vendor_exports_reach_the_marts(built: Path) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        ledger = con.execute(
            """select profile, rows_read, rows_loaded, rows_rejected, rows_filtered from raw._load_ledger
               where status = 'loaded' order by profile"""
        ).fetchall()
        # Twilio calls: the in-progress leg and the <Dial> child leg are filtered. Messages: the scheduled one is
        # not sent. Typeform: the response without a submit date was never submitted.
        # Intercom: six parts make two conversations (one record each, nothing filtered).
        # Genesys: nine segments make two voice conversations; the chat conversation's segment is filtered.
        assert ledger == [
            ("genesys_conversations", 3, 2, 0, 1),
            ("intercom_conversations", 2, 2, 0, 0),
            ("twilio_calls", 4, 2, 0, 2),
            ("twilio_messages", 4, 3, 0, 1),
            ("typeform_responses", 3, 2, 0, 1),
        ]
        calls = con.execute(
            "select call_id, direction, status, answered_at is not null from staging.stg_phone_system__calls "
            "order by call_id"
        ).fetchall()
        assert calls == [
            ("CA00000000000000000000000000000001", "inbound", "completed", True),
            ("CA00000000000000000000000000000003", "outbound", "missed", False),
            ("a1b2c3d4-0001-4000-8000-000000000001", "inbound", "completed", True),
            ("a1b2c3d4-0002-4000-8000-000000000002", "inbound", "abandoned", False),
        ]
        # Genesys: queued at 14:00:35 after 35 s in the IVR, answered at 14:01:20: 45 s in queue.
        asa = con.execute(
            """select sum(answered_calls), sum(answer_seconds), sum(abandoned_calls) from marts.mart_queue_performance
               where period_grain = 'day' and queue = 'q-billing'"""
        ).fetchone()
        assert tuple(asa) == (1, 45, 1)
        # Forms: staging reads the Typeform answers' email, phone and topic.
        forms = con.execute(
            "select response_id, email, phone, topic from staging.stg_forms__submissions order by response_id"
        ).fetchall()
        assert forms == [
            ("a1b2c3d4e5f6g7h8i9j0", "ann@example.com", "+14155550101", "billing"),
            ("k1l2m3n4o5p6q7r8s9t0", "bob@example.com", None, "login"),
        ]
        # The opening message and the two replies of 9001 (its note and close event are not messages), and 9002's.
        messages = con.execute(
            "select conversation_id, count(*), min(author), max(author) from raw.chat_messages group by 1 order by 1"
        ).fetchall()
        assert messages == [("9001", 3, "agent", "customer"), ("9002", 1, "customer", "customer")]
        mix = dict(
            con.execute(
                """select channel, sum(interactions_using_channel) from marts.mart_channel_mix
                   where period_grain = 'day' group by channel"""
            ).fetchall()
        )
        # Each channel the vendors' exports feed shows in the channel mix.
        assert {"voice", "sms", "form", "chat"} <= set(mix)
        assert mix["form"] == 2
