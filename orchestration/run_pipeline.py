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
from orchestration.partitions import export_date_partitions, export_dates_in_landing
from orchestration.sensors import RANGE_END_TAG, RANGE_START_TAG



def run_tags_for_landing(landing_dir, only_dates: tuple[str, str] | None = None) -> dict[str, str]:
    dates = list(only_dates) if only_dates else export_dates_in_landing(landing_dir)
    if not dates:
        raise SystemExit(
            f"no export-date folders under {landing_dir} (expected e.g. oms/orders/2026-11-01/); "
            "run `make sample` or set O2C_LANDING_DIR"
        )
    valid = set(export_date_partitions.get_partition_keys())
    outside = [d for d in dates if d not in valid]
    if outside:
        raise SystemExit(
            f"export dates {outside[:5]} in {landing_dir} are outside the partition range "
            f"starting {export_date_partitions.start:%Y-%m-%d} (orchestration/partitions.py)"
        )
    return {RANGE_START_TAG: dates[0], RANGE_END_TAG: dates[-1], "o2c/trigger": "make_run"}


def reload_run_config() -> dict:
    """Run config that makes every partitioned ingest asset forget and reload its dates."""
    from orchestration.assets.ingest import UNPARTITIONED_SOURCES, ingest_op_name
    from ingest.settings import SOURCES

    return {"ops": {ingest_op_name(s): {"config": {"reload": True}} for s in SOURCES if s not in UNPARTITIONED_SOURCES}}


def execute(
    instance: dg.DagsterInstance | None = None,
    only_dates: tuple[str, str] | None = None,
    reload: bool = False,
) -> dg.ExecuteInProcessResult:
    from orchestration.definitions import defs  # imported late: loading dbt's manifest takes a moment

    landing = settings.landing_dir()
    tags = run_tags_for_landing(landing, only_dates)
    if instance is None:
        instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
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
    result = execute(only_dates=only_dates, reload=args.reload)
    elapsed = time.monotonic() - started
    from orchestration.summary import print_run_summary

    print_run_summary(result, elapsed)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
