"""Write dbt_project/target/manifest.json, which dagster-dbt needs at import time.

`dbt_project.prepare_if_dev()` only does this under `dagster dev`; make targets, tests and CI
run this module instead (`python -m orchestration.prepare`).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ingest import settings

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def dbt_executable() -> str:
    return str(Path(sys.executable).with_name("dbt"))


def prepare_manifest() -> Path:
    env = {**os.environ, "O2C_WAREHOUSE": str(settings.warehouse_path())}
    cmd = [dbt_executable(), "parse", "--project-dir", str(DBT_PROJECT_DIR),
           "--profiles-dir", str(DBT_PROJECT_DIR), "--quiet"]
    completed = subprocess.run(cmd, env=env, cwd=DBT_PROJECT_DIR)
    if completed.returncode != 0:
        raise SystemExit(f"dbt parse failed (exit {completed.returncode}) in {DBT_PROJECT_DIR}")
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    print(f">> dbt manifest ready: {manifest.relative_to(REPO_ROOT)}")
    return manifest


if __name__ == "__main__":
    prepare_manifest()
