"""The landing-folder sensor: new files in any source folder start a run for their export date(s)."""

import hashlib
import json

import dagster as dg

from ingest import settings
from orchestration.jobs import o2c_job
from orchestration.partitions import is_export_date, register_export_dates

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

SENSOR_INTERVAL_SECONDS = 30


def landing_fingerprints(landing_dir) -> dict[str, str]:
    """One fingerprint per export date: a hash of (source, file name, size) of every file in it.

    A new, replaced or re-delivered file changes its date's fingerprint; an untouched date
    keeps it, so a day is picked up once and not again on the next tick. The sensor never
    opens the warehouse (DuckDB's file lock belongs to the runs).
    """
    files_by_date: dict[str, list[str]] = {}
    for source in settings.SOURCES:
        folder = landing_dir / source
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if path.is_file():
                relative = path.relative_to(folder)
                date = relative.parts[0] if len(relative.parts) > 1 else "reference"
                files_by_date.setdefault(date, []).append(f"{source}/{relative}:{path.stat().st_size}")
    return {
        date: hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()[:16]
        for date, entries in files_by_date.items()
    }


@dg.sensor(
    job=o2c_job,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts an ingest-and-rebuild run for each export date whose landing files changed.",
)
def landing_folder_sensor(context: dg.SensorEvaluationContext):
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    current = landing_fingerprints(settings.landing_dir())
    changed = sorted(date for date, fingerprint in current.items() if seen.get(date) != fingerprint)
    if not changed:
        return dg.SkipReason(f"no new files in {settings.landing_dir()}")
    dates = [date for date in changed if is_export_date(date)]
    context.update_cursor(json.dumps(current, sort_keys=True))
    if not dates:  # FX rates are loaded by every run; a new rates file alone waits for the next one
        return dg.SkipReason("only reference files changed; they load with the next run")
    # every export date present becomes a partition (in date order), so a range covers only real dates
    register_export_dates(context.instance, sorted(d for d in current if is_export_date(d)))
    run_key = hashlib.sha256(";".join(f"{d}:{current[d]}" for d in dates).encode()).hexdigest()[:16]
    if len(dates) == 1:
        return [dg.RunRequest(run_key=run_key, partition_key=dates[0])]
    # Several export dates at once (a first start, a backlog): one run over their range rather
    # than one run each; dates in between that did not change are re-ingested as no-ops.
    return [dg.RunRequest(run_key=run_key, tags={RANGE_START_TAG: dates[0], RANGE_END_TAG: dates[-1]})]
