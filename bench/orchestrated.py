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
    from orchestration.assets.ingest import ingest_assets
    from orchestration.partitions import export_dates_in_landing, register_export_dates
    from orchestration.resources import warehouse_resource
    from orchestration.sensors import RANGE_END_TAG, RANGE_START_TAG

    instance = dg.DagsterInstance.ephemeral()
    dates = export_dates_in_landing(settings.landing_dir())
    register_export_dates(instance, dates)
    # one run, as in `make run`, with only the resource the ingest assets use
    result = dg.materialize(ingest_assets, instance=instance, resources={"warehouse": warehouse_resource()},
                            tags={RANGE_START_TAG: dates[0], RANGE_END_TAG: dates[-1]})
    events = len(result.get_asset_materialization_events())
    print(f">> orchestrated ingest: {len(dates)} export dates, {events} raw materializations", flush=True)
    return 0 if result.success else 1


def phases() -> int:
    """Seconds per phase of the latest run in $DAGSTER_HOME (`make run`), from its step events, as
    JSON: `ingest` is the landing and reference ingest steps (what `python -m ingest` compares
    with), `run` the run from its start event to its end event (the process's start-up, loading
    the definitions and creating the run are outside it)."""
    import json

    import dagster as dg

    from orchestration.assets.ingest import ingest_assets

    ingest_steps = {asset.op.name for asset in ingest_assets}
    instance = dg.DagsterInstance.get()
    run = instance.get_runs(limit=1)[0]
    kinds = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE,
             dg.DagsterEventType.RUN_START, dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE}
    run_bounds: list[float] = []
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for record in instance.get_records_for_run(run.run_id, of_type=kinds).records:
        entry = record.event_log_entry
        if entry.step_key is None:
            run_bounds.append(entry.timestamp)
        elif entry.dagster_event.event_type == dg.DagsterEventType.STEP_START:
            started[entry.step_key] = entry.timestamp
        else:
            seconds[entry.step_key] = entry.timestamp - started[entry.step_key]
    ingest = sum(value for step, value in seconds.items() if step in ingest_steps)
    print(json.dumps({"ingest": round(ingest, 2), "run": round(max(run_bounds) - min(run_bounds), 2),
                      "steps": {step: round(value, 2) for step, value in seconds.items()},
                      "run_status": run.status.value}))
    return 0


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
    if sys.argv[1:2] == ["phases"]:
        sys.exit(phases())
    if sys.argv[1:2] == ["spread"]:
        sys.exit(spread(Path(sys.argv[2]), Path(sys.argv[3])))
    sys.exit("usage: python -m bench.orchestrated ingest | phases | spread SRC DST")
