"""The one job: ingest the landing folder, build the warehouse, check it, publish it."""
from __future__ import annotations

import dagster as dg

o2c_job = dg.define_asset_job(
    name="o2c_job",
    selection=dg.AssetSelection.all(),
    description="Ingest the selected export dates, rebuild the dbt marts, validate, publish.",
)
