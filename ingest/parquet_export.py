"""Raw tables as Parquet for the Spark engine (docs/spark.md).

Ingest validates and quarantines in DuckDB exactly as for the DuckDB engine; this module then
writes every raw table as Parquet, partitioned by export date, one folder per source table:

    <spark_dir>/raw/<table>/export_date=<YYYY-MM-DD | undated>/data_0.parquet

`_export_date` stays a column of the files (the partition folder carries a copy), so the Spark
build reads the same lineage as the DuckDB build. `_record_hash` (a 128-bit integer, which
neither Parquet nor Spark has) is left out: only ingest uses it. A table with no rows gets one
empty file, so Spark always finds its schema. Each table's folder is replaced as a whole (written
next to it, then renamed), so a reader never sees half an export.

The Spark build registers these folders as its `raw` tables (macro `register_raw_tables`, an
on-run-start hook of the dbt project); every file of a day's folder is independent of every
other day, so on a cluster the days are read side by side.
"""
from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.common import LINEAGE_COLUMNS, quote_ident

# Lineage columns written to Parquet: everything but the 128-bit record hash.
EXPORTED_LINEAGE = tuple(name for name, _ in LINEAGE_COLUMNS if name != "_record_hash")
# `_loaded_at` (a naive UTC TIMESTAMP) as a UTC instant, which Spark reads as its TIMESTAMP
EXPORTED_AS = {"_loaded_at": "timezone('UTC', _loaded_at) as _loaded_at"}
PARTITION_COLUMN = "export_date"
UNDATED = "undated"


def raw_tables() -> dict[str, tuple[str, ...]]:
    """raw table -> its delivered columns, for every source (the loaders' own mapping)."""
    from ingest.runner import RAW_TABLES

    return {table: columns for tables in RAW_TABLES.values() for table, columns in tables.items()}


@dataclass(frozen=True)
class TableExport:
    table: str
    rows: int
    partitions: int
    path: Path


def export_raw_tables(con: duckdb.DuckDBPyConnection, out_dir: Path | str) -> list[TableExport]:
    """Write every raw table of the warehouse `con` is connected to as Parquet under out_dir/raw."""
    from ingest.runner import ensure_tables

    ensure_tables(con)  # a fresh warehouse still gets every (empty) raw table
    root = Path(out_dir) / "raw"
    root.mkdir(parents=True, exist_ok=True)
    return [export_table(con, table, columns, root) for table, columns in raw_tables().items()]


def _swap_in(scratch: Path, final: Path) -> None:
    """Replace the folder `final` by the fully written `scratch` (renames, so a reader sees one or the other)."""
    old = final.parent / f".{final.name}.old.{uuid.uuid4().hex}"
    if final.exists():
        final.rename(old)
    scratch.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def export_table(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...], root: Path) -> TableExport:
    final = root / table
    scratch = root / f".{table}.{uuid.uuid4().hex}"
    select_list = ", ".join([quote_ident(c) for c in columns] + [EXPORTED_AS.get(c, c) for c in EXPORTED_LINEAGE])
    partition = f"coalesce(strftime(_export_date, '%Y-%m-%d'), '{UNDATED}') as {PARTITION_COLUMN}"
    (rows,) = con.execute(f"select count(*) from raw.{table}").fetchone()
    try:
        if rows:
            con.execute(
                f"copy (select {select_list}, {partition} from raw.{table}) to '{scratch}' "
                f"(format parquet, partition_by ({PARTITION_COLUMN}), compression zstd)"
            )
        else:
            (scratch / f"{PARTITION_COLUMN}={UNDATED}").mkdir(parents=True)
            con.execute(f"copy (select {select_list} from raw.{table} limit 0) to "
                        f"'{scratch / f'{PARTITION_COLUMN}={UNDATED}' / 'data_0.parquet'}' (format parquet)")
        _swap_in(scratch, final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    partitions = sum(1 for p in final.iterdir() if p.is_dir())
    return TableExport(table, int(rows), partitions, final)


def export_history_tables(con: duckdb.DuckDBPyConnection, out_dir: Path | str) -> list[TableExport]:
    """The published exception history carried into the working warehouse (ingest.history) as
    Parquet under out_dir/published_history/<table>/: the Spark build's `published_history`
    sources (small, one file each, replaced whole like the raw tables)."""
    from ingest.history import SCHEMA, ensure_history_tables

    ensure_history_tables(con)
    root = Path(out_dir) / SCHEMA
    root.mkdir(parents=True, exist_ok=True)
    exports = []
    for (table,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ? "
            "and table_catalog = current_database() order by 1", [SCHEMA]).fetchall():
        columns = con.execute(f"describe {SCHEMA}.{table}").fetchall()
        # naive UTC TIMESTAMPs as instants, which Spark reads as its TIMESTAMP (as for _loaded_at)
        select = ", ".join(f"timezone('UTC', {quote_ident(n)}) as {quote_ident(n)}" if kind == "TIMESTAMP"
                           else quote_ident(n) for n, kind, *_ in columns)
        final, scratch = root / table, root / f".{table}.{uuid.uuid4().hex}"
        try:
            scratch.mkdir()
            con.execute(f"copy (select {select} from {SCHEMA}.{table}) to '{scratch / 'data_0.parquet'}' (format parquet)")
            _swap_in(scratch, final)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        rows = con.execute(f"select count(*) from {SCHEMA}.{table}").fetchone()[0]
        exports.append(TableExport(table, int(rows), 0, final))
    return exports


def main(argv: list[str] | None = None) -> int:
    import argparse

    from ingest import settings

    parser = argparse.ArgumentParser(prog="python -m ingest.parquet_export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default: O2C_WAREHOUSE)")
    parser.add_argument("--out", type=Path, default=None, help="Spark folder (default: O2C_SPARK_DIR)")
    args = parser.parse_args(argv)
    warehouse = (args.warehouse or settings.warehouse_path()).resolve()
    out = (args.out or settings.spark_dir()).resolve()
    with duckdb.connect(str(warehouse)) as con:
        exports = export_raw_tables(con, out) + export_history_tables(con, out)
    for e in exports:
        print(f"{e.table:<32} {e.rows:>10} rows {e.partitions:>5} partitions  {e.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
