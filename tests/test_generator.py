"""The sample-data generator: layout, formats, determinism, prefix stability and the planted truths."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
import pytest

from contact_warehouse.generator import GenerationSummary, generate
from contact_warehouse.generator import catalog as cat
from contact_warehouse.generator.cli import main
from contact_warehouse.loading.sources import EXPORTS_BY_NAME, JSON_PATHS
from contact_warehouse.settings import DEFAULT_LANDING_DIR

KNOWLEDGE_BASE = Path(__file__).resolve().parents[1] / "dbt_project" / "knowledge_base"
CSV_EXPORTS = ("calls", "ivr_events", "sms", "surveys", "faq_views")
DAILY = {
    **{e: "csv" for e in CSV_EXPORTS},
    "chat_conversations": "jsonl",
    "form_submissions": "json",
    "tickets": "jsonl",
}
START = date(2026, 10, 5)


# --- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    """The same parameters as the committed seeds/ sample."""
    out = tmp_path_factory.mktemp("sample")
    return out, generate(out, customers=1500, days=28, seed=42)


@pytest.fixture(scope="module")
def truths(sample) -> dict:
    return json.loads((sample[0] / "planted_truths.json").read_text())


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _bad_lines(truths: dict) -> set[tuple[str, int]]:
    return {(b["file"], b["line"]) for b in truths["bad_rows"]}


def read_csv(root: Path, export: str, truths: dict, redelivery: bool = False) -> list[dict]:
    """Every good row of an export (bad rows and, unless asked, the re-delivery left out)."""
    bad = _bad_lines(truths)
    rows = []
    for path in sorted((root / export).glob("*.csv")):
        if ("_redelivery" in path.name) != redelivery:
            continue
        rel = f"{export}/{path.name}"
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            for line, values in enumerate(reader, start=2):
                if (rel, line) not in bad:
                    rows.append(dict(zip(header, values, strict=True)))
    return rows


def read_chats(root: Path, truths: dict) -> list[dict]:
    bad = _bad_lines(truths)
    out = []
    for path in sorted((root / "chat_conversations").glob("*.jsonl")):
        rel = f"chat_conversations/{path.name}"
        for line, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if (rel, line) not in bad:
                out.append(json.loads(text))
    return out


def read_forms(root: Path) -> list[dict]:
    items = []
    for path in sorted((root / "form_submissions").glob("*.json")):
        items.extend(json.loads(path.read_text(encoding="utf-8"))["items"])
    return items


def read_tickets(root: Path) -> dict[str, dict]:
    """Every ticket as last delivered (the incremental export repeats a ticket on each day it changed)."""
    out = {}
    for path in sorted((root / "tickets").glob("*.jsonl")):
        for text in path.read_text(encoding="utf-8").splitlines():
            doc = json.loads(text)
            out[doc["id"]] = doc
    return out


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def e164(raw: str) -> str | None:
    try:
        n = phonenumbers.parse(raw.strip(), "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(n):
        return None
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)


# --- determinism and layout --------------------------------------------------------------------------------


def test_same_seed_writes_identical_files(tmp_path: Path) -> None:
    generate(tmp_path / "a", customers=300, days=6, seed=5)
    generate(tmp_path / "b", customers=300, days=6, seed=5)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    generate(tmp_path / "c", customers=300, days=6, seed=6)
    assert _files(tmp_path / "c")["calls/calls_2026-10-05.csv"] != a["calls/calls_2026-10-05.csv"]


def test_the_bundled_sample_is_the_generator_s_month_byte_for_byte(sample) -> None:
    """seeds/ is what `contact-warehouse generate --customers 1500 --days 28 --seed 42` writes today (README): the
    planted-truth tests read the session's build of seeds/ (conftest.py `pipeline_run`), so they test the generator's
    month. A change to the generator fails here until seeds/ is written again with that command."""
    written, bundled = _files(sample[0]), _files(DEFAULT_LANDING_DIR)
    assert sorted(written) == sorted(bundled)
    assert [name for name in written if written[name] != bundled[name]] == []


def test_one_more_day_keeps_the_earlier_days_files(tmp_path: Path) -> None:
    days = 5
    generate(tmp_path / "short", customers=300, days=days, seed=9)
    generate(tmp_path / "long", customers=300, days=days + 1, seed=9)
    short, long_ = _files(tmp_path / "short"), _files(tmp_path / "long")
    daily = [k for k in short if not k.startswith(("customers/", "faq_articles/", "planted_truths"))]
    assert len(daily) >= days * len(DAILY)
    assert [k for k in daily if long_.get(k) != short[k]] == []
    last = (START + timedelta(days=days)).isoformat()
    assert {k for k in long_ if last in k and not k.startswith(("customers/", "faq_articles/"))} == {
        f"{e}/{e}_{last}.{ext}" for e, ext in DAILY.items()
    }


def test_layout_one_file_per_export_and_day(sample) -> None:
    root, summary = sample
    last = (START + timedelta(days=27)).isoformat()
    names = set(_files(root))
    for export, ext in DAILY.items():
        for d in range(28):
            assert f"{export}/{export}_{(START + timedelta(days=d)).isoformat()}.{ext}" in names
    assert f"customers/customers_{last}.csv" in names
    assert f"faq_articles/faq_articles_{last}.csv" in names
    assert "planted_truths.json" in names
    pattern = re.compile(r"^([a-z_]+)/\1_\d{4}-\d{2}-\d{2}(_redelivery)?\.(csv|jsonl|json)$")
    assert all(pattern.match(n) for n in names if n != "planted_truths.json")
    assert summary.files_written == len(names)
    assert summary.total_events == sum(
        summary.rows[k]
        for k in ("calls", "ivr_events", "sms", "surveys", "faq_views", "chat_messages", "form_submissions")
    )
    # A small repository sample: the planted month (tickets, a stronger Monday spike) is just over 5 MB.
    assert summary.bytes_written < 5_500_000


def test_csv_headers_match_the_sources(sample) -> None:
    root, _ = sample
    for export in (*CSV_EXPORTS, "customers", "faq_articles"):
        expected = EXPORTS_BY_NAME[export].main_table.column_names
        files = sorted((root / export).glob("*.csv"))
        assert files
        for path in files:
            with open(path, encoding="utf-8", newline="") as f:
                assert next(csv.reader(f)) == expected, path


def _json_keys(path_map: dict[str, str]) -> dict[str, set[str]]:
    """JSON_PATHS as {"": top-level keys, "visitor": nested keys, ...}."""
    keys: dict[str, set[str]] = defaultdict(set)
    for path in path_map.values():
        parent, _, leaf = path.rpartition(".")
        keys[parent].add(leaf)
        if parent:
            keys[""].add(parent)
    return keys


def test_json_shapes_match_json_paths(sample, truths) -> None:
    root, _ = sample
    conv = _json_keys(JSON_PATHS["chat_conversations"])
    msg = _json_keys(JSON_PATHS["chat_messages"])
    chats = read_chats(root, truths)
    assert chats
    for c in chats:
        assert set(c) == conv[""] | {"tags", "messages"}
        assert set(c["visitor"]) == conv["visitor"]
        assert set(c["bot"]) == conv["bot"]
        assert isinstance(c["tags"], list) and all(isinstance(t, str) for t in c["tags"])
        assert c["messages"] and all(set(m) == msg[""] for m in c["messages"])
        assert {m["author"] for m in c["messages"]} <= {"customer", "bot", "agent"}
        assert c["resolved"] in (True, False, None)
        assert c["rating"] is None or 1 <= c["rating"] <= 5
    sub = _json_keys(JSON_PATHS["form_submissions"])
    ans = _json_keys(JSON_PATHS["form_answers"])
    bad_forms = {(b["file"], b["line"]) for b in truths["bad_rows"] if b["export"] == "form_submissions"}
    for path in sorted((root / "form_submissions").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert set(doc) == {"items"}
        for k, item in enumerate(doc["items"]):
            if (f"form_submissions/{path.name}", k) in bad_forms:
                assert "response_id" not in item
                continue
            assert set(item) == sub[""] | {"answers"}
            assert set(item["hidden"]) == sub["hidden"]
            assert {a["field"] for a in item["answers"]} <= {"email", "phone", "topic", "message"}
            assert all(set(a) == ans[""] for a in item["answers"])


def test_timestamps_parse_and_carry_offsets(sample, truths) -> None:
    root, _ = sample
    calls = read_csv(root, "calls", truths)
    assert all(re.search(r"[+-]\d{2}:\d{2}$", r["started_at"]) for r in calls)  # phone system: local offset
    assert {r["started_at"][-6:] for r in calls} >= {"-04:00", "-05:00", "-07:00"}
    for r in calls:
        for col in ("started_at", "queued_at", "answered_at", "ended_at"):
            if r[col]:
                ts(r[col])
        assert r["status"] in {"completed", "abandoned", "missed", "voicemail", "failed"}
        assert r["resolved"] in {"true", "false", ""}
    views = read_csv(root, "faq_views", truths)
    assert all(v["viewed_at"].endswith("Z") for v in views)
    assert all(c["created_at"].endswith("Z") for c in read_chats(root, truths))


# --- identifiers -------------------------------------------------------------------------------------------

MESSY_FORMATS = {
    "parentheses": r"^\(\d{3}\) \d{3}-\d{4}$",
    "spaced_e164": r"^\+1 \d{3} \d{3} \d{4}$",
    "ten_digits": r"^\d{10}$",
    "dots": r"^\d{3}\.\d{3}\.\d{4}$",
    "dashes": r"^1-\d{3}-\d{3}-\d{4}$",
    "e164": r"^\+1\d{10}$",
}


def test_phone_numbers_are_messy_but_valid(sample, truths) -> None:
    root, _ = sample
    customers = read_csv(root, "customers", truths)
    phones = [c["phone"] for c in customers]
    for name, pattern in MESSY_FORMATS.items():
        assert any(re.match(pattern, p) for p in phones), name
    assert {"n/a", "12345"} <= set(phones)
    assert all(e164(p) for p in phones if p not in ("", "n/a", "12345"))
    forms = [a["value"] for i in read_forms(root) if "response_id" in i for a in i["answers"] if a["field"] == "phone"]
    assert any(re.match(MESSY_FORMATS["parentheses"], p) for p in forms)
    calls = read_csv(root, "calls", truths)
    numbers = {r["from_number"] for r in calls} | {r["to_number"] for r in calls}
    assert all(e164(n) for n in numbers if n != "anonymous")
    emails = [c["email"] for c in customers if c["email"]]
    assert any(e != e.strip() for e in emails)
    assert any(e != e.lower() for e in emails)


def test_switchboard_number_is_shared_by_crm_customers(sample, truths) -> None:
    root, _ = sample
    board = truths["switchboard_number"]
    by_number = defaultdict(set)
    for c in read_csv(root, "customers", truths):
        number = e164(c["phone"]) if c["phone"] else None
        if number:
            by_number[number].add(c["customer_ref"])
    assert by_number[board] == set(truths["switchboard_customers"])
    assert len(by_number[board]) > 3
    assert [n for n, refs in by_number.items() if len(refs) > 3] == [board]
    callers = {r["customer_ref"] for r in read_csv(root, "calls", truths) if r["from_number"] == board}
    assert len(callers & set(truths["switchboard_customers"])) >= 2


# --- planted truths ----------------------------------------------------------------------------------------


def test_truth_keys(truths) -> None:
    for key in (
        "monday_spike_intent",
        "failing_faq_article",
        "weak_agent",
        "slow_queue",
        "switchboard_number",
        "over_contacted_customers",
        "unmapped_codes",
        "generic_ivr_nodes",
        "bad_rows",
        "redelivered_file",
    ):
        assert truths[key], key
    assert len(truths["bad_rows"]) == 7


def test_over_contacted_customers(sample, truths) -> None:
    root, _ = sample
    attempts = defaultdict(list)
    for r in read_csv(root, "calls", truths):
        if r["direction"] == "outbound":
            attempts[r["customer_ref"]].append(ts(r["started_at"]))
    worst = {}
    for ref, times in attempts.items():
        times.sort()
        worst[ref] = max(sum(1 for u in times if t <= u < t + timedelta(days=7)) for t in times)
    over = sorted(ref for ref, n in worst.items() if n > 7)
    assert len(truths["over_contacted_customers"]) == 5
    assert over == sorted(truths["over_contacted_customers"])


def test_outbound_calls_outside_calling_hours(sample, truths) -> None:
    root, _ = sample
    planted = set(truths["outbound_outside_calling_hours"])
    assert planted
    outside = {
        r["call_id"]
        for r in read_csv(root, "calls", truths)
        if r["direction"] == "outbound" and not 8 <= ts(r["started_at"]).hour < 21
    }
    assert outside == planted


def test_weak_agent_resolves_less(sample, truths) -> None:
    root, _ = sample
    tally = defaultdict(Counter)
    for r in read_csv(root, "calls", truths):
        if r["direction"] == "inbound" and r["agent_id"] and r["resolved"]:
            tally[r["agent_id"] == truths["weak_agent"]][r["resolved"]] += 1
    weak = tally[True]["true"] / sum(tally[True].values())
    others = tally[False]["true"] / sum(tally[False].values())
    assert sum(tally[True].values()) >= 20
    assert weak < 0.5 < 0.65 < others


def test_slow_queue_waits_minutes(sample, truths) -> None:
    root, _ = sample
    waits = defaultdict(list)
    for r in read_csv(root, "calls", truths):
        if r["answered_at"] and r["queued_at"]:
            waits[r["queue"]].append((ts(r["answered_at"]) - ts(r["queued_at"])).total_seconds())
    mean = {q: sum(w) / len(w) for q, w in waits.items()}
    slow = mean.pop(truths["slow_queue"])
    assert slow > 180 and slow > 5 * max(mean.values())


def _intent_map() -> dict[tuple[str, str], str]:
    with open(KNOWLEDGE_BASE / "intent_codes.csv", encoding="utf-8", newline="") as f:
        return {(r["code_type"], r["code"]): r["intent"] for r in csv.DictReader(f)}


def test_monday_morning_spike(sample, truths) -> None:
    root, _ = sample
    codes = _intent_map()
    intent = truths["monday_spike_intent"]
    per_day = Counter()
    for r in read_csv(root, "ivr_events", truths):
        if r["event_type"] == "menu_enter" and codes.get(("ivr_node", r["node"])) == intent:
            local = ts(r["event_at"])
            if local.weekday() < 5 and 8 <= local.hour < 11:
                per_day[local.date()] += 1
    days = [START + timedelta(days=d) for d in range(28)]
    mondays = [per_day[d] for d in days if d.weekday() == 0]
    others = [per_day[d] for d in days if 0 < d.weekday() < 5]
    ratio = (sum(mondays) / len(mondays)) / (sum(others) / len(others))
    assert ratio > 2.0, ratio


def test_failing_faq_article_readers_still_contact(sample, truths) -> None:
    """Readers (identified by a signed-in view of the same cookie) who call or chat within 24 hours."""
    root, _ = sample
    codes = _intent_map()
    views = read_csv(root, "faq_views", truths)
    owner = {v["visitor_id"]: v["customer_ref"] for v in views if v["customer_ref"]}
    chats = read_chats(root, truths)
    for c in chats:
        if c["visitor"]["customer_ref"]:
            owner.setdefault(c["visitor"]["visitor_id"], c["visitor"]["customer_ref"])
    contacts = defaultdict(list)  # customer_ref -> [(time, intent)]
    node_intent = {}
    for r in read_csv(root, "ivr_events", truths):
        i = codes.get(("ivr_node", r["node"]))
        if i:
            node_intent[r["call_id"]] = i
    for r in read_csv(root, "calls", truths):
        if r["customer_ref"] and r["direction"] == "inbound" and r["call_id"] in node_intent:
            contacts[r["customer_ref"]].append((ts(r["started_at"]), node_intent[r["call_id"]]))
    for c in chats:
        ref = c["visitor"]["customer_ref"] or owner.get(c["visitor"]["visitor_id"])
        i = codes.get(("chat_bot_intent", c["bot"]["intent"] or ""))
        if ref and i:
            contacts[ref].append((ts(c["created_at"]), i))
    rate = defaultdict(Counter)
    seen = set()
    for v in views:
        ref = v["customer_ref"] or owner.get(v["visitor_id"])
        if not ref or (ref, v["article_id"]) in seen:
            continue
        seen.add((ref, v["article_id"]))
        t, i = ts(v["viewed_at"]), codes[("faq_article", v["article_id"])]
        followed = any(t < u <= t + timedelta(hours=24) and ci == i for u, ci in contacts[ref])
        rate[v["article_id"] == truths["failing_faq_article"]][followed] += 1
    failing = rate[True][True] / sum(rate[True].values())
    others = rate[False][True] / sum(rate[False].values())
    assert sum(rate[True].values()) >= 20
    assert failing > 0.45 and others < 0.25, (failing, others)


def test_bad_rows_are_where_the_truths_say(sample, truths) -> None:
    root, _ = sample
    reasons = {b["reason"] for b in truths["bad_rows"]}
    assert reasons == {
        "missing_column",
        "extra_column",
        "unparseable_timestamp",
        "non_numeric_integer",
        "missing_required_value",
        "invalid_json",
        "missing_required_field",
    }
    for b in truths["bad_rows"]:
        path = root / b["file"]
        if b["export"] == "form_submissions":
            assert "response_id" not in json.loads(path.read_text())["items"][b["line"]]
            continue
        line = path.read_text(encoding="utf-8").splitlines()[b["line"] - 1]
        if b["export"] == "chat_conversations":
            with pytest.raises(json.JSONDecodeError):
                json.loads(line)
            continue
        values = next(csv.reader([line]))
        width = len(EXPORTS_BY_NAME[b["export"]].main_table.columns)
        if b["reason"] == "missing_column":
            assert len(values) == width - 1
        elif b["reason"] == "extra_column":
            assert len(values) == width + 1
        elif b["reason"] == "unparseable_timestamp":
            assert "2026-13-45T99:00" in values
        elif b["reason"] == "non_numeric_integer":
            assert values[12] == "abc"
        else:
            assert values[6] == ""


def test_redelivered_file_repeats_a_day_with_updates(sample, truths) -> None:
    root, _ = sample
    info = truths["redelivered_file"]
    bad = _bad_lines(truths)

    def rows(rel: str) -> dict[str, list[str]]:
        with open(root / rel, encoding="utf-8", newline="") as f:
            lines = list(csv.reader(f))[1:]
        return {r[0]: r for k, r in enumerate(lines, start=2) if (rel, k) not in bad}

    original, again = rows(info["repeats"]), rows(info["file"])
    assert original.keys() == again.keys()
    changed = {k for k in original if original[k] != again[k]}
    assert changed == {u["call_id"] for u in info["updated"]}
    assert all(again[k][17] == "true" and original[k][17] != "true" for k in changed)


def test_every_emitted_code_is_mapped_or_listed(sample, truths) -> None:
    root, _ = sample
    mapped = set(_intent_map())
    unmapped = {(u["code_type"], u["code"]) for u in truths["unmapped_codes"]}
    generic = set(truths["generic_ivr_nodes"])
    seen = set()
    seen |= {("ivr_node", r["node"]) for r in read_csv(root, "ivr_events", truths) if r["node"] not in generic}
    seen |= {("call_disposition", r["disposition"]) for r in read_csv(root, "calls", truths) if r["disposition"]}
    seen |= {("faq_article", r["article_id"]) for r in read_csv(root, "faq_views", truths)}
    for c in read_chats(root, truths):
        if c["bot"]["intent"]:
            seen.add(("chat_bot_intent", c["bot"]["intent"]))
        seen |= {("chat_tag", t) for t in c["tags"]}
    for item in read_forms(root):
        seen |= {("form_topic", a["value"]) for a in item["answers"] if a["field"] == "topic"}
    seen |= {("ticket_tag", t) for ticket in read_tickets(root).values() for t in ticket["tags"]}
    assert seen - mapped == unmapped
    assert not unmapped & mapped
    assert not {("ivr_node", n) for n in generic} & mapped
    assert generic <= {r["node"] for r in read_csv(root, "ivr_events", truths)}


def test_knowledge_base_covers_the_catalog() -> None:
    """Analysts may add codes and intents; every code the generator emits must stay mapped as it expects."""
    with open(KNOWLEDGE_BASE / "intents.csv", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        assert next(reader) == ["intent", "description", "value_weight"]
        weights = {r[0]: float(r[2]) for r in reader}
    assert {i.name for i in cat.INTENTS} <= weights.keys()
    assert weights["open_account"] > weights["cancel_service"] > weights["balance_check"]
    with open(KNOWLEDGE_BASE / "intent_codes.csv", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        assert next(reader) == ["code_type", "code", "intent"]
        rows = {tuple(r) for r in reader}
    assert set(cat.intent_code_rows()) <= rows
    assert {r[2] for r in rows} <= weights.keys()


def test_surveys_rate_real_contacts(sample, truths) -> None:
    root, _ = sample
    surveys = read_csv(root, "surveys", truths)
    calls = {r["call_id"] for r in read_csv(root, "calls", truths)}
    chats = {c["id"] for c in read_chats(root, truths)}
    threads = {r["thread_id"] for r in read_csv(root, "sms", truths)}
    for s in surveys:
        assert s["contact_id"] in {"voice": calls, "chat": chats, "sms": threads}[s["channel"]]
        low, high = (0, 10) if s["survey_type"] == "nps" else (1, 5)
        assert low <= int(s["score"]) <= high


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "landing"
    argv = [
        "--customers",
        "120",
        "--days",
        "3",
        "--seed",
        "1",
        "--out",
        str(out),
        "--no-progress",
        "--start-date",
        "2026-10-12",
    ]
    assert main(argv) == 0
    assert (out / "calls" / "calls_2026-10-14.csv").is_file()
    assert (out / "customers" / "customers_2026-10-14.csv").is_file()
    assert "events" in capsys.readouterr().out


# --- tickets -----------------------------------------------------------------------------------------------


def test_ticket_shapes_match_json_paths(sample) -> None:
    root, _ = sample
    top = _json_keys(JSON_PATHS["tickets"])
    comment = _json_keys(JSON_PATHS["ticket_comments"])
    change = _json_keys(JSON_PATHS["ticket_status_changes"])
    tickets = read_tickets(root)
    assert len(tickets) > 300
    for t in tickets.values():
        # history_exported is optional: only a report without messages and status history says false.
        assert set(t) == (top[""] - {"history_exported"}) | {"tags", "comments", "status_changes"}
        assert set(t["requester"]) == top["requester"] and set(t["via"]) == top["via"]
        assert t["satisfaction_rating"] is None or set(t["satisfaction_rating"]) == top["satisfaction_rating"]
        assert all(set(c) == comment[""] for c in t["comments"]) and t["comments"]
        assert all(set(c) == change[""] for c in t["status_changes"])
        assert t["status_changes"][-1]["value"] == t["status"]
        assert t["comments"][0]["author_role"] == "end-user"
        assert (t["solved_at"] is not None) == (t["status"] in ("solved", "closed"))


def test_tickets_planted_behaviour(sample, truths) -> None:
    """Auto-replies are public system messages, internal notes are private agent comments, reopened tickets were
    solved then opened again by the customer, and the after-hours agent replies outside opening hours."""
    root, _ = sample
    planted = truths["tickets"]
    tickets = read_tickets(root)
    comments = [c for t in tickets.values() for c in t["comments"]]
    auto = [c for c in comments if c["author_role"] == "system"]
    assert auto and all(c["public"] and c["body"] == planted["auto_reply_text"] for c in auto)
    assert any(c["author_role"] == "agent" and not c["public"] for c in comments)
    assert len(planted["reopened_tickets"]) >= 20
    for ticket_id in planted["reopened_tickets"]:
        values = [s["value"] for s in tickets[ticket_id]["status_changes"]]
        assert "solved" in values and "open" in values[values.index("solved") :], ticket_id
    assert planted["after_hours_replies"] >= 10
    # Email, then a call two days later on the same problem: the call is in the calls export.
    pairs = planted["email_then_call"]
    assert len(pairs) >= 20
    calls = {(r["customer_ref"], r["started_at"][:13]) for r in read_csv(root, "calls", truths) if r["customer_ref"]}
    found = 0
    for pair in pairs:
        ticket = tickets[pair["ticket_id"]]
        assert ts(pair["call_started_at"]) - ts(ticket["created_at"]) > timedelta(days=1, hours=12)
        started = ts(pair["call_started_at"])
        found += any(
            (pair["customer_ref"], ts_local[:13]) in calls
            for ts_local in {started.astimezone(ZoneInfo(z)).isoformat() for z in cat.TIMEZONES}
        )
    # A caller the IVR does not identify carries no customer_ref: most are found by it.
    assert found >= len(pairs) // 2


def test_failing_faq_readers_write_a_ticket(sample, truths) -> None:
    """Self-service failure through the help desk: readers of the failing article who neither call nor chat
    e-mail a ticket on the article's intent 1 to 6 hours after reading it; the reading is in the FAQ views (most
    readers known by a signed-in view of the same cookie) and the ticket's tags map to that intent."""
    root, _ = sample
    codes = _intent_map()
    planted = truths["tickets"]["faq_then_ticket"]
    assert len(planted) >= 10
    tickets = read_tickets(root)
    article = truths["failing_faq_article"]
    views = read_csv(root, "faq_views", truths)
    owner = {v["visitor_id"]: v["customer_ref"] for v in views if v["customer_ref"]}
    read = {
        (v["customer_ref"] or owner.get(v["visitor_id"]), ts(v["viewed_at"]))
        for v in views
        if v["article_id"] == article
    }
    identified = 0
    for pair in planted:
        ticket = tickets[pair["ticket_id"]]
        created, read_at = ts(ticket["created_at"]), ts(pair["read_at"])
        assert timedelta(hours=1) < created - read_at < timedelta(hours=24), pair
        assert ticket["via"]["channel"] == "email" and ticket["requester"]["email"], pair
        assert pair["intent"] == codes[("faq_article", article)]
        assert {codes[("ticket_tag", t)] for t in ticket["tags"]} == {pair["intent"]}, pair
        assert read_at in {at for _, at in read}, pair
        identified += (pair["customer_ref"], read_at) in read
    # A reader who never signed in on that browser is anonymous in the FAQ views: most are known.
    assert identified >= len(planted) // 2


def test_unresolved_repeats_churn_more(sample, truths) -> None:
    """Churn driver: customers with an answered call left unresolved churn (CRM churned_at in the period) more
    than twice as often as customers whose calls were all resolved. Calls are one channel of several and a first
    contact left unresolved is no driver, so the files show the effect diluted; the generator's own tally of
    every driver is in the truths."""
    root, _ = sample
    end = ts(truths["generator"]["end_date"] + "T23:59:59+00:00") + timedelta(days=1)
    churned = {}
    for path in (root / "customers").glob("*.csv"):
        with open(path, encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                if r["churned_at"] and ts(r["churned_at"]) <= end:
                    churned[r["customer_ref"]] = ts(r["churned_at"])
    unresolved, resolved_only = Counter(), set()
    for r in read_csv(root, "calls", truths):
        if r["direction"] == "inbound" and r["customer_ref"] and r["resolved"]:
            ref, at = r["customer_ref"], ts(r["started_at"])
            # The call to cancel (on the churn day, before the CRM's churned_at) is the churn, not its driver.
            if ref in churned and at >= churned[ref] - timedelta(days=2):
                continue
            if r["resolved"] == "false":
                unresolved[ref] += 1
            resolved_only.add(ref)
    frustrated = set(unresolved)
    served = resolved_only - frustrated
    rate_frustrated = sum(ref in churned for ref in frustrated) / len(frustrated)
    rate_served = sum(ref in churned for ref in served) / len(served)
    assert len(frustrated) >= 100
    assert rate_frustrated > 2 * rate_served
    drivers = truths["churn_drivers"]
    start = ts(truths["generator"]["start_date"] + "T00:00:00+00:00")
    assert drivers["observed_churned_in_period"] == sum(1 for at in churned.values() if at > start)
    assert drivers["observed_churn_rate_with_driver"] > 3 * drivers["observed_churn_rate_without_driver"]


def test_strong_agent_resolves_its_intent_best(sample, truths) -> None:
    root, _ = sample
    codes = _intent_map()
    intent, strong = truths["strong_agent_intent"], truths["strong_agent"]
    assert strong != truths["weak_agent"]
    tally = defaultdict(Counter)
    for r in read_csv(root, "calls", truths):
        on_intent = codes.get(("call_disposition", r["disposition"])) == intent
        if r["direction"] == "inbound" and r["resolved"] and on_intent:
            tally[r["agent_id"]][r["resolved"]] += 1
    rates = {a: t["true"] / (t["true"] + t["false"]) for a, t in tally.items() if t["true"] + t["false"] >= 10}
    assert sum(tally[strong].values()) >= 20
    assert max(rates, key=rates.get) == strong
    assert rates[strong] > 0.9 > truths["strong_agent_stats"]["observed_other_rate"]
