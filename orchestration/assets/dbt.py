"""The dbt project, wired in once: every model an asset, every dbt test an asset check."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.project import dbt_project
from orchestration.resources import BuildEngine


class O2cDbtTranslator(DagsterDbtTranslator):
    """Groups models by layer (staging, intermediate, marts) so the UI reads like the project."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        # Sources keep dagster-dbt's default ["raw", table] so they are the ingest assets;
        # models are keyed by layer: ["marts", "order_ledger"], ["staging", "stg_oms__orders"].
        if dbt_resource_props.get("resource_type") == "source":
            return super().get_asset_key(dbt_resource_props)
        fqn = dbt_resource_props.get("fqn", [])
        layer = fqn[1] if len(fqn) > 2 else "dbt"
        return dg.AssetKey([layer, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=O2cDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
)
def o2c_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, engine: BuildEngine):
    # `build` runs models and their tests in DAG order; a failing error-severity test stops
    # the models downstream of it, and each test is reported as an asset check. With the Spark
    # engine the raw tables go to Parquet first and Spark's tables come back into the DuckDB
    # working file after a passing build, for the expectation checks and publishing.
    engine.before_build(context.log)
    yield from dbt.cli(["build"], context=context).stream()
    engine.after_build(context.log)
