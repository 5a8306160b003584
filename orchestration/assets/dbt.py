"""The dbt project, wired in once: every model an asset, every dbt test an asset check."""

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.prepare import WITHOUT_UNIT_TESTS
from orchestration.project import dbt_project
from orchestration.resources import BuildEngine

BUILD_ARGS = ["build", *WITHOUT_UNIT_TESTS]  # unit tests run in CI (orchestration/prepare.py)
# Every dagster-dbt invocation writes its own target folder (manifest, run_results, logs:
# about 10 MB); the newest few are kept for debugging a run, older ones are removed.
KEEP_INVOCATION_FOLDERS = 5


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
    invocation = dbt.cli(BUILD_ARGS, context=context)
    yield from invocation.stream()
    engine.after_build(context.log)
    keep_parse_state(invocation.target_path, invocation.target_path.parent)
    prune_invocation_folders(invocation.target_path.parent, context.op_execution_context.op.name)


def keep_parse_state(invocation_dir: Path, target_dir: Path) -> bool:
    """Make this build's dbt parse state the project's, so the next build parses only what changed.

    dagster-dbt starts each build from `target/partial_parse.msgpack`, which `make manifest`
    writes; dbt discards it when the profile differs (the warehouse path is part of it) and parses
    everything again (5-7 s). dbt checks profile, vars and file hashes before it trusts the file,
    so a stale one costs only that full parse.
    """
    source = invocation_dir / "partial_parse.msgpack"
    if not source.exists():
        return False
    staged = target_dir / f".partial_parse.msgpack.{os.getpid()}"
    shutil.copyfile(source, staged)
    os.replace(staged, target_dir / "partial_parse.msgpack")  # atomic: a concurrent dbt reads a whole file
    return True


def prune_invocation_folders(target_dir: Path, op_name: str, keep: int = KEEP_INVOCATION_FOLDERS) -> list[Path]:
    """Remove all but the newest `keep` `<op_name>-<run>-<id>` folders under dbt's target folder."""
    folders = sorted((p for p in target_dir.glob(f"{op_name}-*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
    removed = folders[:-keep] if keep else folders
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed
