"""The real pipeline end to end: simulator → Dagster run (loaders, dbt, checks, publish)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _env(tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "O2C_LANDING_DIR": str(tmp / "landing"),
        "O2C_WAREHOUSE": str(tmp / "warehouse.duckdb"),
        "O2C_PUBLISH_DIR": str(tmp / "published"),
        "DAGSTER_HOME": str(tmp / "dagster_home"),
        "PYTHONPATH": str(REPO_ROOT),
    }


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    completed = subprocess.run([sys.executable, *args], env=env, cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, f"{args} failed:\n{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}"
    return completed


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
def pipeline_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    env = _env(tmp)
    (tmp / "dagster_home").mkdir()
    _run(["-m", "ingest.simulate", "--orders", "400", "--days", "6", "--seed", "11",
          "--out", str(tmp / "landing")], env)
    completed = _run(["-m", "orchestration.run_pipeline"], env)
    return tmp, env, completed


def test_run_builds_every_mart_and_publishes(pipeline_run):
    tmp, _, completed = pipeline_run
    assert "SUCCESS" in completed.stdout
    with duckdb.connect(str(tmp / "warehouse.duckdb")) as con:
        for mart in ("order_ledger", "ledger_entries", "order_events", "order_state_timeline",
                     "reconciliation_exceptions", "ar_aging", "daily_cash_reconciliation"):
            assert con.execute(f"select count(*) from marts.{mart}").fetchone()[0] > 0, mart
        loaded = con.execute("select sum(records_loaded) from ingest.files").fetchone()[0]
        assert loaded > 1000
    with duckdb.connect(str(tmp / "published" / "o2c.duckdb"), read_only=True) as published:
        orders = published.execute("select count(*) from marts.order_ledger").fetchone()[0]
        runs = published.execute("select count(distinct run_id) from meta.publications").fetchone()[0]
    assert orders > 300 and runs == 1


def test_a_second_run_on_unchanged_landing_changes_nothing(pipeline_run):
    tmp, env, _ = pipeline_run
    before = _snapshot(tmp / "warehouse.duckdb")
    _run(["-m", "orchestration.run_pipeline"], env)
    assert _snapshot(tmp / "warehouse.duckdb") == before


def test_reloading_one_day_leaves_the_marts_as_they_were(pipeline_run):
    tmp, env, _ = pipeline_run
    before = _snapshot(tmp / "warehouse.duckdb")
    first_day = sorted(p.name for p in (tmp / "landing" / "oms" / "orders").iterdir())[0]
    _run(["-m", "orchestration.run_pipeline", "--dates", first_day, "--reload"], env)
    after = _snapshot(tmp / "warehouse.duckdb")
    assert {t: v for t, v in after.items() if t.startswith("marts.")} == \
           {t: v for t, v in before.items() if t.startswith("marts.")}
