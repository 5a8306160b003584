"""Row-for-row comparison of the marts of two warehouses (DuckDB build vs Spark build)."""
from __future__ import annotations

from pathlib import Path

import duckdb


def mart_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    return [t for (t,) in con.execute(
        "select table_name from information_schema.tables where table_catalog = ? and table_schema = 'marts' "
        "order by table_name", [catalog]).fetchall()]


def compare_marts(left: Path, right: Path) -> dict[str, list[str]]:
    """{mart: [differences]} for every mart of `left` (empty lists: identical). Compares the
    column names and types, then every row: both sides sorted by all columns, each value
    exactly (decimals as decimals, timestamps to the microsecond, strings byte for byte)."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        problems: dict[str, list[str]] = {}
        left_tables, right_tables = mart_tables(con, "l"), mart_tables(con, "r")
        if left_tables != right_tables:
            problems["_tables"] = [f"left {left_tables} vs right {right_tables}"]
        for table in left_tables:
            diffs: list[str] = []
            problems[table] = diffs
            if table not in right_tables:
                diffs.append("missing on the right")
                continue
            schemas = []
            for side in ("l", "r"):
                schemas.append(con.execute(
                    "select column_name, data_type from information_schema.columns where table_catalog = ? "
                    "and table_schema = 'marts' and table_name = ? order by ordinal_position", [side, table]).fetchall())
            if schemas[0] != schemas[1]:
                diffs.append(f"columns differ: {sorted(set(schemas[0]) ^ set(schemas[1]))}")
                continue
            rows = [con.execute(f'select * from {side}.marts."{table}" order by all').fetchall() for side in ("l", "r")]
            if len(rows[0]) != len(rows[1]):
                diffs.append(f"{len(rows[0])} rows vs {len(rows[1])}")
            only_left = [r for r in con.execute(
                f'select * from l.marts."{table}" except all select * from r.marts."{table}" order by all').fetchall()]
            only_right = [r for r in con.execute(
                f'select * from r.marts."{table}" except all select * from l.marts."{table}" order by all').fetchall()]
            for row in only_left[:5]:
                diffs.append(f"only left:  {row}")
            for row in only_right[:5]:
                diffs.append(f"only right: {row}")
            if not only_left and not only_right and rows[0] != rows[1]:
                diffs.append("same multiset but a different sorted order (should not happen)")
        return problems
    finally:
        con.close()
