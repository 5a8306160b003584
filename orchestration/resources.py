"""Resources: the DuckDB warehouse, the dbt CLI and the build engine. One place builds them."""
from __future__ import annotations

import os

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import Field

from ingest import settings


class BuildEngine(dg.ConfigurableResource):
    """The engine that runs the dbt models: `duckdb` (default) or `spark` (O2C_ENGINE, docs/spark.md).

    Ingest, the expectation suites and publishing always work on the DuckDB working file; with
    Spark the dbt step exports the raw tables as Parquet first and loads what Spark built into
    that file afterwards (orchestration/engines.py), so the asset graph and checks are the same.
    """

    name: str = Field(default="duckdb", description="duckdb or spark")

    def before_build(self, log=None) -> None:
        if self.name == "duckdb":
            return
        from orchestration import engines

        os.environ.update(engines.spark_env())  # the dbt subprocess inherits it (JDK, Spark folder)
        exported = engines.export_raw()
        if log:
            log.info(f"spark: exported {sum(e.rows for e in exported)} raw rows of {len(exported)} tables "
                     f"as Parquet to {settings.spark_dir() / 'raw'}")

    def after_build(self, log=None) -> None:
        if self.name == "duckdb":
            return
        from orchestration import engines

        loaded = engines.load_spark_build()
        if log:
            log.info(f"spark: loaded {len(loaded)} tables built by Spark into {settings.warehouse_path()}")


def warehouse_resource() -> DuckDBResource:
    """The working DuckDB file: all that the ingest assets need (bench/orchestrated.py runs them alone)."""
    return DuckDBResource(database=str(settings.warehouse_path()))


def build_resources() -> dict[str, object]:
    # imported here: dagster_dbt costs ~1.5 s to import, which the ingest assets alone need not pay
    from orchestration.dbt_cli import O2cDbtCliResource
    from orchestration.prepare import dbt_executable
    from orchestration.project import dbt_project

    # Every component opens the warehouse read-write with DuckDB's default configuration and
    # closes it when its step ends: DuckDB refuses a second connection with another
    # configuration in one process, and dbt (a subprocess) needs the file lock free.
    engine = settings.engine()
    if engine not in ("duckdb", "spark"):
        raise ValueError(f"unknown engine {engine!r}")
    return {
        "warehouse": warehouse_resource(),
        "dbt": O2cDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
        "engine": BuildEngine(name=engine),
    }
