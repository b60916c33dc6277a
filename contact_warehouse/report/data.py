"""Read-only access to the serving file: which marts it holds, their columns, queries that fail politely."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

SCHEMA = "marts"


class MartMissing(Exception):
    """A mart (or a column of it) the figure needs is not in the serving file."""

    def __init__(self, *marts: str) -> None:
        self.marts = marts
        super().__init__(f"{', '.join(marts)} missing")


class Serving:
    """The published marts, opened read-only. Nothing else of the warehouse is ever read."""

    def __init__(self, path: Path) -> None:
        if not Path(path).exists():
            raise FileNotFoundError(f"serving file not found: {path} (run the pipeline first: contact-warehouse run)")
        self.path = Path(path)
        self.con = duckdb.connect(str(path), read_only=True)
        rows = self.con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = ?", [SCHEMA]
        ).fetchall()
        self.tables: dict[str, set[str]] = {}
        for table, column in rows:
            self.tables.setdefault(table, set()).add(column)

    def __enter__(self) -> Serving:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def has(self, mart: str) -> bool:
        return mart in self.tables

    def require(self, *marts: str) -> None:
        missing = [m for m in marts if m not in self.tables]
        if missing:
            raise MartMissing(*missing)

    def column(self, mart: str, *candidates: str) -> str:
        """The first of several possible names of a column that the mart has."""
        self.require(mart)
        for name in candidates:
            if name in self.tables[mart]:
                return name
        raise MartMissing(f"{mart}.{candidates[0]}")

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self.con.execute(sql, list(params)).fetchall()

    def frame(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        return self.con.execute(sql, list(params)).df()

    def count(self, mart: str) -> int:
        self.require(mart)
        return int(self.rows(f"select count(*) from {SCHEMA}.{mart}")[0][0])

    def publication(self) -> tuple[str, str] | None:
        """(run id, published at) of meta.publication, when the pipeline wrote it."""
        try:
            row = self.rows("select run_id, cast(published_at as varchar) from meta.publication limit 1")
        except duckdb.Error:
            return None
        return (str(row[0][0]), str(row[0][1])[:16]) if row else None
