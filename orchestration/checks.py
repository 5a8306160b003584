"""Expectation suites as Dagster asset checks: one check per suite, on the asset it guards.

Great Expectations runs once per step for all the suites of that step (its context is slow to
build), and each suite reports as its own check with the unexpected count and a sample of
offending keys. A suite with a failed `error` expectation fails with severity ERROR, which —
the checks being blocking — stops everything downstream, publishing included. A suite whose
only failures are `warn` expectations fails with severity WARN and blocks nothing.
"""
from __future__ import annotations

from collections import defaultdict

import dagster as dg
from dagster_duckdb import DuckDBResource

from expectations.model import ExpectationResult
from expectations.suites import ALL_SUITES
from orchestration.assets.ingest import RAW_TABLES, raw_asset_key

INGEST_SUITE = "integrity.ingest"
MART_SUITES = [s for s in ALL_SUITES if s.name != INGEST_SUITE]


def check_name(suite_name: str) -> str:
    return suite_name.replace(".", "__")


def mart_asset_key(table: str) -> dg.AssetKey:
    schema, name = table.split(".")
    return dg.AssetKey([schema, name])


def suite_check_result(
    results: list[ExpectationResult], asset_key: dg.AssetKey, name: str, key_filter=None
) -> dg.AssetCheckResult:
    """Fold one suite's expectation results into one check result (keys optionally filtered)."""
    failed = [r for r in results if not r.success]
    blocking = [r for r in failed if r.blocking]
    per_expectation = {}
    for r in results:
        keys = [k for k in r.sample_keys if key_filter is None or key_filter(k)]
        per_expectation[r.expectation_id] = {
            "severity": r.severity, "success": r.success, "unexpected_count": r.unexpected_count,
            "sample_keys": keys, **({"error": r.error} if r.error else {}),
        }
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=name,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if blocking or not failed else dg.AssetCheckSeverity.WARN,
        metadata={
            "unexpected_count": sum(max(r.unexpected_count, 0) for r in failed),
            "failed_expectations": ", ".join(r.expectation_id for r in failed) or "none",
            "blocking_failures": len(blocking),
            "expectations": dg.MetadataValue.json(per_expectation),
        },
    )


def _run(warehouse: DuckDBResource, suites: list[str]) -> list[ExpectationResult]:
    from expectations.runner import run_suites  # imports Great Expectations (seconds): only here

    with warehouse.get_connection() as con:
        return run_suites(con=con, suites=suites)


def _source_of_table(table: str) -> str:
    return next(source for source, tables in RAW_TABLES.items() if table in tables)


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(check_name(INGEST_SUITE), asset=raw_asset_key(table), blocking=True,
                          description="Every landed record of this source is loaded or quarantined; "
                                      "the ingest bookkeeping is consistent.")
        for tables in RAW_TABLES.values() for table in tables
    ],
    name="ingest_integrity_checks",
)
def ingest_integrity_checks(warehouse: DuckDBResource):
    results = _run(warehouse, [INGEST_SUITE])
    for tables in RAW_TABLES.values():
        for table in tables:
            source = _source_of_table(table)
            # The suite covers every source at once; offending keys are file paths (or the source
            # itself, for freshness), so each raw asset shows the ones of its own source.
            yield suite_check_result(results, raw_asset_key(table), check_name(INGEST_SUITE),
                                     key_filter=lambda key, src=source: key == src or key.startswith(src + "/"))


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(check_name(suite.name), asset=mart_asset_key(suite.table), blocking=True,
                          description=f"Expectation suite {suite.name} ({len(suite.expectations)} expectations).")
        for suite in MART_SUITES
    ],
    name="mart_expectation_checks",
)
def mart_expectation_checks(warehouse: DuckDBResource):
    results = _run(warehouse, [s.name for s in MART_SUITES])
    by_suite: dict[str, list[ExpectationResult]] = defaultdict(list)
    for r in results:
        by_suite[r.suite].append(r)
    for suite in MART_SUITES:
        yield suite_check_result(by_suite[suite.name], mart_asset_key(suite.table), check_name(suite.name))


expectation_checks = [ingest_integrity_checks, mart_expectation_checks]
