"""Raw-layer assets: thin wrappers over the loaders in `ingest/`, one per landing source."""

import duckdb
from pydantic import Field
import dagster as dg
from dagster_duckdb import DuckDBResource

from ingest import runner, settings
from orchestration.partitions import export_date_partitions

# Landing source -> the raw tables its loader writes: the loaders' own mapping, so the asset
# graph cannot drift from what ingest creates.
RAW_TABLES: dict[str, tuple[str, ...]] = {source: tuple(tables) for source, tables in runner.RAW_TABLES.items()}
UNPARTITIONED_SOURCES = {"reference/fx_rates"}  # no export-date folders

# A locked warehouse file is transient (another run, a BI tool on the working file); bad data
# never raises (it is quarantined), so anything else fails at once.
LOCK_RETRY = dg.RetryPolicy(max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL)


class IngestConfig(dg.Config):
    reload: bool = Field(
        default=False,
        description="Forget what was loaded for the selected export dates and load them again.",
    )


def raw_asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


def _is_lock_error(exc: Exception) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def quarantine_sample(con: duckdb.DuckDBPyConnection, file_paths: list[str], limit: int = 20) -> list[str]:
    """'file:record reason' of the first quarantined records of these files, for run metadata."""
    if not file_paths:
        return []
    rows = con.execute(
        "select file_path, record_no, reason from ingest.rejects where file_path in (select unnest(?)) "
        "order by file_path, record_no limit ?",
        [file_paths, limit],
    ).fetchall()
    return [f"{path}:{record_no} {reason}" for path, record_no, reason in rows]


def ingest_op_name(source: str) -> str:
    return "ingest_" + source.replace("/", "_")


def build_ingest_asset(source: str) -> dg.AssetsDefinition:
    partitioned = source not in UNPARTITIONED_SOURCES
    specs = [
        dg.AssetSpec(
            raw_asset_key(table),
            group_name="raw",
            kinds={"duckdb", "python"},
            description=f"Raw `{source}` records as delivered, one row per loaded record, all versions kept.",
        )
        for table in RAW_TABLES[source]
    ]

    @dg.multi_asset(
        name=ingest_op_name(source),
        specs=specs,
        partitions_def=export_date_partitions if partitioned else None,
        backfill_policy=dg.BackfillPolicy.single_run() if partitioned else None,
        retry_policy=LOCK_RETRY,
        description=f"Load new files of landing folder `{source}/` into raw, quarantining invalid records.",
    )
    def _ingest(context: dg.AssetExecutionContext, config: IngestConfig, warehouse: DuckDBResource):
        export_dates = context.partition_keys if partitioned else None
        try:
            with warehouse.get_connection() as con:
                if config.reload and export_dates:
                    runner.forget_export_dates(con, source, export_dates)
                summary = runner.ingest_source(con, settings.landing_dir(), source, export_dates=export_dates)
                quarantined = quarantine_sample(con, [f.file_path for f in summary.files if f.records_quarantined])
        except Exception as exc:
            if _is_lock_error(exc):
                raise dg.RetryRequested(max_retries=3, seconds_to_wait=5) from exc
            raise
        for problem in summary.malformed_files:
            context.log.warning(f"{source}: malformed file {problem}")
        if quarantined:
            context.log.warning(f"{source}: {summary.records_quarantined} records quarantined, e.g. {quarantined[0]}")
        metadata = {
            **runner.summary_metadata(summary),
            "quarantined_sample": dg.MetadataValue.md(
                "\n".join(f"- `{line}`" for line in quarantined) or "none"),
        }
        for table in RAW_TABLES[source]:
            yield dg.MaterializeResult(asset_key=raw_asset_key(table), metadata=metadata)

    return _ingest


ingest_assets = [build_ingest_asset(source) for source in settings.SOURCES]
