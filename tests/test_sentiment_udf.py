"""The sentiment_compound UDF (engine/dbt_udfs.py): VADER's compound score, None for empty text, cached."""

from __future__ import annotations

import duckdb
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from contact_warehouse.engine import dbt_udfs

SENTENCES = [
    "This is great, thank you!",
    "This is terrible and I am angry.",
    "I still can't log in to my account",
    "my bill",
    "VERY helpful agent :)",
]


@pytest.fixture(autouse=True)
def _fresh_cache():
    dbt_udfs._compound.cache_clear()
    yield
    dbt_udfs._compound.cache_clear()


@pytest.fixture(scope="module")
def vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


@pytest.mark.parametrize("text", SENTENCES)
def test_gives_vaders_compound_score(text: str, vader: SentimentIntensityAnalyzer) -> None:
    assert dbt_udfs.sentiment_compound(text) == vader.polarity_scores(text)["compound"]


def test_known_values() -> None:
    # Pinned by hand so a lexicon change shows: VADER 3.3.2's values.
    assert dbt_udfs.sentiment_compound("This is great, thank you!") == 0.784
    assert dbt_udfs.sentiment_compound("This is terrible and I am angry.") == -0.7506
    assert dbt_udfs.sentiment_compound("my bill") == 0.0


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_empty_text_has_no_score(text: str | None) -> None:
    assert dbt_udfs.sentiment_compound(text) is None


def test_one_analyzer_per_process() -> None:
    assert dbt_udfs.sentiment_analyzer() is dbt_udfs.sentiment_analyzer()


class _CountingAnalyzer:
    def __init__(self) -> None:
        self.inner = SentimentIntensityAnalyzer()
        self.calls: list[str] = []

    def polarity_scores(self, text: str) -> dict[str, float]:
        self.calls.append(text)
        return self.inner.polarity_scores(text)


def test_scores_each_distinct_text_once(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = _CountingAnalyzer()
    monkeypatch.setattr(dbt_udfs, "sentiment_analyzer", lambda: spy)
    texts = ["ok", "thanks", "ok", "ok", "thanks", "", None, "ok"]
    scores = [dbt_udfs.sentiment_compound(text) for text in texts]
    assert sorted(spy.calls) == ["ok", "thanks"]
    assert scores[0] == scores[2] == scores[3] == scores[7]
    assert scores[5] is None and scores[6] is None


def test_registered_as_a_sql_function(vader: SentimentIntensityAnalyzer) -> None:
    """The dbt-duckdb plugin registers it with the other UDFs; SQL gets a DOUBLE, NULL for empty texts."""
    conn = duckdb.connect()
    dbt_udfs.Plugin(name="dbt_udfs", plugin_config={}).configure_connection(conn)
    rows = conn.execute(
        "select text, sentiment_compound(text) from (values (?), (?), (''), (null)) as texts(text)",
        SENTENCES[:2],
    ).fetchall()
    assert rows == [
        (SENTENCES[0], vader.polarity_scores(SENTENCES[0])["compound"]),
        (SENTENCES[1], vader.polarity_scores(SENTENCES[1])["compound"]),
        ("", None),
        (None, None),
    ]
    assert conn.execute("select typeof(sentiment_compound('ok'))").fetchone() == ("DOUBLE",)
    # The other UDFs still work on the same connection.
    assert conn.execute("select normalize_phone('(404) 555-0123', 'US')").fetchone() == ("+14045550123",)
    assert len(conn.execute("select pii_hash('a@example.com')").fetchone()[0]) == 64
