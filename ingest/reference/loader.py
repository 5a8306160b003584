"""Loader of reference/fx_rates (spec sources.md): `date,currency,rate_to_cny`.

Validation order: date (`YYYY-MM-DD`), currency (3 upper-case letters), rate_to_cny (unsigned
decimal > 0, any number of decimals).
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.common import FileLoad, Rule, load_csv_flat

FX_RULES: tuple[Rule, ...] = (
    Rule("date", "date"),
    Rule("currency", "currency"),
    Rule("rate_to_cny", "rate_pos"),
)
FX_COLUMNS = tuple(rule.name for rule in FX_RULES)

RAW_TABLES: dict[str, dict[str, tuple[str, ...]]] = {
    "reference/fx_rates": {"reference_fx_rates": FX_COLUMNS},
}


def load_fx_rates(con: duckdb.DuckDBPyConnection, path: Path, into: str | None = None) -> FileLoad:
    """FX rates CSV file -> candidate rows of raw.reference_fx_rates, plus rejects."""
    return load_csv_flat(con, path, "utf-8", FX_RULES, "reference_fx_rates", "_ref_fx", into=into)
