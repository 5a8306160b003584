"""The exception history of the published version, carried into the working warehouse.

The history of exceptions must survive a full rebuild of the working warehouse (issue 12), so it
lives in the published file (`history.exception_observations`: which exception held at which
published as_of) and is copied back into `published_history.*` here, before any file is read.
dbt extends it with this build's exceptions; publishing copies the extended log forward. A run
that is not published therefore changes no history, and a deleted working warehouse loses none.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.common import has_table

SCHEMA = "published_history"
OBSERVATIONS_TABLE = f"{SCHEMA}.exception_observations"
PUBLICATIONS_TABLE = f"{SCHEMA}.publications"

_OBSERVATIONS_DDL = f"""
CREATE OR REPLACE TABLE {OBSERVATIONS_TABLE} (
    as_of           TIMESTAMP NOT NULL,  -- the as_of of the publish that listed the exception
    exception_id    VARCHAR NOT NULL,
    exception_type  VARCHAR NOT NULL,
    order_id        VARCHAR,
    document_id     VARCHAR
)"""
_PUBLICATIONS_DDL = f"""
CREATE OR REPLACE TABLE {PUBLICATIONS_TABLE} (
    publication_id  INTEGER NOT NULL,
    as_of           TIMESTAMP NOT NULL
)"""


class HistoryError(RuntimeError):
    """The published file exists but its history cannot be read."""


def ensure_history_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Empty history tables when none exist yet (first run: dbt reads them as sources)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    for table, ddl in ((OBSERVATIONS_TABLE, _OBSERVATIONS_DDL), (PUBLICATIONS_TABLE, _PUBLICATIONS_DDL)):
        name = table.split(".")[1]
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ? "
            "AND table_catalog = current_database()", [SCHEMA, name]).fetchone()[0]
        if not exists:
            con.execute(ddl)


def _has_column(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str, column: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_catalog = ? AND table_schema = ? "
        "AND table_name = ? AND column_name = ?", [catalog, schema, table, column]).fetchone()[0])


def carry_in(con: duckdb.DuckDBPyConnection, published_file: Path | None) -> int:
    """Replace `published_history.*` with the history of `published_file` (empty when there is
    no published file yet), in one transaction; -> the number of observations carried in."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    attached = published_file is not None and Path(published_file).exists() and _attach(con, Path(published_file))
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(_OBSERVATIONS_DDL)
            con.execute(_PUBLICATIONS_DDL)
            if attached:
                _copy_from_published(con)
            count = con.execute(f"SELECT count(*) FROM {OBSERVATIONS_TABLE}").fetchone()[0]
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        if attached:
            con.execute("DETACH _published")
    return count


def _attach(con: duckdb.DuckDBPyConnection, published_file: Path) -> bool:
    try:
        con.execute(f"ATTACH '{str(published_file).replace(chr(39), chr(39) * 2)}' AS _published (READ_ONLY)")
    except duckdb.Error as exc:
        # Losing the history silently would restart every exception's age: stop and say so.
        raise HistoryError(
            f"the published file {published_file} cannot be opened ({exc}); the exception history "
            f"lives there. Fix or restore it, or move the published folder aside to start over "
            f"(docs/exceptions-workbench.md, 'Starting over').") from exc
    return True


def _copy_from_published(con: duckdb.DuckDBPyConnection) -> None:
    if has_table(con, "_published", "history", "exception_observations"):
        con.execute(f"INSERT INTO {OBSERVATIONS_TABLE} BY NAME SELECT as_of, exception_id, exception_type, "
                    "order_id, document_id FROM _published.history.exception_observations")
    if has_table(con, "_published", "meta", "publications"):
        # releases the guard held back are recorded too (status 'held'): they are no publish
        published_only = ("WHERE coalesce(status, 'published') = 'published'"
                          if _has_column(con, "_published", "meta", "publications", "status") else "")
        con.execute(f"INSERT INTO {PUBLICATIONS_TABLE} SELECT publication_id, as_of "
                    f"FROM _published.meta.publications {published_only}")
