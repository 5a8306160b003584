"""Write-audit-publish: after every blocking check passed, publish the marts for BI and finance."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from ingest import runner, settings
from orchestration import alerts, release
from orchestration.assets.dbt import o2c_dbt_models
from orchestration.publish import publish, record_held_release
from orchestration.report import write_report
from orchestration.resources import BuildEngine


def _check_summary(context: dg.AssetExecutionContext) -> dict[str, object]:
    """The check evaluations of this run: what the published version was audited with."""
    records = context.instance.get_records_for_run(
        context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    checks = {}
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        key = "/".join(evaluation.asset_key.path) + ":" + evaluation.check_name
        checks[key] = {"passed": evaluation.passed, "severity": evaluation.severity.value}
    failed_warn = sorted(k for k, v in checks.items() if not v["passed"])
    return {"checks": len(checks), "passed": len(checks) - len(failed_warn),
            "failed_non_blocking": failed_warn}


@dg.asset(
    key=["published", "o2c_warehouse"],
    deps=[key for key in o2c_dbt_models.keys if key.path[0] == "marts"],
    group_name="published",
    kinds={"duckdb", "parquet"},
    description="The audited marts in a read-only DuckDB file (and Parquet per mart) for BI and "
                "finance, swapped in atomically; the previous version stays when a check fails.",
)
def published_warehouse(context: dg.AssetExecutionContext, warehouse: DuckDBResource,
                        engine: BuildEngine) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        # The as_of the marts were built with (dbt computes it once, from O2C_AS_OF or the data).
        (as_of,) = con.execute("select as_of from intermediate.int_as_of_resolved").fetchone()
        exceptions_by_type = dict(con.execute(
            "select exception_type, count(*) from marts.reconciliation_exceptions group by 1 order by 1"
        ).fetchall())
    # publish() opens the working file itself (same configuration) and closes it before the swap.
    # files the landing folder holds but no loader reads: never silently ignored (issue 15)
    unread = runner.unread_files(settings.landing_dir())
    if unread:
        context.log.warning(f"{len(unread)} file(s) in the landing folder no loader reads, e.g. {unread[:3]}")
    check_summary = {**_check_summary(context), "unread_files": unread}
    # release guard: compare with the published version before replacing it (orchestration/release.py)
    decision = release.guard(settings.warehouse_path(), settings.published_file(), settings.publish_dir())
    if decision is not None:
        check_summary["release_guard"] = decision.summary()
        context.log.info("release guard:\n" + release.render(decision.comparison, release.max_unexplained_change()))
        if not decision.release:
            held_id = record_held_release(settings.publish_dir(), run_id=context.run_id, as_of=as_of,
                                          reason=decision.reason, check_summary=check_summary)
            # the run fails with the reason; the failure alert (alerts.run_failure_alert) says it
            raise dg.Failure(description=decision.reason, metadata={"held_publication_id": held_id,
                                                                    **decision.summary()})
        if decision.override:
            context.log.warning(f"release guard overridden ({release.OVERRIDE_ENV}): {decision.override}")
    previously_published = alerts.high_severity_exceptions(settings.published_file())
    result = publish(settings.warehouse_path(), settings.publish_dir(), run_id=context.run_id,
                     as_of=as_of, check_summary=check_summary, engine=engine.name)
    report = write_report(result.path, settings.publish_dir())
    new_alert = alerts.new_high_severity_alert(previously_published, alerts.high_severity_exceptions(result.path), as_of)
    if new_alert:
        alerts.send(new_alert)
    context.log.info(f"published {result.path} (as_of {as_of}, built by {engine.name}); report {report}")
    return dg.MaterializeResult(metadata={
        **result.as_metadata(),
        "report": str(report),
        "exceptions_total": sum(exceptions_by_type.values()),
        "exceptions_by_type": dg.MetadataValue.json(exceptions_by_type),
        "unread_files": dg.MetadataValue.md("\n".join(f"- `{path}`" for path in unread) or "none"),
    })
