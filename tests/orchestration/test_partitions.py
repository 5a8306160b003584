"""Partitions follow the data (issue 11): `make run` publishes a landing folder of any years, with
gaps and a date ahead of the clock (2016 … 2099: 30,000 calendar days), and a run writes one
materialization per raw table and export date present, not one per calendar day of the span."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.assets.ingest import RAW_TABLES, UNPARTITIONED_SOURCES, raw_asset_key
from orchestration.partitions import export_dates_in_landing
from tests.conftest import REPO_ROOT, pipeline_env, run_pipeline

pytestmark = pytest.mark.slow

# a clean simulated history of 2016 whose last three export dates are moved two years on (a gap,
# "later" order kept), plus a header-only bank statement dated ahead of the clock
SIM_START, SIM_DAYS = "2016-10-25", 8
MOVED = {"2016-10-30": "2018-09-25", "2016-10-31": "2018-09-26", "2016-11-01": "2018-09-27"}
AHEAD = "2099-01-01"


def _history_landing(target: Path) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "ingest.simulate", "--orders", "120", "--days", str(SIM_DAYS),
                           "--start", SIM_START, "--seed", "5", "--clean", "--quiet", "--out", str(target)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for day_dir in sorted(target.glob("*/*/*")):
        if day_dir.is_dir() and day_dir.name in MOVED:
            day_dir.rename(day_dir.with_name(MOVED[day_dir.name]))
    ahead = target / "payments" / "bank" / AHEAD / "statement.csv"
    ahead.parent.mkdir(parents=True)
    ahead.write_bytes("交易日期,交易流水号,对方户名,收入金额,支出金额,币种,摘要\r\n".encode("gbk"))
    return export_dates_in_landing(target)


def test_old_history_with_gaps_and_a_future_date_publishes(tmp_path):
    env = pipeline_env(tmp_path)
    dates = _history_landing(tmp_path / "landing")
    assert dates[0] == SIM_START and dates[-2:] == ["2018-09-27", AHEAD] and len(dates) == SIM_DAYS + 1
    (tmp_path / "dagster_home").mkdir()
    result = run_pipeline(env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert f"export dates ahead of today's date ['{AHEAD}']" in result.stdout
    with duckdb.connect(str(tmp_path / "published" / "o2c.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.order_ledger").fetchone()[0] > 0
        assert con.execute("select count(*) from meta.publications").fetchone() == (1,)
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        assert instance.get_dynamic_partitions("export_date") == dates
        for source, tables in RAW_TABLES.items():
            for table in tables:
                events = instance.fetch_materializations(raw_asset_key(table), limit=1000).records
                expected = 1 if source in UNPARTITIONED_SOURCES else len(dates)
                assert len(events) == expected, (table, len(events))
                if source not in UNPARTITIONED_SOURCES:
                    assert sorted(e.partition_key for e in events) == dates
