"""Finance resolutions (issue 12): validated like every source, an unknown exception id is
quarantined, and the ids known are those of the published history carried in (ingest.history)."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingest import history, runner
from tests.ingest.helpers import assert_identity, ingest, rejects, write

HEADER = "exception_id,action,note,decided_by,decided_at"
KNOWN = ("EXC-A", "EXC-B")
PATH = "finance/resolutions/2026-11-03/decisions.csv"


def row(**changes: str) -> str:
    values = {"exception_id": "EXC-A", "action": "acknowledge", "note": "looking into it",
              "decided_by": "ana@finance", "decided_at": "2026-11-03T09:15:00+08:00"} | changes
    return ",".join(values.values())


def publish_history(path: Path, ids: tuple[str, ...] = KNOWN, status_column: bool = True) -> Path:
    """A published file as orchestration.publish writes it: the log of exceptions and the publications."""
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA history; CREATE SCHEMA meta")
        con.execute("CREATE TABLE history.exception_observations (as_of TIMESTAMP, exception_id VARCHAR, "
                    "exception_type VARCHAR, order_id VARCHAR, document_id VARCHAR)")
        con.executemany("INSERT INTO history.exception_observations VALUES ('2026-11-02 00:00:00', ?, 'AR_OVERDUE', 'O1', NULL)",
                        [[i] for i in ids])
        extra = ", status VARCHAR" if status_column else ""
        con.execute(f"CREATE TABLE meta.publications (publication_id INTEGER, as_of TIMESTAMP{extra})")
        con.execute("INSERT INTO meta.publications VALUES (1, '2026-11-02 00:00:00'" + (", 'published'" if status_column else "") + ")")
        if status_column:
            con.execute("INSERT INTO meta.publications VALUES (2, '2026-11-03 00:00:00', 'held')")
    return path


@pytest.fixture
def known(con, tmp_path):
    runner.ensure_tables(con)
    history.carry_in(con, publish_history(tmp_path / "o2c.duckdb"))
    return con


CASES = [
    ("unknown-id", row(exception_id="EXC-NOPE"), "unknown_exception_id"),
    ("empty-id", row(exception_id=""), "missing_field:exception_id"),
    ("action-unknown", row(action="delete"), "invalid_value:action"),
    ("action-upper-case", row(action="WAIVE"), "invalid_value:action"),
    ("empty-decided_by", row(decided_by=""), "missing_field:decided_by"),
    ("decided_at-no-offset", row(decided_at="2026-11-03T09:15:00"), "invalid_value:decided_at"),
    ("decided_at-not-a-date", row(decided_at="yesterday"), "invalid_value:decided_at"),
    ("too-few-fields", "EXC-A,waive,note,ana", "malformed_record"),
]


@pytest.mark.parametrize("bad_row, reason", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_invalid_resolution_is_quarantined(known, landing, bad_row, reason):
    write(landing, PATH, f"{HEADER}\n{row()}\n{bad_row}\n")
    ingest(known, landing, "finance/resolutions")
    assert rejects(known) == [(PATH, 2, reason, bad_row)]
    assert known.execute("SELECT exception_id, action FROM raw.finance_resolutions").fetchall() == [("EXC-A", "acknowledge")]
    assert_identity(known)


def test_acknowledge_waive_reopen_and_an_empty_note_load(known, landing):
    rows = [row(), row(exception_id="EXC-B", action="waive", note=""), row(action="reopen", decided_at="2026-11-04T01:00:00Z")]
    write(landing, PATH, "\n".join([HEADER, *rows]) + "\n")
    summary = ingest(known, landing, "finance/resolutions")
    assert rejects(known) == []
    assert summary.records_loaded == 3
    assert known.execute("SELECT exception_id, action, note FROM raw.finance_resolutions ORDER BY _record_no").fetchall() == [
        ("EXC-A", "acknowledge", "looking into it"), ("EXC-B", "waive", ""), ("EXC-A", "reopen", "looking into it")]


def test_a_file_with_another_header_is_a_malformed_file(known, landing):
    write(landing, PATH, "exception,action,note,decided_by,decided_at\n" + row() + "\n")
    summary = ingest(known, landing, "finance/resolutions")
    assert [f.status for f in summary.files] == ["malformed_file"]
    assert "header" in summary.malformed_files[0] and PATH in summary.malformed_files[0]
    assert_identity(known)


def test_before_the_first_publish_every_id_is_unknown(con, landing, tmp_path):
    runner.ensure_tables(con)
    history.carry_in(con, tmp_path / "nothing-published.duckdb")
    write(landing, PATH, f"{HEADER}\n{row()}\n")
    ingest(con, landing, "finance/resolutions")
    assert [r[2] for r in rejects(con)] == ["unknown_exception_id"]


def test_carry_in_replaces_the_history_and_skips_held_releases(con, tmp_path):
    runner.ensure_tables(con)
    assert history.carry_in(con, publish_history(tmp_path / "a.duckdb", ids=("X", "Y", "Z"))) == 3
    assert history.carry_in(con, publish_history(tmp_path / "b.duckdb", ids=("X",))) == 1
    assert con.execute(f"SELECT exception_id FROM {history.OBSERVATIONS_TABLE}").fetchall() == [("X",)]
    assert con.execute(f"SELECT publication_id FROM {history.PUBLICATIONS_TABLE}").fetchall() == [(1,)]
    # a file published before releases could be held has no status column: every row counts
    assert history.carry_in(con, publish_history(tmp_path / "c.duckdb", status_column=False)) == 2
    assert con.execute(f"SELECT count(*) FROM {history.PUBLICATIONS_TABLE}").fetchone() == (1,)


def test_an_unreadable_published_file_stops_ingest_with_the_way_out(con, tmp_path):
    broken = tmp_path / "o2c.duckdb"
    broken.write_bytes(b"not a duckdb file" * 100)
    runner.ensure_tables(con)
    with pytest.raises(history.HistoryError, match=r"o2c.duckdb cannot be opened.*move the published folder aside"):
        history.carry_in(con, broken)
