"""The `ingest` schema: per-file accounting (`ingest.files`) and the quarantine (`ingest.rejects`).

Contract: docs/architecture.md, "Ingest bookkeeping". Every file is one row of ingest.files with
records_read = records_loaded + records_quarantined + repeats_skipped; every quarantined record
is one row of ingest.rejects.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb

FILES_DDL = """
CREATE TABLE IF NOT EXISTS ingest.files (
    file_path           VARCHAR NOT NULL,
    system              VARCHAR NOT NULL,
    source              VARCHAR NOT NULL,
    export_date         DATE,
    file_sha256         VARCHAR NOT NULL,
    records_read        BIGINT NOT NULL,
    records_loaded      BIGINT NOT NULL,
    records_quarantined BIGINT NOT NULL,
    repeats_skipped     BIGINT NOT NULL,
    status              VARCHAR NOT NULL,  -- loaded | malformed_file | duplicate_file
    duplicate_of        VARCHAR,
    loaded_at           TIMESTAMP NOT NULL,
    CHECK (records_read = records_loaded + records_quarantined + repeats_skipped),
    CHECK (status IN ('loaded', 'malformed_file', 'duplicate_file'))
)
"""

REJECTS_DDL = """
CREATE TABLE IF NOT EXISTS ingest.rejects (
    system      VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    file_path   VARCHAR NOT NULL,
    record_no   INTEGER NOT NULL,
    reason      VARCHAR NOT NULL,
    raw_text    VARCHAR,
    file_sha256 VARCHAR NOT NULL,
    export_date DATE,
    rejected_at TIMESTAMP NOT NULL
)
"""

# How much of an unreadable file goes into its single reject row (the file itself stays in
# the immutable landing folder).
MALFORMED_FILE_TEXT_CHARS = 4096


@dataclass(frozen=True)
class FileRecord:
    """One row of ingest.files."""

    file_path: str
    system: str
    source: str
    export_date: date | None
    file_sha256: str
    records_read: int
    records_loaded: int
    records_quarantined: int
    repeats_skipped: int
    status: str
    duplicate_of: str | None
    loaded_at: datetime


def ensure_ingest_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create schema `ingest` and its two tables if missing."""
    con.execute("CREATE SCHEMA IF NOT EXISTS ingest")
    con.execute(FILES_DDL)
    con.execute(REJECTS_DDL)


def known_sha256(con: duckdb.DuckDBPyConnection, file_path: str) -> str | None:
    """The sha256 recorded for this file path, or None when the path was never ingested."""
    row = con.execute("SELECT file_sha256 FROM ingest.files WHERE file_path = ?", [file_path]).fetchone()
    return row[0] if row else None


def first_file_with_sha256(con: duckdb.DuckDBPyConnection, source: str, sha256: str) -> tuple[str, int] | None:
    """(path, records_read) of the first file of `source` delivered with these bytes, if any."""
    row = con.execute(
        """SELECT file_path, records_read FROM ingest.files
           WHERE source = ? AND file_sha256 = ? AND status <> 'duplicate_file'
           ORDER BY loaded_at, file_path LIMIT 1""",
        [source, sha256],
    ).fetchone()
    return (row[0], row[1]) if row else None


def record_file(con: duckdb.DuckDBPyConnection, record: FileRecord) -> None:
    """Append the accounting row of one file (the identity is checked by the table)."""
    con.execute(
        "INSERT INTO ingest.files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [record.file_path, record.system, record.source, record.export_date, record.file_sha256,
         record.records_read, record.records_loaded, record.records_quarantined,
         record.repeats_skipped, record.status, record.duplicate_of, record.loaded_at],
    )


def write_rejects(con: duckdb.DuckDBPyConnection, rejects_table: str, *, system: str, source: str,
                  file_path: str, file_sha256: str, export_date: date | None, rejected_at: datetime) -> int:
    """Copy a loader's rejects temp table (record_no, reason, raw_text) into ingest.rejects, in bulk."""
    return con.execute(
        f"""INSERT INTO ingest.rejects
            SELECT ?, ?, ?, record_no, reason, raw_text, ?, ?::DATE, ?::TIMESTAMP
            FROM {rejects_table} ORDER BY record_no""",
        [system, source, file_path, file_sha256, export_date, rejected_at],
    ).fetchone()[0]  # INSERT returns its row count


def write_malformed_file(con: duckdb.DuckDBPyConnection, *, system: str, source: str, file_path: str,
                         file_sha256: str, export_date: date | None, raw_text: str, rejected_at: datetime) -> None:
    """The single reject row of an unreadable file: record_no 0, reason malformed_file."""
    con.execute(
        "INSERT INTO ingest.rejects VALUES (?, ?, ?, 0, 'malformed_file', ?, ?, ?, ?)",
        [system, source, file_path, raw_text[:MALFORMED_FILE_TEXT_CHARS], file_sha256, export_date, rejected_at],
    )


def forget_files(con: duckdb.DuckDBPyConnection, source: str, export_dates: list[str]) -> None:
    """Delete the accounting and rejects of `source` for these export dates (for a reload)."""
    con.execute(
        "DELETE FROM ingest.files WHERE source = ? AND export_date IN (SELECT unnest(?::DATE[]))",
        [source, export_dates],
    )
    con.execute(
        "DELETE FROM ingest.rejects WHERE source = ? AND export_date IN (SELECT unnest(?::DATE[]))",
        [source, export_dates],
    )
