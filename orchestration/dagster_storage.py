"""Dagster's SQLite run history without an fsync per event.

Dagster's default storage ($DAGSTER_HOME with no storage configured) writes every event to SQLite
through a fresh engine and commits it with the default `synchronous=FULL`: two or three fsyncs per
event. A make run writes about a thousand events (every dbt model a materialization, every test a
check), and on this machine those fsyncs were about a quarter of a 2,000-order run (issue 11:
20 s of 87 s, measured with cProfile). Dagster has no setting for it, so o2c sets
`PRAGMA synchronous = OFF` on every SQLite connection its processes open. What is at stake is only
Dagster's run history (an OS crash could lose its last events); the warehouse and the published
file are DuckDB files and never go through here. `O2C_DAGSTER_SQLITE_SYNC=1` keeps SQLite's default.
"""
from __future__ import annotations

import os
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

_installed = False


def _no_fsync(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous = OFF")


def install() -> None:
    """Once per process, before Dagster opens its storage."""
    global _installed
    if _installed or os.environ.get("O2C_DAGSTER_SQLITE_SYNC") == "1":
        return
    event.listen(Engine, "connect", _no_fsync)
    _installed = True
