"""The ingest assets as Dagster runs them: metadata, and retries when the warehouse is locked."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from orchestration.assets.ingest import DATED_SOURCES, RAW_TABLES, build_ingest_asset
from tests.fixtures import EXAMPLES_DIR

EXAMPLES = EXAMPLES_DIR

HOLD_LOCK = """
import sys, time, duckdb
from tests.fixtures import EXAMPLES_DIR
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


@pytest.fixture
def landing(tmp_path, monkeypatch):
    target = tmp_path / "landing"
    shutil.copytree(EXAMPLES, target)
    monkeypatch.setenv("O2C_LANDING_DIR", str(target))
    return target


def _materialize(asset, warehouse: Path, **kwargs) -> dg.ExecuteInProcessResult:
    instance = dg.DagsterInstance.ephemeral()
    if "partition_key" in kwargs:  # export-date partitions follow the data: register the date first
        instance.add_dynamic_partitions("export_date", [kwargs["partition_key"]])
    return dg.materialize([asset], resources={"warehouse": DuckDBResource(database=str(warehouse))},
                          instance=instance, raise_on_error=False, **kwargs)


def test_ingest_asset_reports_what_it_loaded(landing, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    result = _materialize(build_ingest_asset(DATED_SOURCES), warehouse, partition_key="2026-11-01")
    assert result.success
    by_table = {event.asset_key.path[-1]: event.event_specific_data.materialization.metadata
                for event in result.get_asset_materialization_events()}
    # one op, one materialization per raw table of every dated source, with its own source's totals
    assert set(by_table) == {t for source in DATED_SOURCES for t in RAW_TABLES[source]}
    metadata = by_table["oms_orders"]
    assert (metadata["source"].value, metadata["records_loaded"].value) == ("oms/orders", 4)
    assert metadata["records_quarantined"].value == 0
    assert by_table["payments_gateway_transactions"]["records_loaded"].value == 2
    with duckdb.connect(str(warehouse)) as con:
        assert con.execute("select count(*) from raw.oms_orders").fetchone()[0] == 4


def test_a_locked_warehouse_is_retried_until_the_lock_is_gone(landing, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(warehouse), "3"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    started = time.monotonic()
    result = _materialize(build_ingest_asset("reference/fx_rates"), warehouse)
    holder.wait(timeout=30)
    # DuckDBResource retries the connection with backoff; a longer hold makes the asset ask
    # Dagster for a step retry (LOCK_RETRY). Either way the run waits instead of failing.
    assert result.success, "a locked warehouse must be waited for, not fail the run"
    assert time.monotonic() - started >= 3
    with duckdb.connect(str(warehouse)) as con:
        assert con.execute("select count(*) from raw.reference_fx_rates").fetchone()[0] == 2
