"""Mapping profiles: shipped profiles load, fixtures convert to hand-checked canonical values."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest

from contact_warehouse.loading import loader
from contact_warehouse.loading.conversion import TRANSFORMS, ForeignFileError, ProfileHeaderError, convert
from contact_warehouse.loading.profiles import (
    TRANSFORM_NAMES,
    MappingProfile,
    ProfileError,
    discover_profiles,
    load_profile,
)
from contact_warehouse.loading.sources import EXPORTS_BY_NAME

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "mapping_profiles"
FOREIGN = Path(__file__).parent / "fixtures" / "foreign"
ZENDESK_CSV = FOREIGN / "zendesk_talk_calls" / "zendesk_calls_sample.csv"
CONNECT_CSV = FOREIGN / "amazon_connect_ctr" / "ctr_sample.csv"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def by_key(rows: list[dict[str, str]], key: str) -> dict[str, dict[str, str]]:
    return {row[key]: row for row in rows}


def header_of(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def write_profile(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def zendesk(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return convert(load_profile(PROFILES / "zendesk_talk_calls.yml"), ZENDESK_CSV, tmp_path_factory.mktemp("zd"))


@pytest.fixture(scope="module")
def connect(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return convert(load_profile(PROFILES / "amazon_connect_ctr.yml"), CONNECT_CSV, tmp_path_factory.mktemp("ac"))


# ------------------------------------------------------------------------------------- shipped profiles


def test_shipped_profiles_load() -> None:
    profiles = {p.name: p for p in discover_profiles(PROFILES)}
    assert set(profiles) >= {"zendesk_talk_calls", "amazon_connect_ctr"}
    zendesk = profiles["zendesk_talk_calls"]
    assert isinstance(zendesk, MappingProfile)
    assert (zendesk.folder, zendesk.targets, zendesk.file_patterns) == (
        "zendesk_talk_calls",
        ["calls", "surveys"],
        ["*.csv"],
    )
    assert (zendesk.timezone, zendesk.delimiter, zendesk.header_row) == ("America/New_York", ",", 1)
    assert profiles["amazon_connect_ctr"].targets == ["calls"]


def test_output_header_is_canonical_columns_then_source_line(zendesk: dict[str, Path]) -> None:
    assert set(zendesk) == {"calls", "surveys"}
    for export, path in zendesk.items():
        assert path.parent.is_dir()
        assert header_of(path) == EXPORTS_BY_NAME[export].main_table.column_names + ["_source_line"]


# ------------------------------------------------------------------------------------------- Zendesk


def test_zendesk_answered_inbound_call(zendesk: dict[str, Path]) -> None:
    row = by_key(read_rows(zendesk["calls"]), "call_id")["1001"]
    # 10/05/2026 09:14:03 AM in New York (EDT, UTC-4); IVR 18 s, wait 42 s, talk 0:02:23.
    assert row == {
        "call_id": "1001",
        "parent_call_id": "",
        "direction": "inbound",
        "from_number": "(212) 555-0187",
        "to_number": "+12125550100",
        "customer_ref": "",
        "queue": "Billing",
        "agent_id": "3001",
        "started_at": "2026-10-05T13:14:03Z",
        "queued_at": "2026-10-05T13:14:21Z",
        "answered_at": "2026-10-05T13:15:03Z",
        "ended_at": "2026-10-05T13:17:26Z",
        "hold_seconds": "15",
        "silence_seconds": "",
        "wrap_seconds": "30",
        "status": "completed",
        "disposition": "",
        "resolved": "",
        "_source_line": "2",
    }


def test_zendesk_unanswered_outbound_and_winter_time(zendesk: dict[str, Path]) -> None:
    calls = by_key(read_rows(zendesk["calls"]), "call_id")
    abandoned = calls["1002"]  # no IVR: queued at once; ended after duration 95 s; default group
    assert (abandoned["queued_at"], abandoned["answered_at"], abandoned["ended_at"]) == (
        "2026-10-05T15:02:45Z",
        "",
        "2026-10-05T15:04:20Z",
    )
    assert (abandoned["status"], abandoned["queue"]) == ("abandoned", "Support")
    outbound = calls["1003"]  # our line calls the customer; no queue; talk 0:05:10
    assert (outbound["from_number"], outbound["to_number"], outbound["queue"]) == ("+12125550100", "347-555-0199", "")
    assert (outbound["queued_at"], outbound["answered_at"], outbound["ended_at"]) == (
        "",
        "2026-10-05T18:30:00Z",
        "2026-10-05T18:35:10Z",
    )
    ivr_hangup = calls["1006"]
    assert (ivr_hangup["queued_at"], ivr_hangup["queue"], ivr_hangup["ended_at"], ivr_hangup["status"]) == (
        "",
        "",
        "2026-10-07T12:05:25Z",
        "abandoned",
    )
    # 11/03/2026 07:45:30 PM is EST (UTC-5) after the 1 November change: the next day in UTC.
    voicemail = calls["1008"]
    assert (voicemail["started_at"], voicemail["ended_at"], voicemail["status"]) == (
        "2026-11-04T00:45:30Z",
        "2026-11-04T00:47:05Z",
        "voicemail",
    )
    assert calls["1004"]["ended_at"] == "2026-10-06T20:58:31Z"  # talk "12:07" is M:SS


def test_zendesk_bad_values_pass_through_raw_on_their_lines(zendesk: dict[str, Path]) -> None:
    calls = by_key(read_rows(zendesk["calls"]), "call_id")
    bad_date = calls["1005"]
    assert bad_date["started_at"] == "13/45/2026 10:00:00 AM"
    assert (bad_date["queued_at"], bad_date["answered_at"], bad_date["ended_at"]) == ("", "", "")
    assert bad_date["_source_line"] == "7"  # the quoted two-line comment of call 1004 fills lines 5-6
    bad_talk = calls["1007"]
    assert (bad_talk["answered_at"], bad_talk["ended_at"], bad_talk["_source_line"]) == (
        "2026-10-07T13:00:42Z",
        "2 min",
        "9",
    )
    assert [r["_source_line"] for r in read_rows(zendesk["calls"])] == ["2", "3", "4", "5", "7", "8", "9", "10"]


def test_zendesk_rating_becomes_survey_answer(zendesk: dict[str, Path]) -> None:
    surveys = read_rows(zendesk["surveys"])
    # Unrated (empty), unoffered and offered-but-unanswered calls give no answer.
    assert [s["contact_id"] for s in surveys] == ["1001", "1003", "1004", "1007"]
    answers = by_key(surveys, "response_id")
    assert answers["1001-rating"] == {
        "response_id": "1001-rating",
        "survey_type": "csat",
        "channel": "voice",
        "contact_id": "1001",
        "respondent": "(212) 555-0187",
        "responded_at": "2026-10-05T13:31:10Z",
        "score": "5",
        "comment": "Quick fix, thanks",
        "_source_line": "2",
    }
    assert (answers["1003-rating"]["score"], answers["1003-rating"]["responded_at"]) == ("1", "2026-10-06T12:00:00Z")
    assert answers["1004-rating"]["comment"] == "Agent was great.\nWould call again."
    assert answers["1004-rating"]["_source_line"] == "5"


# ------------------------------------------------------------------------------------ Amazon Connect


def test_connect_contacts(connect: dict[str, Path]) -> None:
    rows = read_rows(connect["calls"])
    calls = by_key(rows, "call_id")
    first, transfer = calls["6b1f0c2e-0001-4a7e-9c1d-000000000001"], calls["6b1f0c2e-0002-4a7e-9c1d-000000000002"]
    assert first == {
        "call_id": "6b1f0c2e-0001-4a7e-9c1d-000000000001",
        "parent_call_id": "",
        "direction": "inbound",
        "from_number": "+14155550123",
        "to_number": "+18005550100",
        "customer_ref": "C-1001",
        "queue": "Billing",
        "agent_id": "jdoe",
        "started_at": "2026-10-05T13:14:03Z",
        "queued_at": "2026-10-05T13:14:40Z",
        "answered_at": "2026-10-05T13:15:22Z",
        "ended_at": "2026-10-05T13:21:05Z",
        "hold_seconds": "35",
        "silence_seconds": "",
        "wrap_seconds": "40",
        "status": "completed",
        "disposition": "billing_question",
        "resolved": "true",
        "_source_line": "2",
    }
    assert (transfer["parent_call_id"], transfer["direction"], transfer["resolved"]) == (
        first["call_id"],
        "inbound",
        "false",
    )
    outbound = calls["6b1f0c2e-0004-4a7e-9c1d-000000000004"]
    assert (outbound["direction"], outbound["from_number"], outbound["to_number"]) == (
        "outbound",
        "+18005550100",
        "+14155550199",
    )
    statuses = {r["call_id"][-1]: r["status"] for r in rows}
    assert statuses == {"1": "completed", "2": "completed", "3": "abandoned", "4": "completed", "5": "missed",
                        "8": "completed", "9": "failed"}  # fmt: skip
    # The supervisor's MONITOR contact (line 7) and the chat contact (line 8) are not calls.
    assert [r["_source_line"] for r in rows] == ["2", "3", "4", "5", "6", "9", "10"]


def test_connect_bad_timestamp_passes_through(connect: dict[str, Path]) -> None:
    row = by_key(read_rows(connect["calls"]), "call_id")["6b1f0c2e-0008-4a7e-9c1d-000000000008"]
    assert (row["started_at"], row["answered_at"], row["_source_line"]) == (
        "2026-10-32T25:61:00Z",
        "2026-10-07T09:01:00Z",
        "9",
    )


def test_loader_quarantines_passed_through_values_at_their_foreign_lines(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    for src in (ZENDESK_CSV, CONNECT_CSV):
        (landing / src.parent.name).mkdir(parents=True)
        shutil.copy(src, landing / src.parent.name / src.name)
    con = loader.connect_for_loading(":memory:")
    reports = [loader.load_export(con, e, landing, PROFILES) for e in ("calls", "surveys")]
    # Zendesk line 9 is rejected in calls (its talk time '2 min'), so its rating is rejected too, with the
    # same field and reason: a call never keeps its survey answer without its leg.
    assert [(r.rows_loaded, r.rows_rejected) for r in reports] == [(12, 3), (3, 1)]
    quarantined = con.execute(
        "select export, file_path, line, field from raw._quarantine order by file_path, line, export"
    ).fetchall()
    assert [(e, Path(f).name, line, field) for e, f, line, field in quarantined] == [
        ("calls", "ctr_sample.csv", 9, "calls.started_at"),
        ("calls", "zendesk_calls_sample.csv", 7, "calls.started_at"),
        ("calls", "zendesk_calls_sample.csv", 9, "calls.ended_at"),
        ("surveys", "zendesk_calls_sample.csv", 9, "calls.ended_at"),
    ]


# ---------------------------------------------------------------------------- reading and line numbers

SMALL_PROFILE = """
header_row: 3
delimiter: ";"
timezone: Europe/Paris
targets:
  surveys:
    unless: {score: [""]}
    columns:
      response_id: ref
      survey_type: {const: nps}
      contact_id: call
      responded_at: {from: [day, time], format: "%d.%m.%Y %H:%M"}
      score: score
      comment: note
      channel: {from: channel, default: voice}
"""


def test_preamble_blank_lines_and_multiline_values_keep_physical_lines(tmp_path: Path) -> None:
    src = tmp_path / "export.csv"
    src.write_text(
        "Survey export\n"
        "generated 2026-10-05\n"
        "ref;call;day;time;score;note;channel\n"  # line 3
        "r1;c1;05.10.2026;09:14;9;ok;\n"  # line 4
        "\n"  # line 5: blank, skipped
        'r2;c2;05.10.2026;10:00;3;"line one\r\nline two";chat\r\n'  # lines 6-7
        "r3;c3;31.02.2026;10:00;7;;\n"  # line 8: 31 February passes through
        "r4;c4;05.10.2026;11:00;;no score;\n",  # line 9: no score, no answer
        encoding="utf-8",
    )
    profile = load_profile(write_profile(tmp_path, "small", SMALL_PROFILE))
    rows = read_rows(convert(profile, src, tmp_path / "out")["surveys"])
    assert [(r["response_id"], r["_source_line"]) for r in rows] == [("r1", "4"), ("r2", "6"), ("r3", "8")]
    assert (rows[0]["responded_at"], rows[0]["channel"], rows[0]["survey_type"]) == (
        "2026-10-05T07:14:00Z",  # Paris summer time, UTC+2
        "voice",
        "nps",
    )
    assert (rows[1]["comment"], rows[1]["channel"]) == ("line one\r\nline two", "chat")
    assert rows[2]["responded_at"] == "31.02.2026 10:00"


def test_missing_header_column_raises_naming_file_profile_and_columns(tmp_path: Path) -> None:
    src = tmp_path / "calls.csv"
    src.write_text(ZENDESK_CSV.read_text(encoding="utf-8").replace("wait_time", "queue_seconds", 1), encoding="utf-8")
    profile = load_profile(PROFILES / "zendesk_talk_calls.yml")
    with pytest.raises(ProfileHeaderError) as caught:
        convert(profile, src, tmp_path / "out")
    message = str(caught.value)
    assert str(src) in message and "zendesk_talk_calls" in message and "'wait_time'" in message
    assert "queue_seconds" not in message.split("header has:")[0]
    assert isinstance(caught.value, ValueError)


def test_record_wider_than_header_refuses_the_file_instead_of_shifting_columns(tmp_path: Path) -> None:
    src = tmp_path / "wide.csv"
    header, first, *rest = ZENDESK_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    src.write_text(header + first.rstrip("\n") + ",extra\n" + "".join(rest), encoding="utf-8")
    with pytest.raises(ForeignFileError, match="wide.csv"):
        convert(load_profile(PROFILES / "zendesk_talk_calls.yml"), src, tmp_path / "out")


# ---------------------------------------------------------------------------------------- validation

BASE = """
targets:
  surveys:
    columns:
      response_id: id
      survey_type: {const: csat}
      responded_at: at
      score: score
"""


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        (
            "      score: score\n",
            "      score: score\n      mood: feeling\n",
            "targets.surveys.columns.mood: unknown canonical column 'mood'",
        ),
        ("  surveys:", "  faxes:", "targets.faxes: unknown target export 'faxes'"),
        (
            "  surveys:",
            "  chat_conversations:",
            "targets.chat_conversations.columns.response_id: unknown canonical column 'response_id'",
        ),
        ("score: score", "score: {from: score, transform: titlecase}", "unknown transform 'titlecase'"),
        ("      score: score\n", "", "required canonical column(s) not mapped: score"),
        ("responded_at: at", "responded_at: {from: at, timezone: Mars/Olympus}", "unknown timezone"),
        ("score: score", "score: {from: score, const: 5}", "needs exactly one of"),
        ("score: score", "score: {from: score, format: '%d'}", "format: only for timestamp columns"),
        ("responded_at: at", "responded_at: {after: responded_at}", "cycle: responded_at -> responded_at"),
    ],
)
def test_invalid_profiles_are_rejected_naming_file_and_key(
    tmp_path: Path, replace: str, by: str, expected: str
) -> None:
    assert replace in BASE
    path = write_profile(tmp_path, "broken", BASE.replace(replace, by))
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_the_parser_accepts_exactly_the_transforms_the_conversion_applies() -> None:
    # The parser (no pandas) validates transform names against TRANSFORM_NAMES; the conversion implements them.
    assert sorted(TRANSFORMS) == list(TRANSFORM_NAMES)


def test_yes_no_codes_stay_text(tmp_path: Path) -> None:
    text = BASE.replace("score: score", "score: {from: score, map: {yes: 10, no: 0, Y: 9, 007: 7}}")
    spec = load_profile(write_profile(tmp_path, "codes", text)).mappings["surveys"].columns["score"]
    assert spec.value_map == {"yes": "10", "no": "0", "Y": "9", "007": "7"}


def test_discover_profiles_parses_a_file_again_only_when_it_changed(tmp_path: Path) -> None:
    """A nightly run asks for the profiles twice per export: an unchanged file is not parsed again, a rewritten one is
    (same size and modification time included: its change time differs), and an invalid one still raises."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    path = write_profile(folder, "small", SMALL_PROFILE)
    first = discover_profiles(folder)
    assert discover_profiles(folder)[0] is first[0]
    status = path.stat()
    path.write_text(SMALL_PROFILE.replace("Europe/Paris", "Europe/Malta"), encoding="utf-8")
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    again = discover_profiles(folder)
    assert again[0] is not first[0] and again[0].timezone != first[0].timezone
    path.write_text("header_row: [not, a, number\n", encoding="utf-8")
    with pytest.raises(ProfileError):
        discover_profiles(folder)
    with pytest.raises(ProfileError):
        discover_profiles(folder)
