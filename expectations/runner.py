"""Run the suites through Great Expectations against the DuckDB warehouse.

Public API (see README.md): `run_suites`, `blocking_failures`, `resolve_as_of`.

DuckDB through Great Expectations — how the connection is handled:

* One DuckDB connection per run. Either the caller's (`con=`, e.g. the connection of Dagster's
  `DuckDBResource`), which is never closed here, or one opened here with
  `duckdb.connect(path)` — read-write, default configuration, the same way every o2c
  component opens the warehouse — and closed before returning. DuckDB refuses a second
  connection to one file with another configuration in the same process; duckdb-engine's own
  `connect` adds a `custom_user_agent` and would be refused while any other connection is open,
  so SQLAlchemy never opens the file itself: the engine's `creator` hands it a cursor of our
  connection (`con.cursor()` shares the database instance and its configuration).
* Great Expectations runs each metric as `with engine.connect(): result = execute(...)` and
  fetches *after* the block; returning a duckdb-engine connection to the pool loses the pending
  result, and GE then reads `None`/`[]` (wrong counts, "list index out of range"). GE keeps one
  connection open only for the dialects listed in `_PERSISTED_CONNECTION_DIALECTS` (sqlite,
  mssql, ...), which also get a `StaticPool`; `_keep_duckdb_connection_open()` adds duckdb to that
  list. tests/expectations/test_ge_duckdb.py proves counts are right (and wrong without it).
* Queries are `UnexpectedRowsExpectation`s on one query asset per suite (`select * from
  <guarded table>`); DuckDB executes them, GE only fetches the count and at most 200 rows.
"""
from __future__ import annotations

import itertools
import logging
import os
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import duckdb

from expectations.config import ExpectationSettings
from expectations.model import (
    SAMPLE_SIZE,
    ExpectationResult,
    ExpectationSpec,
    SuiteSpec,
    blocking_failures,
)
from expectations.suites import build_suites

__all__ = ["run_suites", "run_suite_specs", "unexpected_keys", "blocking_failures", "resolve_as_of", "warehouse_connection"]

log = logging.getLogger(__name__)

_GX_LOCK = threading.Lock()
_RUN_COUNTER = itertools.count(1)
_shared_context = None


# --------------------------------------------------------------------------- connection
@contextmanager
def warehouse_connection(warehouse: str | os.PathLike | None = None,
                         con: duckdb.DuckDBPyConnection | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield `con` untouched, or open `warehouse` read-write with DuckDB's default configuration
    (as every o2c component does) and close it afterwards."""
    if con is not None:
        yield con
        return
    if warehouse is None:
        from ingest import settings

        warehouse = settings.warehouse_path()
    path = Path(warehouse)
    if not path.exists():
        raise FileNotFoundError(f"warehouse {path} does not exist (run `make run` or set O2C_WAREHOUSE)")
    own = duckdb.connect(str(path))
    try:
        yield own
    finally:
        own.close()


def _existing_tables(cur: duckdb.DuckDBPyConnection) -> set[str]:
    rows = cur.execute(
        "select table_schema || '.' || table_name from information_schema.tables"
    ).fetchall()
    return {r[0] for r in rows}


def resolve_as_of(con: duckdb.DuckDBPyConnection, settings: ExpectationSettings | None = None) -> datetime:
    """as_of as a naive UTC datetime: `O2C_AS_OF`; else the as_of dbt built the marts with
    (`intermediate.int_as_of_resolved`, the one implementation of the rule, so expectations and
    marts measure every window from the same instant); before the first dbt build, the same rule
    read from raw (latest order updated_at, event occurred_at, gateway created_at, tracking
    occurred_at in China time, invoice IssuedAt); else now."""
    if settings is not None and settings.as_of is not None:
        return settings.as_of
    cur = con.cursor()
    try:
        tables = _existing_tables(cur)
        if "intermediate.int_as_of_resolved" in tables:
            row = cur.execute("select max(as_of) from intermediate.int_as_of_resolved").fetchone()
            if row and row[0] is not None:
                return _naive_utc(row[0])
        parts = []
        tz = "try_cast({col} as timestamptz) at time zone 'UTC'"
        for table, expr in (
            ("raw.oms_orders", tz.format(col="updated_at")),
            ("raw.oms_order_events", tz.format(col="occurred_at")),
            ("raw.payments_gateway_transactions", tz.format(col="created_at")),
            ("raw.wms_tracking_events", "try_cast(occurred_at as timestamp) - interval 8 hour"),
            ("raw.erp_invoices", tz.format(col='"IssuedAt"')),
        ):
            if table in tables:
                parts.append(f"select max({expr}) as t from {table}")
        if parts:
            row = cur.execute(f"select max(t) from ({' union all '.join(parts)})").fetchone()
            if row and row[0] is not None:
                return _naive_utc(row[0])
    finally:
        cur.close()
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def _naive_utc(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


# --------------------------------------------------------------------------- Great Expectations
def _keep_duckdb_connection_open() -> None:
    """Make GE treat the duckdb dialect like sqlite: one persisted connection (StaticPool)."""
    from great_expectations.execution_engine import sqlalchemy_execution_engine as see

    class _DialectName(str):  # GE compares `.value` (enum-like) and the plain string
        @property
        def value(self) -> str:
            return str(self)

    if not any(str(d.value) == "duckdb" for d in see._PERSISTED_CONNECTION_DIALECTS):
        see._PERSISTED_CONNECTION_DIALECTS = tuple(see._PERSISTED_CONNECTION_DIALECTS) + (_DialectName("duckdb"),)


def _autocommit_wrapper(cursor: duckdb.DuckDBPyConnection):
    """duckdb-engine's DBAPI wrapper around a cursor of our connection, in autocommit mode.

    duckdb-engine's `do_begin` opens a real DuckDB transaction; on the one persisted connection
    GE keeps, a single failing query would then abort the transaction and every later query of
    the run would fail ("Current transaction is aborted"). The suites only read, so each
    statement runs in its own implicit transaction instead.
    """
    from duckdb_engine import ConnectionWrapper

    class _AutocommitConnection(ConnectionWrapper):
        def begin(self) -> None:
            pass

        def commit(self) -> None:
            pass

        def rollback(self) -> None:
            pass

    return _AutocommitConnection(cursor)


def _new_context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    _keep_duckdb_connection_open()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def _context(fresh: bool):
    """One ephemeral context per process (creating one costs time); a fresh one when Data Docs
    are written, so the site shows exactly this run."""
    global _shared_context
    if fresh:
        return _new_context()
    if _shared_context is None:
        _shared_context = _new_context()
    return _shared_context


def _clear_previous_site(docs_dir: Path) -> None:
    """Remove the pages of an earlier run (only from a folder that holds a Data Docs site)."""
    import shutil

    if (docs_dir / "index.html").is_file():
        for sub in ("validations", "expectations"):
            shutil.rmtree(docs_dir / sub, ignore_errors=True)


def _ge_severity(spec: ExpectationSpec) -> str:
    return "critical" if spec.severity == "error" else "warning"


def _key_sample(rows) -> list[str]:
    keys = []
    for row in rows or []:
        value = row.get("key") if isinstance(row, dict) else None
        if value is None and isinstance(row, dict) and row:
            value = next(iter(row.values()))
        keys.append("<null>" if value is None else str(value))
    return keys[:SAMPLE_SIZE]


def _failed(spec: ExpectationSpec, error: str) -> ExpectationResult:
    return ExpectationResult(
        suite=spec.suite, expectation_id=spec.id, table=spec.table, severity=spec.severity,
        blocking=spec.blocking, success=False, unexpected_count=-1, description=spec.description,
        kind=spec.kind, exception_type=spec.exception_type, error=error,
    )


def _run_ge(con: duckdb.DuckDBPyConnection, suites: list[SuiteSpec], docs_dir: Path | None
            ) -> dict[str, ExpectationResult]:
    import great_expectations as gx

    run_no = next(_RUN_COUNTER)
    context = _context(fresh=docs_dir is not None)
    if docs_dir is not None:
        _clear_previous_site(docs_dir)
        docs_dir.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(
            site_name="o2c",
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(docs_dir.resolve())},
            },
        )
    ds_name = f"o2c_warehouse_{run_no}"
    datasource = context.data_sources.add_sql(
        name=ds_name,
        # never used to open the file: `creator` hands SQLAlchemy a cursor of our connection
        connection_string="duckdb:///:memory:",
        create_temp_table=False,
        kwargs={"creator": lambda: _autocommit_wrapper(con.cursor())},
    )
    specs_by_id: dict[str, ExpectationSpec] = {}
    definitions = []
    created_suites, created_vds = [], []
    try:
        for suite in suites:
            asset = datasource.add_query_asset(name=suite.name, query=f"select * from {suite.table}")
            batch_def = asset.add_batch_definition_whole_table(name="all")
            suite_name = suite.name if docs_dir is not None else f"{suite.name}#{run_no}"
            gx_suite = gx.ExpectationSuite(name=suite_name, meta={"kind": suite.kind, "table": suite.table})
            for spec in suite.expectations:
                specs_by_id[spec.id] = spec
                gx_suite.add_expectation(gx.expectations.UnexpectedRowsExpectation(
                    unexpected_rows_query=spec.query,
                    description=f"[{spec.severity}] {spec.id}: {spec.description}",
                    severity=_ge_severity(spec),
                    meta={"id": spec.id, "suite": suite.name, "table": spec.table,
                          "o2c_severity": spec.severity, "kind": spec.kind,
                          "exception_type": spec.exception_type},
                ))
            gx_suite = context.suites.add(gx_suite)
            created_suites.append(suite_name)
            vd = context.validation_definitions.add(
                gx.ValidationDefinition(name=suite_name, data=batch_def, suite=gx_suite))
            created_vds.append(suite_name)
            definitions.append(vd)
        actions = [gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=["o2c"])] if docs_dir else []
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name=f"o2c_{run_no}", validation_definitions=definitions, actions=actions,
            result_format={"result_format": "COMPLETE"}))
        try:
            outcome = checkpoint.run()
        finally:
            context.checkpoints.delete(checkpoint.name)

        results: dict[str, ExpectationResult] = {}
        for suite_result in outcome.run_results.values():
            for er in suite_result.results:
                meta = er.expectation_config.meta or {}
                spec = specs_by_id.get(meta.get("id"))
                if spec is None:
                    continue
                info = er.exception_info or {}
                raised = info.get("raised_exception") if isinstance(info, dict) else False
                if not raised and isinstance(info, dict):  # keyed by metric id when it failed
                    nested = [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
                    if nested:
                        raised, info = True, nested[0]
                if raised:
                    results[spec.id] = _failed(spec, str(info.get("exception_message")))
                    continue
                body = er.result or {}
                count = body.get("observed_value")
                rows = (body.get("details") or {}).get("unexpected_rows") or []
                results[spec.id] = ExpectationResult(
                    suite=spec.suite, expectation_id=spec.id, table=spec.table, severity=spec.severity,
                    blocking=spec.blocking, success=bool(er.success),
                    unexpected_count=int(count) if count is not None else -1,
                    sample_keys=_key_sample(rows), description=spec.description, kind=spec.kind,
                    exception_type=spec.exception_type,
                    error=None if count is not None else "no result from Great Expectations",
                )
        return results
    finally:
        _dispose(context, datasource, created_vds, created_suites, ds_name)


def _dispose(context, datasource, vds, suites, ds_name) -> None:
    """Release the SQLAlchemy side (it holds cursors of the caller's connection)."""
    try:
        engine = datasource.get_execution_engine()
        if engine._connection is not None:
            engine._connection.close()
            engine._connection = None
        engine.engine.dispose()
    except Exception:  # pragma: no cover - best effort
        log.debug("could not dispose the GE engine", exc_info=True)
    for name in vds:
        try:
            context.validation_definitions.delete(name)
        except Exception:
            pass
    for name in suites:
        try:
            context.suites.delete(name)
        except Exception:
            pass
    try:
        context.data_sources.delete(ds_name)
    except Exception:
        pass


# --------------------------------------------------------------------------- public API
def run_suites(
    warehouse: str | os.PathLike | None = None,
    suites: list[str] | tuple[str, ...] | None = None,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    settings: ExpectationSettings | None = None,
    docs_dir: str | os.PathLike | None = None,
) -> list[ExpectationResult]:
    """Run the expectation suites against the warehouse; one ExpectationResult per expectation.

    warehouse: DuckDB file (default: `ingest.settings.warehouse_path()`); ignored when `con` is given.
    suites:    suite names, kinds (`integrity`, `consistency`) or guarded tables; None = all.
    con:       an open DuckDB connection to use (never closed here). Pass the connection you
               already hold (e.g. Dagster's DuckDBResource) — DuckDB refuses a second connection
               with another configuration in one process.
    settings:  thresholds (default: `ExpectationSettings.from_env()`).
    docs_dir:  when set, Great Expectations Data Docs (static HTML) are written there, and o2c's
               own self-contained page of the results, `validation_results.html`, which opens
               offline (the Data Docs load their CSS and scripts from CDNs).

    A suite whose guarded table is missing yields failed results with `error` set; so does an
    expectation whose query fails (e.g. a table it joins is missing). Great Expectations is
    imported here, lazily (it takes seconds).
    """
    settings = settings or ExpectationSettings.from_env()
    with warehouse_connection(warehouse, con) as connection:
        as_of = resolve_as_of(connection, settings)
        specs = build_suites(settings, as_of, suites)
        cur = connection.cursor()
        try:
            tables = _existing_tables(cur)
        finally:
            cur.close()
        runnable = [s for s in specs if s.table in tables]
        results: dict[str, ExpectationResult] = {}
        for suite in specs:
            if suite.table not in tables:
                for spec in suite.expectations:
                    results[spec.id] = _failed(spec, f"table {suite.table} does not exist")
        if runnable:
            with _GX_LOCK:  # GE contexts are not thread-safe; one run at a time per process
                results.update(_run_ge(connection, runnable, Path(docs_dir) if docs_dir else None))
        ordered = []
        for suite in specs:
            for spec in suite.expectations:
                ordered.append(results.get(spec.id) or _failed(spec, "no result from Great Expectations"))
        if docs_dir is not None:
            _write_results_page(ordered, specs, Path(docs_dir), as_of=as_of, warehouse=warehouse if con is None else None)
        return ordered


def _write_results_page(results: list[ExpectationResult], specs: list[SuiteSpec], docs_dir: Path, *,
                        as_of: datetime | None = None, warehouse=None) -> Path:
    """o2c's own page of the results, next to the Data Docs: readable offline (expectations/html.py)."""
    from expectations.html import RESULTS_PAGE, write_validation_page

    queries = {e.id: e.query for s in specs for e in s.expectations}
    data_docs = "index.html" if (docs_dir / "index.html").is_file() else None
    return write_validation_page(results, docs_dir / RESULTS_PAGE, as_of=as_of, warehouse=warehouse,
                                 queries=queries, data_docs=data_docs)


def run_suite_specs(con: duckdb.DuckDBPyConnection, suites: list[SuiteSpec],
                    docs_dir: str | os.PathLike | None = None) -> list[ExpectationResult]:
    """Run already-built SuiteSpecs (settings substituted) on an open connection. For tests and
    ad-hoc suites; `run_suites` is the normal entry point."""
    with _GX_LOCK:
        results = _run_ge(con, list(suites), Path(docs_dir) if docs_dir else None)
    ordered = [results.get(e.id) or _failed(e, "no result from Great Expectations")
               for s in suites for e in s.expectations]
    if docs_dir:
        _write_results_page(ordered, list(suites), Path(docs_dir))
    return ordered


def unexpected_keys(con: duckdb.DuckDBPyConnection, spec: ExpectationSpec) -> list[str]:
    """Every offending key of one (built) expectation, straight from DuckDB (GE fetches at most
    200 rows). For tests and investigations; the count GE reports is the length of this list."""
    query = spec.query.replace("{batch}", f"(select * from {spec.table})")
    cur = con.cursor()
    try:
        rows = cur.execute(f"select key from ({query}) as unexpected").fetchall()
    finally:
        cur.close()
    return ["<null>" if r[0] is None else str(r[0]) for r in rows]


def as_of_for(warehouse: str | os.PathLike | None = None, *, con=None,
              settings: ExpectationSettings | None = None) -> datetime:
    """The as_of the suites use for this warehouse (for reports)."""
    settings = settings or ExpectationSettings.from_env()
    with warehouse_connection(warehouse, con) as connection:
        return resolve_as_of(connection, settings)
