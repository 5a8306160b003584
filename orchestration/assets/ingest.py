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


DATED_SOURCES = tuple(source for source in settings.SOURCES if source not in UNPARTITIONED_SOURCES)


def ingest_op_name(sources: str | tuple[str, ...]) -> str:
    if isinstance(sources, str):
        sources = (sources,)
    if tuple(sources) == DATED_SOURCES:
        return "ingest_landing"
    return "ingest_" + "__".join(source.replace("/", "_") for source in sources)


def build_ingest_asset(sources: str | tuple[str, ...]) -> dg.AssetsDefinition:
    """One op that ingests these sources together (their loads overlap, as in `python -m ingest`)
    and reports one materialization per raw table, so the UI keeps a per-table view.

    Why one op for every dated source: one op per source ran them one after another and lost
    the overlap the CLI has (100k orders: 48 s orchestrated against 26 s bare, issue 11).
    """
    sources = (sources,) if isinstance(sources, str) else tuple(sources)
    partitioned = not any(source in UNPARTITIONED_SOURCES for source in sources)
    specs = [
        dg.AssetSpec(
            raw_asset_key(table),
            group_name="raw",
            kinds={"duckdb", "python"},
            description=f"Raw `{source}` records as delivered, one row per loaded record, all versions kept.",
        )
        for source in sources
        for table in RAW_TABLES[source]
    ]
    folders = ", ".join(f"`{source}/`" for source in sources)

    @dg.multi_asset(
        name=ingest_op_name(sources),
        specs=specs,
        partitions_def=export_date_partitions if partitioned else None,
        backfill_policy=dg.BackfillPolicy.single_run() if partitioned else None,
        retry_policy=LOCK_RETRY,
        description=f"Load new files of landing folder(s) {folders} into raw, quarantining invalid records.",
    )
    def _ingest(context: dg.AssetExecutionContext, config: IngestConfig, warehouse: DuckDBResource):
        export_dates = context.partition_keys if partitioned else None
        try:
            with warehouse.get_connection() as con:
                if config.reload and export_dates:
                    for source in sources:
                        runner.forget_export_dates(con, source, export_dates)
                summaries = runner.ingest_all(con, settings.landing_dir(), export_dates=export_dates, sources=sources,
                                              published_file=settings.published_file())
                quarantined = {
                    source: quarantine_sample(con, [f.file_path for f in summary.files if f.records_quarantined])
                    for source, summary in summaries.items()
                }
        except Exception as exc:
            if _is_lock_error(exc):
                raise dg.RetryRequested(max_retries=3, seconds_to_wait=5) from exc
            raise
        for source, summary in summaries.items():
            for problem in summary.malformed_files:
                context.log.warning(f"{source}: malformed file {problem}")
            if quarantined[source]:
                context.log.warning(f"{source}: {summary.records_quarantined} records quarantined, "
                                    f"e.g. {quarantined[source][0]}")
            metadata = {
                "source": source,
                **runner.summary_metadata(summary),
                "quarantined_sample": dg.MetadataValue.md(
                    "\n".join(f"- `{line}`" for line in quarantined[source]) or "none"),
            }
            for table in RAW_TABLES[source]:
                yield dg.MaterializeResult(asset_key=raw_asset_key(table), metadata=metadata)

    return _ingest


ingest_assets = [build_ingest_asset(DATED_SOURCES),
                 *(build_ingest_asset(source) for source in settings.SOURCES if source in UNPARTITIONED_SOURCES)]
