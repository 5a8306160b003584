"""The dbt project as Dagster sees it, and the settings every orchestration module shares."""
from __future__ import annotations

import os

from dagster_dbt import DbtProject

from ingest import settings
from orchestration.prepare import DBT_PROJECT_DIR

# dbt (a subprocess) finds the warehouse through this variable; make it absolute once, here,
# so Dagster, dbt and the expectations always open the same file.
os.environ["O2C_WAREHOUSE"] = str(settings.warehouse_path())

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# Under `dagster dev` the manifest is re-parsed at load; everywhere else (make, tests, CI)
# `python -m orchestration.prepare` writes it first.
dbt_project.prepare_if_dev()
