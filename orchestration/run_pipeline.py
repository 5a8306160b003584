"""`make run`: one Dagster run of o2c_job over every export date in the landing folder.

The run is recorded in $DAGSTER_HOME, so `make dev` shows it afterwards in the UI.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import dagster as dg

from ingest import settings
from orchestration.partitions import dates_ahead_of, export_dates_in_landing, register_export_dates
from orchestration.sensors import RANGE_END_TAG, RANGE_START_TAG


def run_tags_for_landing(landing_dir, instance: dg.DagsterInstance,
                         only_dates: tuple[str, str] | None = None) -> dict[str, str]:
    """Register the landing folder's export dates as partitions and tag one run over them (or the
    selected START..END of them). Any year works; dates ahead of the clock load with a warning."""
    present = export_dates_in_landing(landing_dir)
    if not present:
        raise SystemExit(
            f"no export-date folders under {landing_dir} (expected e.g. oms/orders/2026-11-01/); "
            "run `make sample` or set O2C_LANDING_DIR"
        )
    ahead = dates_ahead_of(present)
    if ahead:
        print(f">> o2c: warning: export dates ahead of today's date {ahead[:5]}"
              f"{' …' if len(ahead) > 5 else ''} in {landing_dir}: loading them (a replay or a time-zone edge?)",
              flush=True)
    register_export_dates(instance, present)
    dates = present
    if only_dates:
        dates = [d for d in present if only_dates[0] <= d <= only_dates[1]]
        if not dates:
            raise SystemExit(f"no export date between {only_dates[0]} and {only_dates[1]} in {landing_dir}")
    return {RANGE_START_TAG: dates[0], RANGE_END_TAG: dates[-1], "o2c/trigger": "make_run"}


def reload_run_config() -> dict:
    """Run config that makes the landing ingest forget and reload the selected export dates."""
    from orchestration.assets.ingest import DATED_SOURCES, ingest_op_name

    return {"ops": {ingest_op_name(DATED_SOURCES): {"config": {"reload": True}}}}


def execute(
    instance: dg.DagsterInstance | None = None,
    only_dates: tuple[str, str] | None = None,
    reload: bool = False,
) -> dg.ExecuteInProcessResult:
    from orchestration.definitions import defs  # imported late: loading dbt's manifest takes a moment

    landing = settings.landing_dir()
    if instance is None:
        instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    tags = run_tags_for_landing(landing, instance, only_dates)
    print(f">> o2c: landing {landing}\n>> o2c: warehouse {settings.warehouse_path()}\n"
          f">> o2c: export dates {tags[RANGE_START_TAG]} .. {tags[RANGE_END_TAG]}", flush=True)
    job = defs.resolve_job_def("o2c_job")
    run_config = reload_run_config() if reload else None
    return job.execute_in_process(instance=instance, tags=tags, run_config=run_config, raise_on_error=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dates", metavar="START[:END]",
                        help="only these export dates (default: every date in the landing folder)")
    parser.add_argument("--reload", action="store_true",
                        help="forget what was loaded for the selected dates and load them again")
    args = parser.parse_args(argv)
    only_dates = None
    if args.dates:
        start, _, end = args.dates.partition(":")
        only_dates = (start, end or start)
    started = time.monotonic()
    from orchestration import dagster_storage

    dagster_storage.install()  # before the instance opens its SQLite storage
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    result = execute(instance=instance, only_dates=only_dates, reload=args.reload)
    elapsed = time.monotonic() - started
    from orchestration.summary import print_run_summary

    print_run_summary(result, elapsed)
    if not result.success:  # in-process runs see no sensor: alert here (orchestration/alerts.py)
        from orchestration import alerts

        alert = alerts.run_failure_alert(instance, result.run_id)
        if alert:
            alerts.send(alert)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
