"""Tool codes -> intents through the knowledge base (DOMAIN.md section 2), matched trimmed and case-insensitively."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

KNOWLEDGE_BASE = Path(__file__).resolve().parents[2] / "dbt_project" / "knowledge_base"
UNMAPPED, UNKNOWN = "unmapped", "unknown"


def _key(value: object) -> str:
    return str(value).strip().lower()


@dataclass
class KnowledgeBase:
    codes: dict[tuple[str, str], str]  # (code_type, code) -> intent
    non_intent: set[tuple[str, str]]
    value_weight: dict[str, float]

    @classmethod
    def load(cls, folder: Path = KNOWLEDGE_BASE) -> KnowledgeBase:
        codes = pd.read_csv(folder / "intent_codes.csv", dtype=str)
        non_intent = pd.read_csv(folder / "non_intent_codes.csv", dtype=str)
        intents = pd.read_csv(folder / "intents.csv")
        return cls(
            codes={(_key(t), _key(c)): _key(i) for t, c, i in codes[["code_type", "code", "intent"]].itertuples(False)},
            non_intent={(_key(t), _key(c)) for t, c in non_intent[["code_type", "code"]].itertuples(False)},
            value_weight={_key(i): float(w) for i, w in intents[["intent", "value_weight"]].itertuples(False)},
        )

    def is_known(self, intent: object) -> bool:
        """A knowledge-base intent; neither `unknown` (no code) nor `unmapped` (a code the base lacks)."""
        return isinstance(intent, str) and intent in self.value_weight

    def intent_of(self, codes: Iterable[tuple[str, object]]) -> str | None:
        """First mapped code wins (codes given in time order); `unmapped` if codes exist but none maps; None if no code.

        Codes listed as non-intent (routing menus) are ignored as if absent.
        """
        seen_code = False
        for code_type, code in codes:
            if code is None or (isinstance(code, float) and pd.isna(code)) or not str(code).strip():
                continue
            key = (code_type, _key(code))
            if key in self.non_intent:
                continue
            seen_code = True
            if key in self.codes:
                return self.codes[key]
        return UNMAPPED if seen_code else None
