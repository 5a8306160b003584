"""Bench helpers for the orchestrated runs (`make bench`, bench/run.py).

`python -m bench.orchestrated ingest`: only the ingest assets, materialized by Dagster over every
export date of `O2C_LANDING_DIR` into `O2C_WAREHOUSE` (what `make run` does before dbt), so the
orchestrated ingest can be compared with `python -m ingest` on the same folder.
`python -m bench.orchestrated spread SRC DST`: the landing folder SRC re-laid as a multi-year
history (export date i moved to first + 30·i days), hard-linked, for the few-dates-over-years
comparison.
"""
from __future__ import annotations

import os
import sys
from datetime import date, timedelta
from pathlib import Path

SPREAD_DAYS = 30


def ingest_only() -> int:
    import dagster as dg

    from ingest import settings
    from orchestration.assets.ingest import DATED_SOURCES, build_ingest_asset
    from orchestration.partitions import export_dates_in_landing, register_export_dates
    from orchestration.resources import build_resources
    from orchestration.sensors import RANGE_END_TAG, RANGE_START_TAG

    instance = dg.DagsterInstance.ephemeral()
    dates = export_dates_in_landing(settings.landing_dir())
    register_export_dates(instance, dates)
    resources = build_resources()
    landing = dg.materialize([build_ingest_asset(DATED_SOURCES)], instance=instance, resources=resources,
                             tags={RANGE_START_TAG: dates[0], RANGE_END_TAG: dates[-1]})
    reference = dg.materialize([build_ingest_asset("reference/fx_rates")], instance=instance, resources=resources)
    events = len(landing.get_asset_materialization_events())
    print(f">> orchestrated ingest: {len(dates)} export dates, {events} raw materializations", flush=True)
    return 0 if landing.success and reference.success else 1


def spread(source: Path, target: Path) -> int:
    from orchestration.partitions import export_dates_in_landing

    dates = export_dates_in_landing(source)
    first = date.fromisoformat(dates[0])
    moved = {d: (first + timedelta(days=SPREAD_DAYS * i)).isoformat() for i, d in enumerate(dates)}
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.relative_to(source).parts[0].startswith("_"):
            continue
        parts = [moved.get(part, part) for part in path.relative_to(source).parts]
        destination = target.joinpath(*parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if not destination.exists():
            os.link(path, destination)
    print(f">> spread {len(dates)} export dates over {(date.fromisoformat(moved[dates[-1]]) - first).days} days "
          f"into {target}", flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["ingest"]:
        sys.exit(ingest_only())
    if sys.argv[1:2] == ["spread"]:
        sys.exit(spread(Path(sys.argv[2]), Path(sys.argv[3])))
    sys.exit("usage: python -m bench.orchestrated ingest | spread SRC DST")
