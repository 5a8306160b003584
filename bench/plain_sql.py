"""The dbt models' own compiled SQL, run as plain statements in one DuckDB connection.

This is the floor for `dbt build`: the same transformations with none of dbt's overhead (no
process start, no adapter, no tests). It reads the manifest `dbt compile` wrote
(`--manifest`, default `dbt_project/target/manifest.json`), orders the models by their dependencies and recreates each relation with the
materialization dbt would use (view or table; incremental models as full tables).
"""
from __future__ import annotations

import argparse
import json
import os
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

MANIFEST = Path(__file__).resolve().parents[1] / "dbt_project" / "target" / "manifest.json"


def compiled_models(manifest_path: Path = MANIFEST) -> list[dict]:
    manifest = json.loads(manifest_path.read_text())
    models = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    graph = {uid: [d for d in node["depends_on"]["nodes"] if d in models] for uid, node in models.items()}
    ordered = list(TopologicalSorter(graph).static_order())
    missing = [models[uid]["name"] for uid in ordered if not models[uid].get("compiled_code")]
    if missing:
        raise SystemExit(f"no compiled SQL for {missing[:5]}: run `dbt compile` first ({manifest_path})")
    return [models[uid] for uid in ordered]


def run_plain_sql(warehouse: Path, manifest: Path = MANIFEST) -> int:
    models = compiled_models(manifest)
    # The same memory limit as the dbt profile, so both sides run under the same constraint.
    memory_limit = os.environ.get("O2C_DUCKDB_MEMORY_LIMIT", "3GB")
    with duckdb.connect(str(warehouse), config={"memory_limit": memory_limit}) as con:
        for model in models:
            relation = f'"{model["schema"]}"."{model["alias"] or model["name"]}"'
            kind = "view" if model["config"].get("materialized") == "view" else "table"
            con.execute(f'create schema if not exists "{model["schema"]}"')
            existing = con.execute(
                "select table_type from information_schema.tables where table_schema = ? and table_name = ?",
                [model["schema"], model["alias"] or model["name"]],
            ).fetchone()
            if existing:
                con.execute(f"drop {'view' if existing[0] == 'VIEW' else 'table'} {relation}")
            con.execute(f"create {kind} {relation} as {model['compiled_code']}")
    return len(models)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--manifest", type=Path, default=MANIFEST, help="the manifest `dbt compile` wrote")
    args = parser.parse_args()
    print(f"plain SQL: {run_plain_sql(args.warehouse, args.manifest)} models rebuilt")


if __name__ == "__main__":
    main()
