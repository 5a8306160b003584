"""Shared helpers for the loader tests: write a tiny landing folder, ingest it, inspect the result."""
from __future__ import annotations

from pathlib import Path

from ingest import runner
from tests.fixtures import EXAMPLES_DIR


def write(landing: Path, relative: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    """Write one delivered file under the landing folder."""
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def ingest(con, landing: Path, source: str, **kwargs) -> runner.SourceSummary:
    return runner.ingest_source(con, landing, source, progress=False, **kwargs)


def rejects(con) -> list[tuple]:
    """(file_path, record_no, reason, raw_text) of every quarantined record."""
    return con.execute(
        "SELECT file_path, record_no, reason, raw_text FROM ingest.rejects ORDER BY file_path, record_no"
    ).fetchall()


def count(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def assert_identity(con) -> None:
    """records_read = loaded + quarantined + skipped for every file, and rejects match the accounting."""
    broken = con.execute(
        """SELECT file_path FROM ingest.files
           WHERE records_read <> records_loaded + records_quarantined + repeats_skipped"""
    ).fetchall()
    assert broken == []
    mismatched = con.execute(
        """SELECT f.file_path, f.records_quarantined, count(r.record_no) AS rejected
           FROM ingest.files AS f LEFT JOIN ingest.rejects AS r USING (file_path)
           GROUP BY ALL HAVING f.records_quarantined <> count(r.record_no)"""
    ).fetchall()
    assert mismatched == []
