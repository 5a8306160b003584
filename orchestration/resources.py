"""Resources: the DuckDB warehouse and the dbt CLI. One place builds them."""
from __future__ import annotations

from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from ingest import settings
from orchestration.prepare import dbt_executable
from orchestration.project import dbt_project


def build_resources() -> dict[str, object]:
    # Every component opens the warehouse read-write with DuckDB's default configuration and
    # closes it when its step ends: DuckDB refuses a second connection with another
    # configuration in one process, and dbt (a subprocess) needs the file lock free.
    return {
        "warehouse": DuckDBResource(database=str(settings.warehouse_path())),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
