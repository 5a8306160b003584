"""Loader of finance/resolutions (docs/contract/sources.md, issue 12):
`exception_id,action,note,decided_by,decided_at`, one decision per row.

Validation order: `exception_id` required and known (an id some published version listed:
`published_history.exception_observations`, carried in by ingest.history before any file is
read), else `unknown_exception_id`; `action` one of acknowledge / waive / reopen; `note` may be
empty; `decided_by` required; `decided_at` ISO 8601 with an offset.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.common import FileLoad, Rule, is_blank_sql, load_csv_flat, quote_ident
from ingest.history import OBSERVATIONS_TABLE

ACTIONS = ("acknowledge", "waive", "reopen")
RESOLUTION_RULES: tuple[Rule, ...] = (
    Rule("exception_id"),
    Rule("action", "enum", values=ACTIONS),
    Rule("note", required=False),
    Rule("decided_by"),
    Rule("decided_at", "ts_offset"),
)
RESOLUTION_COLUMNS = tuple(rule.name for rule in RESOLUTION_RULES)

RAW_TABLES: dict[str, dict[str, tuple[str, ...]]] = {
    "finance/resolutions": {"finance_resolutions": RESOLUTION_COLUMNS},
}


def _known_exception_sql() -> str:
    column = quote_ident("exception_id")
    return (
        f"CASE WHEN {is_blank_sql(column)} THEN 'missing_field:exception_id' "
        f"WHEN {column} NOT IN (SELECT exception_id FROM {OBSERVATIONS_TABLE}) THEN 'unknown_exception_id' END"
    )


def load_resolutions(con: duckdb.DuckDBPyConnection, path: Path, into: str | None = None) -> FileLoad:
    """Resolutions CSV file -> candidate rows of raw.finance_resolutions, plus rejects."""
    return load_csv_flat(con, path, "utf-8", RESOLUTION_RULES, "finance_resolutions", "_fin_resolutions",
                         extra_reasons={"exception_id": _known_exception_sql()}, into=into)
