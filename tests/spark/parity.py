"""The parity builds (one landing folder built by DuckDB and by Spark, side by side) and the
row-for-row comparison of the marts of two warehouses."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.dbt.conftest import DBT_PROJECT, REPO, dbt_executable, ingest_landing

ORDERS, DAYS, SEED = 300, 7, 42


def _dbt(args: list[str], work_dir: Path, env: dict[str, str]) -> subprocess.Popen:
    command = [dbt_executable(), *args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
               "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs")]
    work_dir.mkdir(parents=True, exist_ok=True)
    log = open(work_dir / "dbt.out", "w")
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)


def build_results(work_dir: Path) -> dict[str, str]:
    data = json.loads((work_dir / "target" / "run_results.json").read_text())
    return {r["unique_id"]: r["status"] for r in data["results"]}


PARITY_BUILDS = pytest.StashKey[dict]()


def start_parity_builds(root: Path) -> dict:
    """Ingest one simulated landing folder, then start the DuckDB and the Spark dbt builds of it
    side by side (subprocesses); `finish_parity_builds` waits for them."""
    from orchestration import engines

    landing = root / "landing"
    subprocess.run([sys.executable, "-m", "ingest.simulate", "--orders", str(ORDERS), "--days", str(DAYS),
                    "--seed", str(SEED), "--out", str(landing), "--quiet"],
                   cwd=REPO, check=True, capture_output=True)
    duck, spark = root / "duckdb" / "warehouse.duckdb", root / "spark" / "warehouse.duckdb"
    duck.parent.mkdir()
    spark.parent.mkdir()
    ingest_landing(landing, duck)          # ingest once: both engines read the same raw rows
    shutil.copy(duck, spark)
    spark_dir = spark.parent / "spark"
    engines.export_raw(spark, spark_dir)

    base = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "O2C_"))}
    started = time.monotonic()
    spark_run = _dbt(["build"], spark.parent, base | {"O2C_WAREHOUSE": str(spark)} | engines.spark_env(spark_dir))
    duck_run = _dbt(["build"], duck.parent, base | {"O2C_WAREHOUSE": str(duck)})
    return {"root": root, "duckdb": duck, "spark": spark, "spark_dir": spark_dir, "started": started,
            "processes": {"duckdb": duck_run, "spark": spark_run}}


def finish_parity_builds(started: dict) -> dict:
    from orchestration import engines

    duck, spark, spark_dir = started["duckdb"], started["spark"], started["spark_dir"]
    codes = {"duckdb": started["processes"]["duckdb"].wait(timeout=900)}
    expectations = {}
    if codes["duckdb"] == 0:  # while Spark may still build
        from expectations import run_suites

        expectations["duckdb"] = run_suites(duck)
    codes["spark"] = started["processes"]["spark"].wait(timeout=900)
    seconds = time.monotonic() - started["started"]
    loaded = {}
    if codes["spark"] == 0:
        loaded = engines.load_spark_build(spark, spark_dir, spark.parent / "target" / "manifest.json")
    print(f"parity builds: {seconds:.0f} s from their start (DuckDB and Spark side by side), exit codes {codes}")
    return {"root": started["root"], "duckdb": duck, "spark": spark, "codes": codes, "loaded": loaded,
            "expectations": expectations}


def stop_parity_builds(started: dict) -> None:
    """At the end of a session that never waited for them (deselected, interrupted)."""
    for process in started["processes"].values():
        if process.poll() is None:
            process.kill()
            process.wait()


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
