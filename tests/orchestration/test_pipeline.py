"""The real pipeline end to end, operated as a data engineer would: simulator → Dagster run
(loaders, dbt, expectation checks, publish), re-runs, a reader during a run, a blocked publish,
a one-day reload, a killed run. One landing folder and warehouse (tests/conftest.py) for all of
them: each full run takes about a minute.
"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from ingest import runner
from tests.conftest import run_pipeline
from tests.orchestration.webhook import Webhook

REPO_ROOT = Path(__file__).resolve().parents[2]
MARTS = ("order_ledger", "ledger_entries", "order_events", "order_state_timeline",
         "reconciliation_exceptions", "ar_aging", "daily_cash_reconciliation")

pytestmark = pytest.mark.slow

READER = textwrap.dedent("""
    import sys, time, duckdb
    path, stop_file = sys.argv[1], sys.argv[2]
    seen, errors, iterations = set(), [], 0
    deadline = time.monotonic() + 600
    while iterations < 5000 and time.monotonic() < deadline:
        iterations += 1
        try:
            with duckdb.connect(path, read_only=True) as con:
                run_id, publication = con.execute(
                    "select run_id, publication_id from meta.publications order by publication_id desc limit 1").fetchone()
                orders = con.execute("select count(*) from marts.order_ledger").fetchone()[0]
                expected = con.execute(
                    "select row_count from meta.publication_tables where publication_id = ? "
                    "and table_schema = 'marts' and table_name = 'order_ledger'", [publication]).fetchone()
                if expected is None or expected[0] != orders:
                    errors.append(f"{run_id}: {orders} orders, publication says {expected[0]}")
                seen.add(run_id)
        except Exception as exc:  # any error is a failure of the publish protocol
            errors.append(repr(exc))
        import os
        if os.path.exists(stop_file):
            break
        time.sleep(0.05)
    print(f"iterations={iterations} versions={len(seen)} errors={len(errors)}")
    for e in errors[:5]:
        print("ERROR", e)
    sys.exit(1 if errors else 0)
""")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _marts(snapshot: dict) -> dict:
    return {table: value for table, value in snapshot.items() if table.startswith("marts.")}


def _snapshot(warehouse: Path) -> dict[str, object]:
    with duckdb.connect(str(warehouse)) as con:
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('raw', 'ingest', 'marts') and table_type = 'BASE TABLE' order by 1"
        ).fetchall()
        snapshot = {}
        for (table,) in tables:
            columns = [c for (c,) in con.execute(
                f"select column_name from information_schema.columns where table_schema || '.' || table_name = '{table}' "
                "and column_name not in ('_loaded_at', 'loaded_at', 'rejected_at', 'as_of')").fetchall()]
            select = ", ".join(f'"{c}"' for c in columns)
            snapshot[table] = con.execute(
                f"select count(*), coalesce(sum(hash({select})), 0) from (select {select} from {table})"
            ).fetchone()
    return snapshot


@pytest.fixture(scope="module")
def pipeline(pipeline_workspace):
    return pipeline_workspace


def test_a_run_builds_every_mart_and_publishes(pipeline):
    tmp, _, first = pipeline
    assert "SUCCESS" in first.stdout
    with duckdb.connect(str(tmp / "warehouse.duckdb")) as con:
        for mart in MARTS:
            assert con.execute(f"select count(*) from marts.{mart}").fetchone()[0] > 0, mart
        assert con.execute("select sum(records_loaded) from ingest.files").fetchone()[0] > 1000
    with duckdb.connect(str(tmp / "published" / "o2c.duckdb"), read_only=True) as published:
        for mart in MARTS:
            assert published.execute(f"select count(*) from marts.{mart}").fetchone()[0] > 0, mart
        assert published.execute("select count(*) from meta.publications").fetchone()[0] == 1
    assert (tmp / "published" / "report.html").exists()
    assert (tmp / "published" / "parquet" / "order_ledger.parquet").exists()


def test_a_rerun_changes_nothing_and_a_reader_sees_only_complete_versions(pipeline):
    tmp, env, _ = pipeline
    before = _snapshot(tmp / "warehouse.duckdb")
    stop = tmp / "stop-reader"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(tmp / "published" / "o2c.duckdb"), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        run = run_pipeline(env)
    finally:
        stop.touch()
        output, _ = reader.communicate(timeout=120)
        stop.unlink()
    assert run.returncode == 0, run.stdout[-3000:]
    assert _snapshot(tmp / "warehouse.duckdb") == before
    assert reader.returncode == 0, output
    assert "versions=2" in output, output  # the old version, then the new one


def test_a_failed_blocking_check_keeps_the_published_version_and_a_day_reload_repairs(pipeline):
    tmp, env, _ = pipeline
    published_file = tmp / "published" / "o2c.duckdb"
    before_file, before = _digest(published_file), _snapshot(tmp / "warehouse.duckdb")
    # Lose one loaded record behind the loaders' back: the ingest accounting no longer ties, the
    # blocking ingest check fails, and nothing downstream of it (dbt, publish) may run.
    with duckdb.connect(str(tmp / "warehouse.duckdb")) as con:
        day = con.execute("select _export_date from raw.oms_order_events order by rowid limit 1").fetchone()[0]
        con.execute("delete from raw.oms_order_events where rowid = (select min(rowid) from raw.oms_order_events)")
    with Webhook() as hook:  # the owners are told, once (orchestration/alerts.py)
        alerting = {**env, "O2C_ALERT_URLS": hook.url}
        blocked = run_pipeline(alerting)
        assert blocked.returncode != 0
        assert "FAILED [ERROR] raw/oms_order_events :: integrity__ingest" in blocked.stdout, blocked.stdout[-3000:]
        assert _digest(published_file) == before_file
        # the ingest integrity check is reported on every raw table
        raw_tables = sum(len(tables) for tables in runner.RAW_TABLES.values())
        assert [m["title"] for m in hook.received] == [f"o2c: publishing stopped ({raw_tables} blocking checks failed)"]
        assert "raw/oms_order_events :: integrity__ingest: 1 offending rows" in hook.received[0]["message"]
        # Re-ingesting that one export date (a one-day partition run) puts the record back; the
        # marts come out exactly as they were, so no exception is new: nothing more is sent.
        repaired = run_pipeline(alerting, "--dates", f"{day:%Y-%m-%d}", "--reload")
        assert repaired.returncode == 0, repaired.stdout[-3000:]
        assert _marts(_snapshot(tmp / "warehouse.duckdb")) == _marts(before)
        assert len(hook.received) == 1


def test_a_killed_run_leaves_everything_usable_and_the_next_run_recovers(pipeline):
    tmp, env, _ = pipeline
    published_file = tmp / "published" / "o2c.duckdb"
    before = _digest(published_file)
    process = subprocess.Popen([sys.executable, "-m", "orchestration.run_pipeline", "--reload"], env=env,
                               cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    # SIGKILL the whole process group (dbt runs as a child) in the middle of the dbt build.
    deadline = time.monotonic() + 300
    for line in process.stdout:
        if "o2c_dbt_models - STEP_START" in line or time.monotonic() > deadline:
            time.sleep(3)
            break
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    assert _digest(published_file) == before
    with duckdb.connect(str(tmp / "warehouse.duckdb")) as con:  # the working file opens (WAL replayed)
        assert con.execute("select count(*) from ingest.files").fetchone()[0] > 0
    recovered = run_pipeline(env)
    assert recovered.returncode == 0, recovered.stdout[-3000:]
    assert "SUCCESS" in recovered.stdout
    assert _digest(published_file) != before  # the recovered run published a new version
