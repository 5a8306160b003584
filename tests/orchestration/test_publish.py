"""Write-audit-publish: complete versions only, history kept, failures and kills leave the old version."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from orchestration import publish as pub
from orchestration.publish import PUBLISHED_FILE, publish, published_versions, read_publication

REPO = Path(__file__).resolve().parents[2]
AS_OF = "2026-11-15T00:00:00Z"


def make_warehouse(path: Path, extra_orders: int = 0) -> Path:
    """A small working warehouse with the published marts' shape (a few rows each)."""
    con = duckdb.connect(str(path))
    try:
        con.execute("""
        CREATE SCHEMA IF NOT EXISTS marts; CREATE SCHEMA IF NOT EXISTS ingest; CREATE SCHEMA IF NOT EXISTS staging;
        CREATE OR REPLACE TABLE staging.not_published AS SELECT 1 AS x;
        CREATE OR REPLACE TABLE marts.order_ledger AS
          SELECT 'O' || lpad(i::VARCHAR, 5, '0') AS order_id, 'C' || (i % 7) AS customer_id,
                 'CNY' AS currency, (100 + i)::DECIMAL(18,2) AS order_total,
                 TIMESTAMP '2026-11-01 00:00:00' + INTERVAL (i) HOUR AS created_at
          FROM range(50) t(i);
        CREATE OR REPLACE TABLE marts.reconciliation_exceptions (
          exception_id VARCHAR, exception_type VARCHAR, order_id VARCHAR, document_id VARCHAR,
          exception_key VARCHAR, as_of TIMESTAMP, severity VARCHAR, amount_at_risk DECIMAL(18,2),
          currency VARCHAR, details VARCHAR);
        INSERT INTO marts.reconciliation_exceptions VALUES
          ('e1', 'DUPLICATE_PAYMENT', 'O00001', NULL, 'O00001', TIMESTAMP '2026-11-15', 'high', 1234.50, 'CNY', '{}'),
          ('e2', 'DUPLICATE_PAYMENT', 'O00002', NULL, 'O00002', TIMESTAMP '2026-11-15', 'high', 99.00, 'CNY', '{}'),
          ('e3', 'ORPHAN_PAYMENT', NULL, 'TXN-77', 'TXN-77', TIMESTAMP '2026-11-15', 'medium', 456.78, 'USD', '{}'),
          ('e4', 'UNAPPLIED_CASH', NULL, 'BANK-9', 'BANK-9', TIMESTAMP '2026-11-15', 'medium', 300.00, 'CNY', '{}'),
          ('e5', 'STUCK_AWAITING_APPROVAL', 'O00003', NULL, 'O00003', TIMESTAMP '2026-11-15', 'low', 0.00, 'CNY', '{}'),
          ('e6', 'AR_OVERDUE', 'O00004', NULL, 'O00004', TIMESTAMP '2026-11-15', 'critical', 8800.00, 'CNY', '{}');
        CREATE OR REPLACE TABLE marts.ar_aging (
          customer_id VARCHAR, currency VARCHAR, bucket VARCHAR, amount DECIMAL(18,2),
          amount_cny DECIMAL(18,2), order_count INTEGER);
        INSERT INTO marts.ar_aging VALUES
          ('C1', 'CNY', 'current', 1000.00, 1000.00, 2),
          ('C1', 'CNY', '31-60', 250.00, 250.00, 1),
          ('C2', 'USD', '90+', 100.00, 712.34, 1),
          ('C3', 'CNY', '1-30', 42.00, 42.00, 1),
          ('C4', 'CNY', 'current', -20.00, -20.00, 1);
        -- the columns of dbt_project/models/marts/daily_cash_reconciliation.sql
        CREATE OR REPLACE TABLE marts.daily_cash_reconciliation (
          cash_date DATE, system VARCHAR, method VARCHAR, captured_cny DECIMAL(18,2),
          refunded_cny DECIMAL(18,2), fees_cny DECIMAL(18,2), bank_credits_cny DECIMAL(18,2),
          bank_debits_cny DECIMAL(18,2), source_net_receipts_cny DECIMAL(18,2),
          journal_cash_cny DECIMAL(18,2), difference_cny DECIMAL(18,2), transaction_count INTEGER);
        INSERT INTO marts.daily_cash_reconciliation VALUES
          (DATE '2026-11-01', 'payments', 'alipay', 500.00, 0, 5.00, 0, 0, 495.00, 495.00, 0.00, 3),
          (DATE '2026-11-01', 'bank', 'bank_transfer', 0, 0, 0, 700.00, 0, 700.00, 700.00, 0.00, 2),
          (DATE '2026-11-02', 'payments', 'wechat', 300.00, 0, 3.00, 0, 0, 297.00, 307.00, 10.00, 1),
          (DATE '2026-11-02', 'bank', 'bank_transfer', 0, 0, 0, 120.00, 0, 120.00, 120.00, 0.00, 1);
        CREATE OR REPLACE TABLE ingest.files AS
          SELECT 'oms/orders/2026-11-01/orders.jsonl' AS file_path, 'oms' AS system, 3 AS records_read;
        CREATE OR REPLACE TABLE ingest.rejects AS
          SELECT 'oms' AS system, 'oms/orders/2026-11-01/orders.jsonl' AS file_path, 2 AS record_no,
                 'malformed_record' AS reason;
        """)
        if extra_orders:
            con.execute(f"""INSERT INTO marts.order_ledger
                SELECT 'X' || lpad(i::VARCHAR, 6, '0'), 'C0', 'CNY', 1.00, TIMESTAMP '2026-11-02'
                FROM range({extra_orders}) t(i)""")
    finally:
        con.close()
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _publish(wh: Path, out: Path, run_id: str, **kw):
    return publish(wh, out, run_id=run_id, as_of=AS_OF, check_summary=kw.get("checks", {"blocking_passed": 7}))


@pytest.fixture
def wh(tmp_path) -> Path:
    return make_warehouse(tmp_path / "warehouse.duckdb")


def test_publish_creates_file_meta_and_parquet(wh, tmp_path):
    out = tmp_path / "published"
    result = _publish(wh, out, "run-1", checks={"blocking_passed": 7, "failed": []})

    assert result.path == out / PUBLISHED_FILE and result.path.is_file()
    assert result.row_counts == {
        "marts.ar_aging": 5, "marts.daily_cash_reconciliation": 4, "marts.order_ledger": 50,
        "marts.reconciliation_exceptions": 6, "ingest.files": 1, "ingest.rejects": 1}
    con = duckdb.connect(str(result.path), read_only=True)
    try:
        tables = set(con.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall())
        assert {(t,) for t in result.row_counts} | {("meta.publications",), ("meta.publication_tables",)} == tables
        # types survive the copy (money stays DECIMAL(18,2))
        dtype = con.execute("SELECT data_type FROM information_schema.columns WHERE table_name = 'ar_aging' "
                            "AND column_name = 'amount_cny'").fetchone()[0]
        assert dtype == "DECIMAL(18,2)"
        meta = con.execute("SELECT run_id, as_of, row_counts, check_summary FROM meta.publications").fetchall()
        assert len(meta) == 1
        assert meta[0][0] == "run-1" and str(meta[0][1]) == "2026-11-15 00:00:00"
        assert json.loads(meta[0][2]) == result.row_counts
        assert json.loads(meta[0][3]) == {"blocking_passed": 7, "failed": []}
        per_table = dict(con.execute("SELECT table_schema || '.' || table_name, row_count "
                                     "FROM meta.publication_tables").fetchall())
        assert per_table == result.row_counts
    finally:
        con.close()

    parquet = out / "parquet"
    assert parquet.is_symlink() and os.readlink(parquet) == result.parquet_version
    files = sorted(p.name for p in parquet.iterdir())
    assert files == ["_publication.json", "ar_aging.parquet", "daily_cash_reconciliation.parquet",
                     "order_ledger.parquet", "reconciliation_exceptions.parquet"]
    n = duckdb.sql(f"SELECT count(*) FROM read_parquet('{parquet}/order_ledger.parquet')").fetchall()[0][0]
    assert n == 50
    assert json.loads((parquet / "_publication.json").read_text())["run_id"] == "run-1"
    # nothing temporary is left, and the working warehouse is closed (we can open it read-write again)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".publish.lock", PUBLISHED_FILE, "parquet", result.parquet_version])
    duckdb.connect(str(wh)).close()


def test_second_publish_keeps_history_and_previous_parquet(wh, tmp_path):
    out = tmp_path / "published"
    first = _publish(wh, out, "run-1")
    make_warehouse(wh, extra_orders=5)
    second = _publish(wh, out, "run-2")
    third = _publish(wh, out, "run-3")

    versions = published_versions(out)
    assert [v["run_id"] for v in versions] == ["run-1", "run-2", "run-3"]
    assert [v["publication_id"] for v in versions] == [1, 2, 3]
    assert versions[0]["row_counts"]["marts.order_ledger"] == 50
    assert versions[1]["row_counts"]["marts.order_ledger"] == 55
    assert read_publication(out)["run_id"] == "run-3"
    con = duckdb.connect(str(out / PUBLISHED_FILE), read_only=True)
    try:
        assert con.execute("SELECT count(DISTINCT publication_id) FROM meta.publication_tables").fetchone()[0] == 3
    finally:
        con.close()
    # current and previous Parquet versions kept, older ones removed
    folders = sorted(p.name for p in out.iterdir() if p.name.startswith("parquet-"))
    assert folders == sorted([second.parquet_version, third.parquet_version])
    assert first.parquet_version not in folders


def test_failed_publish_leaves_previous_version_byte_identical(wh, tmp_path, monkeypatch):
    out = tmp_path / "published"
    first = _publish(wh, out, "run-1")
    before = _sha(first.path)
    link_before = os.readlink(out / "parquet")
    make_warehouse(wh, extra_orders=5)

    calls = []
    real_copy = pub._copy_table

    def failing_copy(con, schema, table):
        calls.append(table)
        if len(calls) == 3:
            raise RuntimeError("disk full (simulated)")
        return real_copy(con, schema, table)

    monkeypatch.setattr(pub, "_copy_table", failing_copy)
    with pytest.raises(RuntimeError, match="simulated"):
        _publish(wh, out, "run-2")
    assert _sha(first.path) == before
    assert os.readlink(out / "parquet") == link_before
    assert [p.name for p in out.iterdir() if ".tmp" in p.name] == []  # cleaned at once
    assert [v["run_id"] for v in published_versions(out)] == ["run-1"]

    # a failure at the very last step before the swap (e.g. fsync) also changes nothing
    monkeypatch.setattr(pub, "_copy_table", real_copy)
    monkeypatch.setattr(pub, "_fsync_path", lambda p: (_ for _ in ()).throw(OSError("EIO (simulated)")))
    with pytest.raises(OSError, match="simulated"):
        _publish(wh, out, "run-3")
    assert _sha(first.path) == before
    monkeypatch.undo()
    assert _publish(wh, out, "run-4").publication_id == 2


def test_missing_contract_table_is_not_published(wh, tmp_path):
    out = tmp_path / "published"
    first = _publish(wh, out, "run-1")
    before = _sha(first.path)
    con = duckdb.connect(str(wh))
    con.execute("DROP TABLE ingest.rejects")
    con.close()
    with pytest.raises(pub.PublishError, match="ingest.rejects"):
        _publish(wh, out, "run-2")
    assert _sha(first.path) == before


READER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    import duckdb
    path, stop, deadline = sys.argv[1], Path(sys.argv[2]), time.monotonic() + float(sys.argv[3])
    iterations, errors, seen = 0, [], set()
    while time.monotonic() < deadline and iterations < 5000:
        iterations += 1
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                pid, counts = con.execute(
                    "SELECT publication_id, row_counts FROM meta.publications "
                    "ORDER BY publication_id DESC LIMIT 1").fetchone()
                for table, expected in json.loads(counts).items():
                    got = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                    if got != expected:
                        errors.append(f"publication {pid}: {table} has {got} rows, meta says {expected}")
                seen.add(pid)
            finally:
                con.close()
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        if stop.exists() and iterations >= 20:
            break
    print(json.dumps({"iterations": iterations, "errors": errors[:20], "seen": sorted(seen)}))
""")


def test_reader_sees_only_complete_versions_during_publishes(wh, tmp_path):
    out = tmp_path / "published"
    _publish(wh, out, "run-0")
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(out / PUBLISHED_FILE), str(stop), "20"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)  # the reader is inside its loop (holding the file open part of the time)
        for i in range(1, 9):
            make_warehouse(wh, extra_orders=i * 3)  # every version has its own row counts
            result = _publish(wh, out, f"run-{i}")
            assert result.row_counts["marts.order_ledger"] == 50 + i * 3
            time.sleep(0.05)
    finally:
        stop.touch()
        stdout, stderr = reader.communicate(timeout=30)
    assert reader.returncode == 0, stderr
    report = json.loads(stdout)
    print(f"reader: {report['iterations']} iterations, saw publications {report['seen']}")
    assert report["errors"] == []
    assert report["iterations"] >= 20
    assert len(report["seen"]) >= 2, report  # it really read across publishes
    assert [v["publication_id"] for v in published_versions(out)] == list(range(1, 10))


KILLED_PUBLISHER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from orchestration import publish as pub
    real_copy, marker = pub._copy_table, Path(sys.argv[3])
    def slow_copy(con, schema, table):
        n = real_copy(con, schema, table)
        marker.touch()          # one table is in the new file: we are in the middle
        time.sleep(60)
        return n
    pub._copy_table = slow_copy
    pub.publish(sys.argv[1], sys.argv[2], run_id="run-killed", as_of="2026-11-15", check_summary={})
""")


def test_sigkill_mid_publish_leaves_published_file_and_next_publish_recovers(wh, tmp_path):
    out = tmp_path / "published"
    first = _publish(wh, out, "run-1")
    before, link_before = _sha(first.path), os.readlink(out / "parquet")
    make_warehouse(wh, extra_orders=7)
    marker = tmp_path / "in-the-middle"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_PUBLISHER, str(wh), str(out), str(marker)],
                            cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "publisher never reached the middle"
            time.sleep(0.02)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    leftovers = sorted(p.name for p in out.iterdir() if ".tmp" in p.name)
    assert leftovers, "the killed publish should have left its temporary files"
    assert _sha(first.path) == before
    assert os.readlink(out / "parquet") == link_before
    assert read_publication(out)["run_id"] == "run-1"
    duckdb.connect(str(wh)).close()  # the working warehouse is usable (lock released with the process)

    result = _publish(wh, out, "run-2")  # no manual step
    assert set(result.cleaned_leftovers) >= set(leftovers)
    assert [p.name for p in out.iterdir() if ".tmp" in p.name] == []
    assert [v["run_id"] for v in published_versions(out)] == ["run-1", "run-2"]
    assert result.row_counts["marts.order_ledger"] == 57


def test_reader_holding_the_file_keeps_its_version_and_does_not_block(wh, tmp_path):
    out = tmp_path / "published"
    _publish(wh, out, "run-1")
    held = duckdb.connect(str(out / PUBLISHED_FILE), read_only=True)  # a BI tool left open
    try:
        make_warehouse(wh, extra_orders=9)
        started = time.monotonic()
        _publish(wh, out, "run-2")
        assert time.monotonic() - started < 10  # not blocked by the reader's lock
        # the held connection still reads the old inode: one complete, consistent version
        assert held.execute("SELECT count(*) FROM marts.order_ledger").fetchone()[0] == 50
        assert held.execute("SELECT max(publication_id) FROM meta.publications").fetchone()[0] == 1
    finally:
        held.close()
    # a new connection (after the old one closed: DuckDB caches open files per process) sees the new one
    assert read_publication(out)["run_id"] == "run-2"
    con = duckdb.connect(str(out / PUBLISHED_FILE), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM marts.order_ledger").fetchone()[0] == 59
    finally:
        con.close()
