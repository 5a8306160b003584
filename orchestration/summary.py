"""A short end-of-run summary for the terminal: what loaded, which checks failed, where to look."""
from __future__ import annotations

import dagster as dg

from ingest import settings

_SHOWN_METADATA = ("records_loaded", "records_quarantined", "repeats_skipped", "files_malformed",
                   "row_count", "published_file", "report")


def _value(entry) -> object:
    return getattr(entry, "value", entry)


def print_run_summary(result: dg.ExecuteInProcessResult, elapsed_seconds: float) -> None:
    print("\n== o2c run summary ==")
    shown_keys: set[str] = set()
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        key = "/".join(materialization.asset_key.path)
        # A partitioned asset reports one materialization per export date, each with the totals
        # of the whole run: show it once.
        shown = {k: _value(v) for k, v in materialization.metadata.items() if k in _SHOWN_METADATA}
        if shown and key not in shown_keys:
            shown_keys.add(key)
            print(f"  {key:45s} " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    _print_exceptions()
    evaluations = [e.asset_check_evaluation_data for e in result.all_events
                   if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]
    failed = [e for e in evaluations if not e.passed]
    print(f"  checks: {len(evaluations) - len(failed)} passed, {len(failed)} failed")
    for evaluation in failed:
        severity = getattr(evaluation.severity, "value", evaluation.severity)
        key = "/".join(evaluation.asset_key.path)
        print(f"    FAILED [{severity}] {key} :: {evaluation.check_name}")
    step_failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    for failure in step_failures:
        print(f"  step failed: {failure.step_key}: {failure.event_specific_data.error.message.strip()[:500]}")
    from ingest.runner import unread_files

    unread = unread_files(settings.landing_dir())
    if unread:
        print(f"  WARNING: {len(unread)} file(s) in the landing folder that no loader reads "
              f"(misspelled folder? not a date?): {', '.join(unread[:5])}{' …' if len(unread) > 5 else ''}")
    print(f"  warehouse: {settings.warehouse_path()}")
    print(f"  published: {settings.publish_dir()}")
    print(f"  {'SUCCESS' if result.success else 'FAILED'} in {elapsed_seconds:.1f}s "
          f"(run {result.run_id}; `make dev` shows it in the Dagster UI)")


def _print_exceptions() -> None:
    import duckdb

    try:
        with duckdb.connect(str(settings.warehouse_path())) as con:
            rows = con.execute(
                "select exception_type, severity, count(*) from marts.reconciliation_exceptions "
                "group by all order by 3 desc"
            ).fetchall()
    except duckdb.Error:
        return
    print(f"  reconciliation exceptions: {sum(r[2] for r in rows)}")
    for exception_type, severity, count in rows:
        print(f"    {exception_type:32s} {severity:8s} {count}")
