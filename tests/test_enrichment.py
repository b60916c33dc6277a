"""Python enrichment before dbt (contact_warehouse/enrichment): VADER's compound score, None for empty text, cached;
the loader's enriched raw columns (E.164, keyed identifier hashes, sentiment), redone on a new key."""

from __future__ import annotations

import hashlib
import hmac
import random
from pathlib import Path

import duckdb
import pytest
from conftest import load_landing
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from contact_warehouse.enrichment import functions as functions
from contact_warehouse.enrichment.columns import ENRICHED_COLUMNS
from contact_warehouse.enrichment.functions import DEFAULT_PII_KEY
from contact_warehouse.loading.sources import EXPORTS_BY_NAME

SENTENCES = [
    "This is great, thank you!",
    "This is terrible and I am angry.",
    "I still can't log in to my account",
    "my bill",
    "VERY helpful agent :)",
]


@pytest.fixture(autouse=True)
def _fresh_cache():
    functions._compound.cache_clear()
    yield
    functions._compound.cache_clear()


@pytest.fixture(scope="module")
def vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


@pytest.mark.parametrize("text", SENTENCES)
def test_gives_vaders_compound_score(text: str, vader: SentimentIntensityAnalyzer) -> None:
    assert functions.sentiment_compound(text) == vader.polarity_scores(text)["compound"]


def test_known_values() -> None:
    # Pinned by hand so a lexicon change shows: VADER 3.3.2's values.
    assert functions.sentiment_compound("This is great, thank you!") == 0.784
    assert functions.sentiment_compound("This is terrible and I am angry.") == -0.7506
    assert functions.sentiment_compound("my bill") == 0.0


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_empty_text_has_no_score(text: str | None) -> None:
    assert functions.sentiment_compound(text) is None


def test_one_analyzer_per_process() -> None:
    assert functions.sentiment_analyzer() is functions.sentiment_analyzer()


class _CountingAnalyzer:
    def __init__(self) -> None:
        self.inner = SentimentIntensityAnalyzer()
        self.calls: list[str] = []

    def polarity_scores(self, text: str) -> dict[str, float]:
        self.calls.append(text)
        return self.inner.polarity_scores(text)


def test_scores_each_distinct_text_once(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = _CountingAnalyzer()
    monkeypatch.setattr(functions, "sentiment_analyzer", lambda: spy)
    texts = ["ok", "thanks", "ok", "ok", "thanks", "", None, "ok"]
    scores = [functions.sentiment_compound(text) for text in texts]
    assert sorted(spy.calls) == ["ok", "thanks"]
    assert scores[0] == scores[2] == scores[3] == scores[7]
    assert scores[5] is None and scores[6] is None


def _node(value: str, key: str = DEFAULT_PII_KEY) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def _landing(tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    for export, rows in {
        "customers": [
            "customer_ref,email,phone,value_tier,timezone,created_at,churned_at",
            "C1,  Jane.Doe@Example.COM ,(415) 555-0123,high,America/New_York,2026-01-01T00:00:00Z,",
            "C2,,n/a,standard,America/New_York,2026-01-01T00:00:00Z,",
        ],
        "surveys": [
            "response_id,survey_type,channel,contact_id,respondent,responded_at,score,comment",
            "S1,nps,voice,c1,Bob@Example.org,2026-10-05T09:00:00Z,9,This is great thank you!",
            "S2,nps,voice,c2,+1 415 555 0199,2026-10-05T09:00:00Z,2,",
            "S3,nps,voice,c3, C7 ,2026-10-05T09:00:00Z,5,my bill",
        ],
    }.items():
        (landing / export).mkdir(parents=True)
        (landing / export / f"{export}_2026-10-05.csv").write_text("\n".join(rows) + "\n")
    return landing


def test_the_loader_writes_the_enriched_columns(warehouse: Path, tmp_path: Path) -> None:
    load_landing(warehouse, _landing(tmp_path))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        customers = con.execute(
            "select customer_ref, phone_e164, customer_ref_node, email_node, phone_node from raw.customers order by 1"
        ).fetchall()
        surveys = con.execute(
            "select response_id, respondent_e164, respondent_email_node, respondent_phone_node,"
            " respondent_customer_ref_node, comment_sentiment from raw.surveys order by 1"
        ).fetchall()
    assert customers == [
        (
            "C1",
            "+14155550123",
            _node("customer_ref:C1"),
            _node("email:jane.doe@example.com"),
            _node("phone:+14155550123"),
        ),
        ("C2", None, _node("customer_ref:C2"), None, None),
    ]
    # Each export's caches of values are emptied when it is loaded (the process then waits for dbt beside it).
    assert functions.normalize_phone.cache_info().currsize == functions._hash_with.cache_info().currsize == 0
    assert functions._compound.cache_info().currsize == 0
    vader = SentimentIntensityAnalyzer()
    assert surveys == [
        (
            "S1",
            None,
            _node("email:bob@example.org"),
            None,
            None,
            vader.polarity_scores("This is great thank you!")["compound"],
        ),
        ("S2", "+14155550199", None, _node("phone:+14155550199"), None, None),
        ("S3", None, None, None, _node("customer_ref:C7"), 0.0),
    ]


def test_every_enriched_table_is_a_raw_table_and_every_input_a_column() -> None:
    tables = {table.name: table for export in EXPORTS_BY_NAME.values() for table in export.tables}
    for name, columns in ENRICHED_COLUMNS.items():
        for column in columns:
            assert set(column.inputs) <= set(tables[name].column_names), (name, column.name)


def test_a_new_key_rehashes_every_row_and_the_key_is_stored_nowhere(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing = _landing(tmp_path)
    load_landing(warehouse, landing)
    monkeypatch.setenv("CONTACT_WAREHOUSE_PII_KEY", "a-rotated-secret-key")
    load_landing(warehouse, landing)  # no new file: the tables are redone for the new key
    with duckdb.connect(str(warehouse), read_only=True) as con:
        node = con.execute("select customer_ref_node from raw.customers where customer_ref = 'C1'").fetchone()[0]
        tables = con.execute("select table_name from information_schema.tables where table_schema = 'raw'").fetchall()
        dumps = [str(con.execute(f"select * from raw.{name}").fetchall()) for (name,) in tables]
    assert node == _node("customer_ref:C1", "a-rotated-secret-key")
    assert not any("a-rotated-secret-key" in dump for dump in dumps)


def test_a_warehouse_loaded_before_enrichment_gets_its_columns_on_the_next_load(
    warehouse: Path, tmp_path: Path
) -> None:
    landing = _landing(tmp_path)
    load_landing(warehouse, landing)
    with duckdb.connect(str(warehouse)) as con:  # as an older version left it
        con.execute("drop table raw._enrichment")
        for column in ("phone_e164", "customer_ref_node", "email_node", "phone_node"):
            con.execute(f"alter table raw.customers drop column {column}")
    load_landing(warehouse, landing)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute("select phone_e164, phone_node from raw.customers where customer_ref = 'C1'").fetchone()
    assert row == ("+14155550123", _node("phone:+14155550123"))


def test_no_dbt_file_reads_the_key() -> None:
    from contact_warehouse.settings import DBT_PROJECT_DIR

    for path in DBT_PROJECT_DIR.rglob("*"):
        if path.is_file() and path.suffix in (".sql", ".yml", ".py") and "target" not in path.parts:
            assert "PII_KEY" not in path.read_text(errors="replace"), path


def test_a_snapshot_repeating_known_identifiers_computes_only_the_new_ones(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next CRM snapshot repeats C1 and C2 and adds C3, after a key rotation: the repeated identifiers take
    the outputs the raw table already holds (made with the new key), only C3's phone is parsed, and every row
    equals what the functions give (a copy from rows of the old key would show as a wrong hash)."""
    landing = _landing(tmp_path)
    load_landing(warehouse, landing)
    monkeypatch.setenv("CONTACT_WAREHOUSE_PII_KEY", "a-rotated-secret-key")
    load_landing(warehouse, landing)  # the rotation: every row enriched again with the new key
    parsed: list[str] = []
    counted = functions.normalize_phone.__wrapped__

    def counting(raw: str | None, region: str | None) -> str | None:
        parsed.append(raw)
        return counted(raw, region)

    monkeypatch.setattr("contact_warehouse.enrichment.columns.normalize_phone", counting)
    (landing / "customers" / "customers_2026-10-06.csv").write_text(
        "customer_ref,email,phone,value_tier,timezone,created_at,churned_at\n"
        "C1,  Jane.Doe@Example.COM ,(415) 555-0123,high,America/New_York,2026-01-01T00:00:00Z,\n"
        "C2,,n/a,standard,America/New_York,2026-01-01T00:00:00Z,\n"
        "C3,c3@example.com,415-555-0177,standard,America/New_York,2026-01-01T00:00:00Z,\n"
    )
    load_landing(warehouse, landing)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select customer_ref, phone_e164, customer_ref_node, email_node, phone_node from raw.customers"
            " where _source_file like '%10-06.csv' order by 1"
        ).fetchall()
    key = "a-rotated-secret-key"
    assert rows == [
        (
            "C1",
            "+14155550123",
            _node("customer_ref:C1", key),
            _node("email:jane.doe@example.com", key),
            _node("phone:+14155550123", key),
        ),
        ("C2", None, _node("customer_ref:C2", key), None, None),
        (
            "C3",
            "+14155550177",
            _node("customer_ref:C3", key),
            _node("email:c3@example.com", key),
            _node("phone:+14155550177", key),
        ),
    ]
    # C3's new phone and C2's unparseable "n/a" (no output to copy) were parsed; C1's known phone was not.
    assert "(415) 555-0123" not in parsed
    assert set(parsed) == {"415-555-0177", "n/a"}


def _written(digits: str, rng: random.Random) -> str:
    """``digits`` as people write them: separators (or none) between random groups, sometimes in parentheses."""
    out, i = [], 0
    while i < len(digits):
        size = rng.choice([1, 2, 3, 3, 4, 10])
        group = digits[i : i + size]
        out.append(f"({group})" if rng.random() < 0.15 else group)
        i += size
    return rng.choice(["", " ", "-", ".", " - "]).join(out) if rng.random() < 0.9 else " ".join(out) + " "


def test_the_north_american_shortcut_gives_what_phonenumbers_gives() -> None:
    """normalize_phone answers North American numbers without phonenumbers (~20 us a number): on every shape around
    them (area codes and exchanges starting 0-9, a leading 1, +1, 011, other lengths and country codes, separators,
    other regions) its answer is the library's, and the shortcut is taken for the usual ones."""
    rng = random.Random(22)
    prefixes = ["", "1", "+1", "+", "011", "0", "+44", "+ 1", "(+1) ", "1 ", "+11", "11"]
    shortcut = 0
    for case in range(30_000):
        length = rng.choice([7, 9, 10, 10, 10, 11])
        digits = "".join(rng.choice("0123456789") for _ in range(length))
        if case % 2:  # half of them well-formed: an area code and an exchange starting 2-9
            digits = rng.choice("23456789") + digits[1:3] + rng.choice("23456789") + digits[4:]
        raw = rng.choice(prefixes) + _written(digits, rng)
        region = rng.choice(["US", "US", "CA", "GB", "DE"])
        expected = functions._parsed_e164(raw, region)
        assert functions.normalize_phone.__wrapped__(raw, region) == expected, (raw, region)
        shortcut += functions._north_american(raw, region) is not None
    assert shortcut > 3_000  # the shortcut was tested, not only the library
    for raw in ["(415) 555-0123", "415.555.0123", "1-415-555-0123", "+1 415 555 0123", "+14155550123"]:
        assert functions._north_american(raw, "US") == "+14155550123" == functions._parsed_e164(raw, "US")
    # Not North American, or not in the region US: phonenumbers answers.
    for raw, region in [("415-555-0123", "GB"), ("1-415-555-0123", "CA"), ("+44 20 7946 0958", "US"), ("n/a", "US")]:
        assert functions._north_american(raw, region) is None
    assert functions.normalize_phone.__wrapped__("415-555-0123", "GB") == functions._parsed_e164("415-555-0123", "GB")


@pytest.mark.parametrize("key", [b"k", DEFAULT_PII_KEY.encode(), b"x" * 64, b"y" * 65, bytes(range(200))])
def test_the_identifier_hash_is_hmac_sha256(key: bytes) -> None:
    """The hash made from HMAC's precomputed inner and outer states is ``hmac``'s, for keys shorter than, as long
    as and longer than SHA-256's block (hashed first), and for any text."""
    for value in ["phone:+14155550123", "email:jane.doe@example.com", "customer_ref:Ç-é 名前 🙂", ""]:
        assert functions._hash_with.__wrapped__(key, value) == hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
