"""Dagster's SQLite run history as o2c writes it (orchestration/dagster_storage.py): through one
engine per shard, without fsyncs and with batches in one transaction, every event is still stored
as Dagster stores it and read back, by this process and by another one."""
from __future__ import annotations

import ast
import hashlib
import inspect
import os
import subprocess
import sys
import textwrap
import time

import dagster as dg
import pytest
from dagster._core.events import (
    AssetCheckEvaluationPlanned,
    AssetMaterializationPlannedData,
    DagsterEvent,
    DagsterEventType,
    StepMaterializationData,
)
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite import sqlite_event_log
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from orchestration import dagster_storage

# sha256 of the ast.dump of Dagster 1.13's SqliteEventLogStorage._connect, which install() replaces
DAGSTER_CONNECT_DIGEST = "1ea46338a2fe0a60"
RAW_ORDERS = dg.AssetKey(["raw", "oms_orders"])


@pytest.fixture(scope="module", autouse=True)
def installed():
    dagster_storage.install()


def _entry(run_id: str, kind: DagsterEventType, partition: str | None, asset: dg.AssetKey = RAW_ORDERS) -> EventLogEntry:
    if kind == DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
        data = AssetMaterializationPlannedData(asset, partition=partition)
    elif kind == DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED:
        data = AssetCheckEvaluationPlanned(asset_key=asset, check_name="records_loaded_or_quarantined")
    else:
        data = StepMaterializationData(dg.AssetMaterialization(asset, partition=partition, tags={"dagster/data_version": partition},
                                                               metadata={"records_loaded": 3}))
    event = DagsterEvent(event_type_value=kind.value, job_name="o2c_job", step_key="ingest_landing",
                         event_specific_data=data)
    return EventLogEntry(error_info=None, level=10, user_message="", run_id=run_id, timestamp=time.time(),
                         dagster_event=event)


def _function_source(module, class_name: str, method: str) -> str:
    tree = ast.parse(inspect.getsource(module))
    cls = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == class_name)
    return next(ast.dump(node) for node in cls.body if isinstance(node, ast.FunctionDef) and node.name == method)


def test_the_replaced_method_is_still_the_one_it_was_written_against():
    # install() replaces a private method with a copy that keeps the engine; if a Dagster upgrade
    # changes the original, the copy must be re-read against it (then update the digest below)
    digest = hashlib.sha256(_function_source(sqlite_event_log, "SqliteEventLogStorage", "_connect").encode()).hexdigest()
    assert digest[:16] == DAGSTER_CONNECT_DIGEST, (
        f"Dagster's SqliteEventLogStorage._connect changed (digest {digest[:16]}): "
        "compare it with orchestration/dagster_storage.py before updating this test")


def test_events_are_stored_and_read_back_through_one_engine_per_shard(tmp_path):
    storage = SqliteEventLogStorage(str(tmp_path))
    dates = ["2017-03-01", "2017-03-02", "2017-03-09"]
    for date in dates:
        storage.store_event(_entry("run-1", DagsterEventType.ASSET_MATERIALIZATION_PLANNED, date))
    for date in dates:
        storage.store_event(_entry("run-1", DagsterEventType.ASSET_MATERIALIZATION, date))

    assert set(storage.get_materialized_partitions(RAW_ORDERS)) == set(dates)
    in_run = storage.get_records_for_run("run-1").records
    assert [r.event_log_entry.dagster_event.event_type for r in in_run] == (
        [DagsterEventType.ASSET_MATERIALIZATION_PLANNED] * 3 + [DagsterEventType.ASSET_MATERIALIZATION] * 3)
    # the run's shard and the cross-run index: one engine each, however many events
    assert sorted(storage._o2c_engines) == sorted({storage.conn_string_for_shard("run-1"),
                                                  storage.conn_string_for_shard("index")})


def test_every_connection_skips_fsync(tmp_path):
    storage = SqliteEventLogStorage(str(tmp_path))
    with storage.run_connection("run-1") as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 0


def test_another_process_sees_every_event_at_once(tmp_path):
    # the webserver reads what a run process writes: no connection may hold back a write
    storage = SqliteEventLogStorage(str(tmp_path))
    storage.store_event(_entry("run-1", DagsterEventType.ASSET_MATERIALIZATION, "2026-11-01"))
    reader = textwrap.dedent(f"""
        import dagster as dg
        from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
        storage = SqliteEventLogStorage({str(tmp_path)!r})
        print(sorted(storage.get_materialized_partitions(dg.AssetKey(["raw", "oms_orders"]))))
    """)
    seen = lambda: subprocess.run([sys.executable, "-c", reader], capture_output=True, text=True, check=True).stdout
    assert seen().strip() == "['2026-11-01']"
    storage.store_event(_entry("run-1", DagsterEventType.ASSET_MATERIALIZATION, "2026-11-02"))
    assert seen().strip() == "['2026-11-01', '2026-11-02']"


def _rows(path) -> dict[str, list[tuple]]:
    import sqlite3

    with sqlite3.connect(path) as con:
        # every table but the schema's own bookkeeping (when each index was created)
        tables = [name for (name,) in con.execute("select name from sqlite_master where type = 'table'")
                  if name != "secondary_indexes"]
        return {table: sorted(con.execute(f"select * from {table}").fetchall(), key=repr) for table in tables}


def test_a_batch_writes_the_rows_that_one_event_at_a_time_writes(tmp_path):
    # what a run hands over as batches: planned events for partitions and checks, then the
    # materializations of one output over several export dates
    dates = ["2016-10-31", "2017-06-02", "2018-09-27"]
    assets = [RAW_ORDERS, dg.AssetKey(["raw", "wms_shipments"])]
    batches = [
        [_entry("run-1", DagsterEventType.ASSET_MATERIALIZATION_PLANNED, date, asset) for asset in assets for date in dates]
        + [_entry("run-1", DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED, None, asset) for asset in assets],
        [_entry("run-1", DagsterEventType.ASSET_MATERIALIZATION, date, asset) for asset in assets for date in dates],
    ]
    one_by_one, batched = SqliteEventLogStorage(str(tmp_path / "a")), SqliteEventLogStorage(str(tmp_path / "b"))
    for batch in batches:
        for entry in batch:
            one_by_one.store_event(entry)
        batched.store_event_batch(batch)

    for shard in ("run-1", "index"):
        expected, written = _rows(one_by_one.path_for_shard(shard)), _rows(batched.path_for_shard(shard))
        assert written == expected, f"shard {shard}: batch rows differ"
    assert set(batched.get_materialized_partitions(RAW_ORDERS)) == set(dates)
    index = _rows(batched.path_for_shard("index"))
    # every kind of row a batch writes was compared: events, asset records, tags, planned checks
    assert {table: len(index[table]) for table in ("event_logs", "asset_keys", "asset_event_tags",
                                                   "asset_check_executions")} == {
        "event_logs": 2 * 2 * len(dates) + 2, "asset_keys": 2, "asset_event_tags": 2 * len(dates),
        "asset_check_executions": 2}


def test_a_batch_that_is_not_asset_events_of_one_run_takes_dagsters_path(tmp_path):
    storage = SqliteEventLogStorage(str(tmp_path))
    mixed = [_entry("run-1", DagsterEventType.ASSET_MATERIALIZATION, "2026-11-01"),
             _entry("run-2", DagsterEventType.ASSET_MATERIALIZATION, "2026-11-02")]
    storage.store_event_batch(mixed)
    assert len(storage.get_records_for_run("run-1").records) == 1
    assert len(storage.get_records_for_run("run-2").records) == 1
    assert set(storage.get_materialized_partitions(RAW_ORDERS)) == {"2026-11-01", "2026-11-02"}


def test_dagster_hands_over_batches():
    assert int(os.environ["DAGSTER_EVENT_BATCH_SIZE"]) > 0


def test_a_run_over_several_dates_marks_them_materialized_or_failed_in_the_ui(tmp_path, monkeypatch):
    # what the partition view shows after make run, written through batches: every date of a
    # good run materialized; every date of a failed run failed (not merely missing)
    from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value

    dates = dg.StaticPartitionsDefinition(["2016-10-31", "2017-06-02", "2018-09-27"])
    outcome = {"fail": False}

    @dg.asset(partitions_def=dates, backfill_policy=dg.BackfillPolicy.single_run())
    def raw_orders() -> None:
        if outcome["fail"]:
            raise RuntimeError("the landing folder is unreadable")

    batch_sizes: list[int] = []
    batched = SqliteEventLogStorage.store_event_batch

    def counted(self, events):
        batch_sizes.append(len(events))
        batched(self, events)

    monkeypatch.setattr(SqliteEventLogStorage, "store_event_batch", counted)
    whole_range = {"dagster/asset_partition_range_start": "2016-10-31",
                   "dagster/asset_partition_range_end": "2018-09-27"}
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        assert dg.materialize([raw_orders], instance=instance, tags=whole_range).success
        status = get_and_update_asset_status_cache_value(instance, raw_orders.key, dates)
        assert set(status.deserialize_materialized_partition_subsets(dates).get_partition_keys()) == set(
            dates.get_partition_keys())

        outcome["fail"] = True
        assert not dg.materialize([raw_orders], instance=instance, tags=whole_range, raise_on_error=False).success
        status = get_and_update_asset_status_cache_value(instance, raw_orders.key, dates)
        assert set(status.deserialize_failed_partition_subsets(dates).get_partition_keys()) == set(
            dates.get_partition_keys())
    assert batch_sizes and max(batch_sizes) == 3  # the three dates went through one batch write
