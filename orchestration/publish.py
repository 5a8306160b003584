"""Write-audit-publish: copy the audited marts into a read-only file that BI tools open.

Called after the blocking checks passed (never when one failed). Layout of ``publish_dir``
(docs/publishing.md is the user-facing description)::

    o2c.duckdb                  the published copy: schema ``marts`` (every table), ``ingest.files``,
                                ``ingest.rejects``, ``meta.publications`` (history of every publish),
                                ``meta.publication_tables`` (row counts, one row per table and publish)
    parquet -> parquet-<version>/   symlink to the current Parquet folder: one ``<table>.parquet``
                                per mart plus ``_publication.json`` (which publish it is)
    parquet-<version>/          the current and the previous Parquet versions (older ones removed)
    .publish.lock               advisory lock: one publish at a time

How a publish stays safe for readers:

1. Take ``.publish.lock`` (``fcntl.flock``; released by the kernel if the process dies), then remove
   leftovers of a killed publish (``o2c.duckdb.tmp-*``, ``parquet-*.tmp``, ``parquet.tmp-*``).
2. Open the working warehouse exactly as every other component of the process does
   (``duckdb.connect(str(path))``: read-write, default configuration), ``ATTACH`` a NEW file
   ``o2c.duckdb.tmp-<run_id>`` and ``CREATE TABLE pub.<schema>.<t> AS SELECT * FROM <schema>.<t>``
   for every contract table; copy the previous file's ``meta`` rows forward (``ATTACH`` it
   read-only) and append this publication. Write the Parquet files into ``parquet-<version>.tmp``.
3. ``CHECKPOINT`` the new file, ``DETACH`` it, close the warehouse connection, fsync the file, the
   Parquet files and their folders.
4. ``os.replace(tmp, o2c.duckdb)`` (atomic rename), then rename ``parquet-<version>.tmp`` to
   ``parquet-<version>`` and swap the ``parquet`` symlink by ``os.replace`` of a temporary symlink;
   fsync ``publish_dir``. A reader that opened the old file keeps reading the old inode (a complete,
   consistent version) and never blocks the publisher: the new file is a different inode.

Anything that raises before step 4 leaves the published file and the Parquet link untouched (the
temporary files are removed, or at the latest by the next publish). A SIGKILL between the DuckDB
swap and the Parquet swap leaves the DuckDB file one version ahead of ``parquet/`` until the next
publish; ``parquet/_publication.json`` and ``meta.publications`` say which version each one is.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from ingest import settings

PUBLISHED_FILE = settings.PUBLISHED_FILE_NAME
PARQUET_LINK = "parquet"
LOCK_FILE = ".publish.lock"
TMP_DB_PREFIX = PUBLISHED_FILE + ".tmp-"
# Tables outside `marts` that are part of the published contract (spec/marts.md, ingest tables).
CONTRACT_EXTRA_TABLES: tuple[tuple[str, str], ...] = (("ingest", "files"), ("ingest", "rejects"))
# Copied forward when the build has them: the exception log the next build carries back in
# (ingest/history.py), so history lives in the published file, not in the working warehouse.
CARRIED_SCHEMAS: tuple[str, ...] = ("history",)

_PUBLICATIONS_DDL = """
CREATE TABLE pub.meta.publications (
    publication_id   INTEGER,      -- 1, 2, 3 ... in publish order
    run_id           VARCHAR,      -- the Dagster run (or caller) that published
    as_of            TIMESTAMP,    -- UTC as_of of the data
    published_at     TIMESTAMP,    -- UTC time of this publish
    row_counts       JSON,         -- {"marts.order_ledger": 1234, ...}
    check_summary    JSON,         -- what the caller passed: the blocking checks that passed
    parquet_version  VARCHAR,      -- folder name parquet/ points to after this publish
    status           VARCHAR,      -- published | held (the release guard kept the previous version)
    reason           VARCHAR,      -- why a release was held (null when published)
    engine           VARCHAR       -- what built the marts: duckdb or spark (O2C_ENGINE); null before it was recorded
)"""
_TABLES_DDL = """
CREATE TABLE pub.meta.publication_tables (
    publication_id   INTEGER,
    run_id           VARCHAR,
    table_schema     VARCHAR,
    table_name       VARCHAR,
    row_count        BIGINT,
    column_count     INTEGER
)"""


class PublishError(RuntimeError):
    """The working warehouse cannot be published (a contract table is missing, ...)."""


@dataclass(frozen=True)
class PublishResult:
    path: Path                      # publish_dir/o2c.duckdb
    parquet_dir: Path               # publish_dir/parquet (the symlink)
    parquet_version: str            # the folder it points to, e.g. parquet-20261122T040000123456Z-<run>
    publication_id: int
    run_id: str
    as_of: datetime                 # naive UTC
    published_at: datetime          # naive UTC
    engine: str = "duckdb"          # what built the marts (O2C_ENGINE)
    row_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    cleaned_leftovers: tuple[str, ...] = ()

    def as_metadata(self) -> dict[str, Any]:
        """Plain values for Dagster metadata / logs."""
        return {
            "published_file": str(self.path),
            "parquet_dir": str(self.parquet_dir),
            "publication_id": self.publication_id,
            "as_of": self.as_of.isoformat(),
            "engine": self.engine,
            "row_counts": self.row_counts,
            "publish_seconds": round(self.seconds, 3),
        }


# --------------------------------------------------------------------------------------------
# helpers


def _utc_naive(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _safe(name: str) -> str:
    """A run id usable in a file name."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("._")
    return cleaned[:80] or "run"


def _sql_str(value: str | os.PathLike) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def _publish_lock(publish_dir: Path) -> Iterator[None]:
    fd = os.open(publish_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # waits for a concurrent publish; freed if its process dies
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _clean_leftovers(publish_dir: Path) -> list[str]:
    """Temporary files of a publish that died (we hold the lock, so none is in progress)."""
    removed = []
    for entry in publish_dir.iterdir():
        name = entry.name
        if (name.startswith(TMP_DB_PREFIX)
                or name.startswith(PARQUET_LINK + ".tmp-")
                or (name.startswith(PARQUET_LINK + "-") and name.endswith(".tmp"))):
            _remove(entry)
            removed.append(name)
    return removed


def _current_parquet_version(publish_dir: Path) -> str | None:
    link = publish_dir / PARQUET_LINK
    if link.is_symlink():
        return os.readlink(link)
    return None


def _contract_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    catalog = con.execute("SELECT current_database()").fetchone()[0]
    rows = con.execute(
        """
        SELECT table_schema, table_name FROM information_schema.tables
        WHERE table_catalog = ? AND table_schema = 'marts'
        ORDER BY table_name
        """,
        [catalog],
    ).fetchall()
    marts = [(s, t) for s, t in rows]
    if not marts:
        raise PublishError("schema `marts` of the working warehouse has no table: nothing to publish")
    carried = con.execute(
        f"""
        SELECT table_schema, table_name FROM information_schema.tables
        WHERE table_catalog = ? AND table_schema IN ({", ".join("?" for _ in CARRIED_SCHEMAS)})
        ORDER BY table_schema, table_name
        """,
        [catalog, *CARRIED_SCHEMAS],
    ).fetchall()
    extras = []
    for schema, table in CONTRACT_EXTRA_TABLES:
        found = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ? AND table_name = ?",
            [catalog, schema, table],
        ).fetchone()[0]
        if not found:
            raise PublishError(f"contract table {schema}.{table} is missing from the working warehouse")
        extras.append((schema, table))
    return marts + extras + [(s, t) for s, t in carried]


def _copy_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    """Copy one table (or view) of the working warehouse into the new publish file."""
    con.execute(
        f"CREATE TABLE pub.{_ident(schema)}.{_ident(table)} AS SELECT * FROM {_ident(schema)}.{_ident(table)}"
    )
    return con.execute(f"SELECT count(*) FROM pub.{_ident(schema)}.{_ident(table)}").fetchone()[0]


def _write_parquet(con: duckdb.DuckDBPyConnection, table: str, target: Path) -> None:
    con.execute(f"COPY pub.marts.{_ident(table)} TO {_sql_str(target)} (FORMAT parquet, COMPRESSION zstd)")


def _previous_history(con: duckdb.DuckDBPyConnection, published: Path) -> tuple[bool, str | None]:
    """Attach the current published file read-only as `prev`; (attached, warning)."""
    if not published.exists():
        return False, None
    try:
        con.execute(f"ATTACH {_sql_str(published)} AS prev (READ_ONLY)")
    except duckdb.Error as exc:  # an unreadable previous file must not block publishing forever
        return False, f"previous published file unreadable, history restarts: {exc}"
    has = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_catalog = 'prev' "
        "AND table_schema = 'meta' AND table_name = 'publications'"
    ).fetchone()[0]
    if not has:
        con.execute("DETACH prev")
        return False, "previous published file has no meta.publications, history restarts"
    return True, None


# --------------------------------------------------------------------------------------------
# the publish step


def publish(
    warehouse_path: str | os.PathLike,
    publish_dir: str | os.PathLike,
    *,
    run_id: str,
    as_of: datetime | str,
    check_summary: Mapping[str, Any],
    engine: str = "duckdb",
) -> PublishResult:
    """Publish the marts (and the ingest contract tables) of the working warehouse.

    Call only after the blocking checks passed. Raises on any problem; the previously
    published version is then untouched. `engine` (duckdb or spark) is what built the marts;
    with spark they were loaded into the working warehouse first (orchestration/engines.py).
    """
    started = time.monotonic()
    warehouse_path = Path(warehouse_path)
    publish_dir = Path(publish_dir)
    if not warehouse_path.exists():
        raise PublishError(f"working warehouse {warehouse_path} does not exist")
    publish_dir.mkdir(parents=True, exist_ok=True)
    as_of_utc = _utc_naive(as_of)
    summary_json = json.dumps(dict(check_summary), default=str, sort_keys=True)

    with _publish_lock(publish_dir):
        cleaned = tuple(_clean_leftovers(publish_dir))
        published_at = datetime.now(timezone.utc).replace(tzinfo=None)
        version = f"{PARQUET_LINK}-{published_at:%Y%m%dT%H%M%S%f}Z-{_safe(run_id)}"
        tmp_db = publish_dir / f"{TMP_DB_PREFIX}{_safe(run_id)}"
        tmp_parquet = publish_dir / f"{version}.tmp"
        final_db = publish_dir / PUBLISHED_FILE
        try:
            row_counts, publication_id = _build(
                warehouse_path, final_db, tmp_db, tmp_parquet,
                run_id=run_id, as_of=as_of_utc, published_at=published_at,
                summary_json=summary_json, version=version, engine=engine,
            )
            for leftover in (Path(str(tmp_db) + ".wal"),):
                if leftover.exists():
                    raise PublishError(f"{leftover} still exists after CHECKPOINT; not publishing")
            _fsync_path(tmp_db)
            for item in tmp_parquet.iterdir():
                _fsync_path(item)
            _fsync_path(tmp_parquet)
            # --- the swap: from here on readers see the new version --------------------------
            os.replace(tmp_db, final_db)
            previous_version = _current_parquet_version(publish_dir)
            os.replace(tmp_parquet, publish_dir / version)
            _swap_parquet_link(publish_dir, version)
            _fsync_path(publish_dir)
        except BaseException:
            _remove(tmp_db)
            _remove(Path(str(tmp_db) + ".wal"))
            _remove(tmp_parquet)
            raise
        _prune_parquet_versions(publish_dir, keep={version, previous_version})

    return PublishResult(
        path=final_db,
        parquet_dir=publish_dir / PARQUET_LINK,
        parquet_version=version,
        publication_id=publication_id,
        run_id=run_id,
        as_of=as_of_utc,
        published_at=published_at,
        engine=engine,
        row_counts=row_counts,
        seconds=time.monotonic() - started,
        cleaned_leftovers=cleaned,
    )


def _build(
    warehouse_path: Path, final_db: Path, tmp_db: Path, tmp_parquet: Path, *,
    run_id: str, as_of: datetime, published_at: datetime, summary_json: str, version: str,
    engine: str = "duckdb",
) -> tuple[dict[str, int], int]:
    """Write the new publish file and Parquet folder (nothing visible to readers yet)."""
    tmp_parquet.mkdir()
    con = duckdb.connect(str(warehouse_path))  # same configuration as every other component
    try:
        con.execute(f"ATTACH {_sql_str(tmp_db)} AS pub")
        tables = _contract_tables(con)
        for schema in sorted({s for s, _ in tables} | {"meta"}):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS pub.{_ident(schema)}")
        row_counts: dict[str, int] = {}
        columns: dict[str, int] = {}
        for schema, table in tables:
            row_counts[f"{schema}.{table}"] = _copy_table(con, schema, table)
            columns[f"{schema}.{table}"] = con.execute(
                "SELECT count(*) FROM information_schema.columns WHERE table_catalog = 'pub' "
                "AND table_schema = ? AND table_name = ?", [schema, table]).fetchone()[0]

        con.execute(_PUBLICATIONS_DDL)
        con.execute(_TABLES_DDL)
        attached, warning = _previous_history(con, final_db)
        if attached:
            con.execute("INSERT INTO pub.meta.publications BY NAME SELECT * FROM prev.meta.publications")
            # files published before releases could be held: every row of theirs was a publish
            con.execute("UPDATE pub.meta.publications SET status = 'published' WHERE status IS NULL")
            has_tables = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_catalog = 'prev' "
                "AND table_schema = 'meta' AND table_name = 'publication_tables'").fetchone()[0]
            if has_tables:
                con.execute("INSERT INTO pub.meta.publication_tables BY NAME "
                            "SELECT * FROM prev.meta.publication_tables")
            con.execute("DETACH prev")
        if warning:
            summary = json.loads(summary_json)
            summary["_publish_warning"] = warning
            summary_json = json.dumps(summary, default=str, sort_keys=True)
        publication_id = con.execute(
            "SELECT coalesce(max(publication_id), 0) + 1 FROM pub.meta.publications").fetchone()[0]
        con.execute(
            "INSERT INTO pub.meta.publications VALUES (?, ?, ?, ?, ?, ?, ?, 'published', NULL, ?)",
            [publication_id, run_id, as_of, published_at,
             json.dumps(row_counts, sort_keys=True), summary_json, version, engine],
        )
        con.executemany(
            "INSERT INTO pub.meta.publication_tables VALUES (?, ?, ?, ?, ?, ?)",
            [[publication_id, run_id, key.split(".", 1)[0], key.split(".", 1)[1], n, columns[key]]
             for key, n in row_counts.items()],
        )

        for schema, table in tables:
            if schema == "marts":
                _write_parquet(con, table, tmp_parquet / f"{table}.parquet")
        (tmp_parquet / "_publication.json").write_text(json.dumps({
            "publication_id": publication_id, "run_id": run_id, "as_of": as_of.isoformat(),
            "published_at": published_at.isoformat(), "parquet_version": version, "engine": engine,
            "row_counts": {k: v for k, v in row_counts.items() if k.startswith("marts.")},
        }, indent=2, sort_keys=True) + "\n")

        con.execute("CHECKPOINT pub")
        con.execute("DETACH pub")
    finally:
        con.close()
    return row_counts, publication_id


def _swap_parquet_link(publish_dir: Path, version: str) -> None:
    link = publish_dir / PARQUET_LINK
    if link.exists() and not link.is_symlink():
        # a real folder (made by hand or an older layout): move it aside once
        os.replace(link, publish_dir / f"{PARQUET_LINK}-legacy-{int(time.time())}")
    tmp_link = publish_dir / f"{PARQUET_LINK}.tmp-{os.getpid()}"
    tmp_link.unlink(missing_ok=True)
    os.symlink(version, tmp_link)  # relative target: the folder can be moved or mounted elsewhere
    os.replace(tmp_link, link)


def _prune_parquet_versions(publish_dir: Path, keep: set[str | None]) -> None:
    """Remove Parquet versions other than the current and the previous one."""
    for entry in publish_dir.iterdir():
        if (entry.is_dir() and not entry.is_symlink() and entry.name.startswith(PARQUET_LINK + "-")
                and not entry.name.endswith(".tmp") and entry.name not in keep):
            shutil.rmtree(entry, ignore_errors=True)


def record_held_release(publish_dir: str | os.PathLike, *, run_id: str, as_of: datetime | str,
                        reason: str, check_summary: Mapping[str, Any]) -> int:
    """The release guard kept the published version: append a `held` row (with the reason) to
    `meta.publications`. The file is rewritten like a publish (a copy, then an atomic swap), so
    readers never see a half-written file; its marts and the Parquet folder stay as they were.
    -> the id of the held row."""
    publish_dir = Path(publish_dir)
    final_db = publish_dir / PUBLISHED_FILE
    with _publish_lock(publish_dir):
        _clean_leftovers(publish_dir)
        if not final_db.exists():
            raise PublishError(f"nothing is published in {publish_dir}: no release to hold")
        tmp_db = publish_dir / f"{TMP_DB_PREFIX}{_safe(run_id)}"
        try:
            shutil.copyfile(final_db, tmp_db)
            con = duckdb.connect(str(tmp_db))
            try:
                for column in ("status", "reason"):  # a file published before releases could be held
                    con.execute(f"ALTER TABLE meta.publications ADD COLUMN IF NOT EXISTS {column} VARCHAR")
                con.execute("UPDATE meta.publications SET status = 'published' WHERE status IS NULL")
                held_id = con.execute("SELECT coalesce(max(publication_id), 0) + 1 FROM meta.publications").fetchone()[0]
                con.execute(
                    "INSERT INTO meta.publications BY NAME SELECT ? AS publication_id, ? AS run_id, ? AS as_of, "
                    "? AS published_at, '{}' AS row_counts, ? AS check_summary, ? AS parquet_version, "
                    "'held' AS status, ? AS reason",
                    [held_id, run_id, _utc_naive(as_of), datetime.now(timezone.utc).replace(tzinfo=None),
                     json.dumps(dict(check_summary), default=str, sort_keys=True),
                     _current_parquet_version(publish_dir), reason])
                con.execute("CHECKPOINT")
            finally:
                con.close()
            _fsync_path(tmp_db)
            os.replace(tmp_db, final_db)
            _fsync_path(publish_dir)
        except BaseException:
            _remove(tmp_db)
            _remove(Path(str(tmp_db) + ".wal"))
            raise
    return held_id


# --------------------------------------------------------------------------------------------
# reading what was published (tests, README, report)


def published_versions(publish_dir: str | os.PathLike, include_held: bool = False) -> list[dict[str, Any]]:
    """Every publication recorded in the published file, oldest first ([] if none yet); with
    `include_held`, also the releases the guard held back (status `held`, with their reason)."""
    path = Path(publish_dir) / PUBLISHED_FILE
    if not path.exists():
        return []
    con = duckdb.connect(str(path), read_only=True)
    try:
        # SELECT *: files published before `status` or `engine` were recorded lack those columns
        cur = con.execute("SELECT * FROM meta.publications ORDER BY publication_id")
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, row)) for row in cur.fetchall()]
    finally:
        con.close()
    for row in rows:
        row.setdefault("engine", None)
        row.setdefault("status", "published")
        row["status"] = row["status"] or "published"
        row["row_counts"] = json.loads(row["row_counts"]) if row["row_counts"] else {}
        row["check_summary"] = json.loads(row["check_summary"]) if row["check_summary"] else {}
    return rows if include_held else [row for row in rows if row["status"] == "published"]


def read_publication(publish_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The latest publication (what `o2c.duckdb` holds now), or None."""
    versions = published_versions(publish_dir)
    return versions[-1] if versions else None
