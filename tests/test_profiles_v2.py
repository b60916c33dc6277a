"""Mapping profiles v2: schema errors with their line, several formats per column, midnight rollover, numeric and
pattern conditions with their own reasons, one rejection for all targets, filtered rows counted, a second
profile on the same file, and ``profile check``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from contact_warehouse.loading import loader
from contact_warehouse.loading.profile_check import check_file, format_check
from contact_warehouse.loading.profiles import ProfileError, load_profile

# A bank's call log (tab-separated): a yymmdd date, then times of day without a date, an outcome code.
BANK_LOG = (
    "call_id\tdate\tcustomer\tvru_entry\tvru_exit\tq_start\tq_exit\tser_start\tser_exit\tser_time\toutcome\n"
    "c1\t990101\t555-0101\t23:58:10\t23:58:40\t23:59:40\t00:00:30\t00:00:30\t00:04:30\t240\tAGENT\n"  # line 2
    "c2\t990101\t555-0102\t10:00:00\t10:00:20\t10:00:20\t10:01:00\t10:01:00\t10:02:00\t-57\tAGENT\n"  # line 3
    "c3\t990101\t555-0103\t11:00:00\t11:00:20\t11:00:20\t11:00:50\t00:00:00\t00:00:00\t0\tHANG\n"  # line 4
    "c4\t990101\t555-0104\t12:00:00\t12:00:05\t00:00:00\t00:00:00\t00:00:00\t00:00:00\t0\tPHANTOM\n"  # line 5
    "c5\t990101\tnone\t13:00:00\t13:00:20\t13:00:20\t13:00:30\t13:00:30\t13:05:30\t300\tAGENT\n"  # line 6
)

BANK_PROFILE = """
version: 2
folder: bank_log
delimiter: "\\t"
timezone: Asia/Jerusalem
reject:
  - field: customer
    unless: {customer: {pattern: "[0-9]{3}-[0-9]{4}"}}
    reason: customer number is not NNN-NNNN
targets:
  calls:
    unless: {outcome: [PHANTOM]}     # a phantom call is a line test, not a caller
    columns:
      call_id: call_id
      direction: {const: inbound}
      from_number: customer
      started_at: {from: [date, vru_entry], format: "%y%m%d %H:%M:%S"}
      queued_at: {from: [date, q_start], format: "%y%m%d %H:%M:%S", rollover_after: started_at}
      answered_at:
        from: [date, ser_start]
        format: "%y%m%d %H:%M:%S"
        rollover_after: queued_at
        when: {outcome: [AGENT]}
      ended_at: {after: answered_at, plus: ser_time, default: {from: [date, q_exit], format: "%y%m%d %H:%M:%S"}}
      status: {from: outcome, map: {AGENT: completed, HANG: abandoned}}
  surveys:
    when: {outcome: [AGENT]}
    columns:
      response_id: {template: "{call_id}-s"}
      survey_type: {const: csat}
      contact_id: call_id
      responded_at: {from: [date, vru_entry], format: "%y%m%d %H:%M:%S"}
      score: {const: 5}
"""
# The same profile reading the landing folder's *.txt files.
TXT_PROFILE = BANK_PROFILE.replace("folder: bank_log", 'folder: bank_log\nfile_patterns: ["*.txt"]')


def landed(tmp_path: Path, folder: str, name: str, text: str) -> Path:
    landing = tmp_path / "landing"
    (landing / folder).mkdir(parents=True, exist_ok=True)
    (landing / folder / name).write_text(text, encoding="utf-8")
    return landing


def profiles_with(tmp_path: Path, **texts: str) -> Path:
    folder = tmp_path / "profiles"
    folder.mkdir(exist_ok=True)
    for name, text in texts.items():
        (folder / f"{name}.yml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def _settled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTACT_WAREHOUSE_SETTLE_SECONDS", "0")


# ------------------------------------------------------------------------------------------------ schema


@pytest.mark.parametrize(
    ("replace", "by", "line", "expected"),
    [
        ("    columns:\n      call_id", "    colums:\n      call_id", 13, "targets.calls.colums: unknown key 'colums'"),
        ("folder: bank_log", "fodler: bank_log", 3, "fodler: unknown key 'fodler' (allowed: version, description"),
        ('format: "%y%m%d %H:%M:%S", rollover', "fromat: x, rollover", 18, "unknown key 'fromat' (allowed: from,"),
        ("{pattern: ", "{patern: ", 8, "unknown key 'patern' (allowed: in, pattern, min, max, below, above, same_as)"),
        ("    reason: customer", "    reasn: customer", 9, "reject[0].reasn: unknown key 'reasn'"),
        ("version: 2", "version: 7", 2, "version: Value error, unknown version 7"),
        ("rollover_after: started_at", "rollover_after: nowhere", 18, "'nowhere' is not a mapped timestamp column"),
    ],
)
def test_a_misspelt_key_names_file_line_key_and_the_keys_allowed(
    tmp_path: Path, replace: str, by: str, line: int, expected: str
) -> None:
    assert replace in BANK_PROFILE
    path = profiles_with(tmp_path, bank=BANK_PROFILE.replace(replace, by, 1)) / "bank.yml"
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert str(caught.value).startswith(f"{path}, line {line}: ")
    assert expected in str(caught.value)


def test_version_1_profiles_need_no_version_key() -> None:
    root = Path(__file__).resolve().parent.parent / "mapping_profiles"
    versions = {p.stem: load_profile(p).version for p in root.glob("*.yml")}
    assert versions["zendesk_talk_calls"] == versions["amazon_connect_ctr"] == 1  # unchanged since version 1


# ------------------------------------------------------------------------------------ values and reasons


def test_formats_are_tried_in_order_on_a_column_mixing_them(tmp_path: Path) -> None:
    profile = """
targets:
  surveys:
    columns:
      response_id: id
      survey_type: {const: nps}
      responded_at: {from: day, format: ["%Y-%m-%d", "%d-%m-%y"]}
      score: score
"""
    src = tmp_path / "mixed.csv"
    src.write_text("id,day,score\na,2015-04-08,9\nb,22-04-15,3\nc,15/04/2022,1\n", encoding="utf-8")
    result = check_file(load_profile(profiles_with(tmp_path, mixed=profile) / "mixed.yml"), src)
    rows = result.targets[0].rows
    assert rows["responded_at"].tolist() == ["2015-04-08T00:00:00Z", "2015-04-22T00:00:00Z"]  # 22-04-15 is dd-mm-yy
    assert result.rejected == {4: ("surveys.responded_at", "unparseable timestamp '15/04/2022'")}


def test_times_past_midnight_roll_over_and_each_bad_row_has_its_own_reason(tmp_path: Path) -> None:
    src = tmp_path / "log.txt"
    src.write_text(BANK_LOG, encoding="utf-8")
    result = check_file(load_profile(profiles_with(tmp_path, bank=BANK_PROFILE) / "bank.yml"), src)
    calls = result.targets[0].rows.set_index("call_id")
    # 1999-01-01 23:58:10 in Jerusalem (UTC+2 in winter), queued at 23:59:40, answered at 00:00:30: the next
    # day (without the rollover, 1998-12-31T22:00:30Z, before the call started); the 240 s talk ends after it.
    assert calls.loc["c1", ["started_at", "queued_at", "answered_at", "ended_at"]].tolist() == [
        "1999-01-01T21:58:10Z",
        "1999-01-01T21:59:40Z",
        "1999-01-01T22:00:30Z",
        "1999-01-01T22:04:30Z",
    ]
    # A hang-up in the queue: no answer; the call ends when it left the queue.
    assert calls.loc["c3", ["status", "answered_at", "ended_at"]].tolist() == ["abandoned", "", "1999-01-01T09:00:50Z"]
    assert result.rejected == {
        3: ("ser_time", "negative duration '-57'"),  # not "unparseable timestamp"
        6: ("customer", "customer number is not NNN-NNNN"),
    }
    counts = {t.export: (t.loaded, t.rejected, t.filtered) for t in result.targets}
    # calls: c1, c3 load; c2 and c5 rejected; c4 (PHANTOM) filtered. surveys: only AGENT rows, c1 loads.
    assert counts == {"calls": (2, 2, 1), "surveys": (1, 2, 2)}


def test_a_row_rejected_in_one_target_is_rejected_in_all_and_filtered_rows_are_counted(tmp_path: Path) -> None:
    landing = landed(tmp_path, "bank_log", "log.txt", BANK_LOG)
    profiles = profiles_with(tmp_path, bank=TXT_PROFILE)
    con = loader.connect_for_loading(":memory:")
    for export in ("calls", "surveys"):
        loader.load_export(con, export, landing, profiles)
    ledger = con.execute(
        "select export, rows_read, rows_loaded, rows_rejected, rows_filtered, profile from raw._load_ledger "
        "where status = 'loaded' order by export"
    ).fetchall()
    assert ledger == [("calls", 5, 2, 2, 1, "bank"), ("surveys", 5, 1, 2, 2, "bank")]
    quarantine = con.execute("select export, line, field, reason from raw._quarantine order by line, export").fetchall()
    assert quarantine == [
        ("calls", 3, "ser_time", "negative duration '-57'"),
        ("surveys", 3, "ser_time", "negative duration '-57'"),
        ("calls", 6, "customer", "customer number is not NNN-NNNN"),
        ("surveys", 6, "customer", "customer number is not NNN-NNNN"),
    ]
    assert con.execute("select call_id from raw.calls order by 1").fetchall() == [("c1",), ("c3",)]
    assert con.execute("select contact_id from raw.surveys").fetchall() == [("c1",)]


def test_the_same_file_mapped_by_a_second_profile_is_loaded_by_each(tmp_path: Path) -> None:
    landing = landed(tmp_path, "bank_log", "log.txt", BANK_LOG)
    text = TXT_PROFILE
    second = text.replace('{template: "{call_id}-s"}', '{template: "{call_id}-t"}')
    profiles = profiles_with(tmp_path, bank=text, bank_second=second)
    con = loader.connect_for_loading(":memory:")
    first = loader.load_export(con, "surveys", landing, profiles)
    assert [(f.profile, f.status) for f in first.files] == [("bank", "loaded"), ("bank_second", "loaded")]
    assert sorted(r for (r,) in con.execute("select response_id from raw.surveys").fetchall()) == ["c1-s", "c1-t"]
    again = loader.load_export(con, "surveys", landing, profiles)
    assert [f.status for f in again.files] == ["skipped", "skipped"]


# ------------------------------------------------------------------------------------------ profile check


def test_profile_check_prints_rows_rejections_and_counts_without_a_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestration import cli

    src = tmp_path / "log.txt"
    src.write_text(BANK_LOG, encoding="utf-8")
    profile = profiles_with(tmp_path, bank=BANK_PROFILE) / "bank.yml"
    db = tmp_path / "data" / "warehouse.duckdb"
    monkeypatch.setenv("CONTACT_WAREHOUSE_DB", str(db))
    code = cli.main(["profile", "check", str(profile), str(src)])
    out = capsys.readouterr().out
    assert code == 0
    assert "calls: read 5, would load 2, rejected 2, filtered 1" in out
    assert "line 3: ser_time: negative duration '-57'" in out
    assert "line 6: customer: customer number is not NNN-NNNN" in out
    assert "1999-01-01T22:04:30Z" in out  # a canonical row
    assert not db.exists() and not db.parent.exists()


def test_profile_check_names_a_bad_profile_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from orchestration import cli

    src = tmp_path / "log.txt"
    src.write_text(BANK_LOG, encoding="utf-8")
    profile = profiles_with(tmp_path, bank=BANK_PROFILE.replace("folder:", "fodler:")) / "bank.yml"
    assert cli.main(["profile", "check", str(profile), str(src)]) == 2
    assert f"{profile}, line 3: fodler: unknown key" in capsys.readouterr().err


def test_format_check_is_plain_text(tmp_path: Path) -> None:
    src = tmp_path / "log.txt"
    src.write_text(BANK_LOG, encoding="utf-8")
    text = format_check(check_file(load_profile(profiles_with(tmp_path, bank=BANK_PROFILE) / "bank.yml"), src))
    assert text.splitlines()[0] == f"profile bank on {src}: 5 source rows"


def test_shipped_fixtures_check_like_they_load() -> None:
    root = Path(__file__).resolve().parent
    zendesk = root.parent / "mapping_profiles" / "zendesk_talk_calls.yml"
    src = root / "fixtures" / "foreign" / "zendesk_talk_calls" / "zendesk_calls_sample.csv"
    result = check_file(load_profile(zendesk), src)
    assert sorted(result.rejected) == [7, 9]


# ---------------------------------------------------------------------------- rows, groups, JSON in and out

FIXTURES = Path(__file__).parent / "fixtures" / "profiles_v2"
SHIPPED = Path(__file__).resolve().parent.parent / "mapping_profiles"


def test_json_input_rows_are_segments_grouped_into_one_call_per_conversation() -> None:
    result = check_file(
        load_profile(SHIPPED / "genesys_conversations.yml"), FIXTURES / "genesys_conversations" / "details.json"
    )
    calls = result.targets[0].rows.set_index("call_id")
    first = calls.loc["a1b2c3d4-0001-4000-8000-000000000001"]
    # The ACD's interact segment starts the queue, the agent's first interact segment answers; the wrap-up code
    # of the agent's wrapup segment is the disposition; the customer's ani is the caller.
    assert (first["queued_at"], first["answered_at"], first["status"], first["disposition"]) == (
        "2026-10-05T14:00:35Z",
        "2026-10-05T14:01:20Z",
        "completed",
        "billing-resolved",
    )
    assert (first["from_number"], first["agent_id"], first["queue"]) == ("tel:+14155550101", "u-agent-7", "q-billing")
    # The second conversation's ACD segment ended with the caller leaving (peer): abandoned, by preference.
    assert calls.loc["a1b2c3d4-0002-4000-8000-000000000002", "status"] == "abandoned"
    counts = (result.targets[0].loaded, result.targets[0].rejected, result.targets[0].filtered)
    assert (result.foreign_rows, counts) == (9, (2, 0, 1))  # nine segments; the chat conversation's is filtered


def test_a_group_stands_or_falls_with_all_its_rows_and_json_records_keep_source_lines(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "chat_transcripts", landing / "chat_transcripts")
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    shutil.copy(FIXTURES / "chat_transcripts.yml", profiles)
    con = loader.connect_for_loading(":memory:")
    report = loader.load_export(con, "chat_conversations", landing, profiles)
    assert [(f.rows_read, f.rows_loaded, f.rows_rejected, f.rows_filtered) for f in report.files] == [(2, 1, 1, 0)]
    # cv-2 starts on line 6; its second message (line 7) has the bad timestamp: the conversation is rejected once,
    # at its first line, and nothing of it loads.
    assert con.execute("select line, field from raw._quarantine").fetchall() == [(6, "chat_conversations.closed_at")]
    assert con.execute(
        "select conversation_id, _source_line, rating, resolved from raw.chat_conversations"
    ).fetchall() == [("cv-1", 2, 5, True)]
    messages = con.execute(
        "select message_index, message_id, author from raw.chat_messages order by message_index"
    ).fetchall()
    assert messages == [(0, "m-1", "customer"), (1, "m-2", "agent"), (2, "m-3", "agent"), (3, "m-4", "customer")]


def test_several_rows_per_source_row_are_rejected_together(tmp_path: Path) -> None:
    src = FIXTURES / "bank_call_log" / "calls_261005.txt"
    result = check_file(load_profile(SHIPPED / "bank_call_log.yml"), src)
    events = result.targets[1]
    assert events.export == "ivr_events"
    # Five callers (the PHANTOM row filtered) write two events each; 33121's negative service time rejects both.
    assert (events.loaded, events.rejected, events.filtered) == (8, 2, 1)
    assert set(events.rows["call_id"]) == {"33116", "33117", "33118", "33120"}
    assert result.rejected == {7: ("ser_time", "negative service time")}


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ("    rows:\n", "    row:\n", "targets.ivr_events.row: unknown key 'row' (allowed: when, unless, columns"),
        ("      - columns:\n          seq: {const: 1}", "      - colums:\n          seq: {const: 1}", "rows[0].colums"),
    ],
)
def test_rows_keys_are_checked_too(tmp_path: Path, replace: str, by: str, expected: str) -> None:
    text = (SHIPPED / "bank_call_log.yml").read_text(encoding="utf-8")
    assert replace in text
    path = profiles_with(tmp_path, bank=text.replace(replace, by, 1)) / "bank.yml"
    with pytest.raises(ProfileError, match="line [0-9]+: ") as caught:
        load_profile(path)
    assert expected in str(caught.value)


def test_profile_check_reads_a_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from orchestration import cli

    src = tmp_path / "log.txt"
    src.write_text(BANK_LOG, encoding="utf-8")
    profile = profiles_with(tmp_path, bank=BANK_PROFILE) / "bank.yml"
    assert cli.main(["profile", "check", str(profile), str(src), "--sample", "2"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"profile bank on {src}: 2 source rows (the first 2 read: --sample)"
    assert "calls: read 2, would load 1, rejected 1, filtered 0" in out  # c1 loads, c2's -57 is rejected
