"""Everything Dagster loads for o2c, merged. Each concern lives in its own module."""
import dagster as dg

from orchestration import dagster_storage

from orchestration.alerts import run_failure_alerts

from orchestration.assets.dbt import o2c_dbt_models
from orchestration.assets.ingest import ingest_assets
from orchestration.assets.publish import published_warehouse
from orchestration.checks import expectation_checks
from orchestration.jobs import o2c_job
from orchestration.resources import build_resources
from orchestration.schedules import daily_safety_net
from orchestration.sensors import landing_folder_sensor

dagster_storage.install()  # run history without an fsync per event (see the module)

defs = dg.Definitions(
    assets=[*ingest_assets, o2c_dbt_models, published_warehouse],
    asset_checks=expectation_checks,
    jobs=[o2c_job],
    schedules=[daily_safety_net],
    sensors=[landing_folder_sensor, run_failure_alerts],
    resources=build_resources(),
    # One process, steps in order: DuckDB allows one writer per file, and dbt needs it free.
    executor=dg.in_process_executor,
)
