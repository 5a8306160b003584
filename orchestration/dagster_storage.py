"""Dagster's SQLite run history, written without fsyncs, engines per event or a transaction per event.

Dagster's default storage ($DAGSTER_HOME with no storage configured) writes every event to SQLite
through a fresh SQLAlchemy engine and commits it with the default `synchronous=FULL`. A make run
writes about 1,500 events (a materialization per raw table and export date, and a planned event
before each; every dbt model a materialization, every test a check), and on this machine that
cost was a large share of the run's overhead (issue 11). Dagster has no setting for either, so
`install()` changes three things, once per process, before the instance opens its storage:

- `PRAGMA synchronous = OFF` on every SQLite connection the process opens: 20 s of an 87 s
  2,000-order run went to those fsyncs (cProfile). Only Dagster's run history is at stake (an OS
  crash could lose its last events); the warehouse and the published file are DuckDB files and
  never go through here.
- One SQLAlchemy engine per SQLite shard instead of one per event: building and disposing an
  engine was half the cost of storing an event (3.3 against 1.8 ms, `tests/orchestration/
  test_dagster_storage.py` keeps the behaviour). The engine keeps Dagster's `NullPool`, so each
  write still opens and closes its own SQLite connection: no connection is held between events,
  none crosses a fork, and the webserver, the daemon and a run process share the files as before.
- Events that Dagster hands over as a batch (the planned events written before a run starts, and
  the materializations of one output over many export dates) are written in one transaction per
  SQLite file instead of two or three per event. Dagster's SQLite storage has no batch write of
  its own (`EventLogStorage.store_event_batch` stores them one by one), Dagster offers the hook
  (`DAGSTER_EVENT_BATCH_SIZE`, which `install()` sets when it is unset), and a test stores the
  same events both ways and compares every row.

`O2C_DAGSTER_STORAGE=dagster` keeps Dagster's own behaviour in all three respects.
"""
from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

_installed = False
# Events per batch write: a run's planned events (raw tables x export dates, dbt models, checks)
# come as one batch; 7 values a row keeps a batch far below SQLite's limit on bound variables.
EVENT_BATCH_SIZE = 1000


def _no_fsync(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous = OFF")


def _engine_per_shard():
    """SqliteEventLogStorage._connect with the engine kept per shard (Dagster builds and disposes
    one on every call). The body is Dagster 1.13's, less the per-call engine; a test fails if the
    method it replaces changes shape."""
    from dagster._core.storage.event_log.sqlite import sqlite_event_log

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            conn_string = self.conn_string_for_shard(shard)
            engines: dict[str, Engine] = self.__dict__.setdefault("_o2c_engines", {})
            engine = engines.get(conn_string)
            if engine is None:
                engine = engines[conn_string] = create_engine(
                    conn_string,
                    poolclass=NullPool,
                    connect_args={"timeout": sqlite_event_log.SQLITE_BUSY_TIMEOUT_SECONDS},
                )
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn

    return sqlite_event_log.SqliteEventLogStorage, _connect


def _store_event_batch(self, events) -> None:
    """SqliteEventLogStorage.store_event_batch: what `store_event` writes for each event, written
    in one transaction per SQLite file (the run's and the cross-run index)."""
    from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS
    from dagster._core.storage.sqlalchemy_compat import db_result

    run_ids = {event.run_id for event in events}
    kinds = {event.dagster_event_type if event.is_dagster_event else None for event in events}
    if len(run_ids) != 1 or not kinds <= ASSET_EVENTS | ASSET_CHECK_EVENTS:
        for event in events:  # anything else takes Dagster's own path
            self.store_event(event)
        return
    with self.run_connection(run_ids.pop()) as conn:
        conn.execute(self.prepare_insert_event_batch(events))
    index_ids: list[int] = []
    with self.index_transaction() as conn:
        for event in events:  # one row at a time: each row's id is needed below
            with db_result(conn, self.prepare_insert_event(event)) as result:
                index_ids.append(result.inserted_primary_key[0])
        asset_events = [(event, event_id) for event, event_id in zip(events, index_ids)
                        if event.dagster_event_type in ASSET_EVENTS]
        if asset_events:
            self._store_asset_event_tags(conn, [event for event, _ in asset_events], [i for _, i in asset_events])
        for event, event_id in asset_events:
            self._store_asset_event(conn, event, event_id)
    for event, event_id in zip(events, index_ids):
        if event.dagster_event_type in ASSET_CHECK_EVENTS:
            self.store_asset_check_event(event, event_id)


def install() -> None:
    """Once per process, before Dagster opens its storage."""
    global _installed
    if _installed or os.environ.get("O2C_DAGSTER_STORAGE") == "dagster":
        return
    event.listen(Engine, "connect", _no_fsync)
    storage_class, connect = _engine_per_shard()
    storage_class._connect = connect
    storage_class.store_event_batch = _store_event_batch
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", str(EVENT_BATCH_SIZE))
    _installed = True
