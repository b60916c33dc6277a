"""Profiles v2 end to end into the marts: a bank call log gives call legs and their IVR events, so the IVR marts
show the time spent in the menu; a complaints log gives calls (phone) and form submissions (internet), both in the
channel mix; a one-row-per-message chat transcript gives one conversation. Numbers computed by hand from
tests/fixtures/profiles_v2."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import SQL_BUILD, load_landing

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "profiles_v2"


@pytest.fixture
def built(warehouse: Path, tmp_path: Path, dbt, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CONTACT_WAREHOUSE_SETTLE_SECONDS", "0")
    landing, profiles = tmp_path / "landing", tmp_path / "profiles"
    for folder in ("bank_call_log", "telecom_complaints", "chat_transcripts"):
        shutil.copytree(FIXTURES / folder, landing / folder)
    profiles.mkdir()
    for path in (
        ROOT / "mapping_profiles" / "bank_call_log.yml",
        ROOT / "mapping_profiles" / "telecom_complaints.yml",
        FIXTURES / "chat_transcripts.yml",
    ):
        shutil.copy(path, profiles / path.name)
    load_landing(warehouse, landing, profiles)
    dbt(SQL_BUILD, warehouse)
    return warehouse


def test_profiles_v2_feed_the_ivr_marts_the_channel_mix_and_chat(built: Path) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        # Time in the menu, vru_entry to vru_exit: 12 s, 30 s (hung up in the IVR), 20 s across midnight (23:59:50
        # to 00:00:10), 30 s. Call 33121 is rejected (negative service time) with its IVR events; 33119 is a
        # PHANTOM line test, filtered.
        ivr = dict(con.execute("select call_id, menu_seconds from marts.mart_ivr_calls").fetchall())
        assert ivr == {"33116": 12, "33117": 30, "33118": 20, "33120": 30}
        dwell = con.execute(
            """select sum(visits), sum(dwell_seconds) from marts.mart_ivr_node_dwell
               where period_grain = 'day' and node = 'vru'"""
        ).fetchone()
        assert tuple(dwell) == (4, 12 + 30 + 20 + 30)
        # Complaints: 250635 and 277946 by phone (calls), 223441 and 242732 via the internet (forms; 307175's
        # 31 February is rejected). The bank's four calls are voice too.
        mix = dict(
            con.execute(
                """select channel, sum(interactions_using_channel) from marts.mart_channel_mix
                   where period_grain = 'day' group by channel"""
            ).fetchall()
        )
        assert mix.get("form") == 2
        assert mix.get("voice", 0) >= 2
        forms = con.execute("select count(*) from marts.fct_transactions where channel = 'form'").fetchone()[0]
        assert forms == 2
        # The transcript's first conversation (4 messages); the second is rejected whole for its bad timestamp.
        chats = con.execute(
            "select conversation_id, count(*) from raw.chat_messages group by conversation_id"
        ).fetchall()
        assert chats == [("cv-1", 4)]
