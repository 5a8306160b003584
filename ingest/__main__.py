"""`python -m ingest --landing DIR --warehouse FILE`: ingest every source of a landing folder."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from ingest import runner, settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__)
    parser.add_argument("--landing", type=Path, default=None, help="landing folder (default: O2C_LANDING_DIR)")
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default: O2C_WAREHOUSE)")
    parser.add_argument("--export-date", action="append", dest="export_dates", metavar="YYYY-MM-DD",
                        help="only these export date folders (repeatable)")
    parser.add_argument("--published", type=Path, default=None,
                        help="published file whose exception history is carried in (default: O2C_PUBLISH_DIR/o2c.duckdb)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    landing = (args.landing or settings.landing_dir()).resolve()
    warehouse = (args.warehouse or settings.warehouse_path()).resolve()
    if not landing.is_dir():
        parser.error(f"landing folder {landing} does not exist")
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    # The connection is closed before we return: DuckDB holds a file lock that dbt needs.
    with duckdb.connect(str(warehouse)) as con:
        summaries = runner.ingest_all(con, landing, args.export_dates, progress=not args.no_progress,
                                     published_file=(args.published or settings.published_file()).resolve())
    print(f"{'source':<20} {'files':>5} {'new':>4} {'read':>10} {'loaded':>10} {'quarant.':>9} {'skipped':>9}")
    for source, summary in summaries.items():
        new = len(summary.files) - len(summary.files_with_status("unchanged"))
        print(f"{source:<20} {len(summary.files):>5} {new:>4} {summary.records_read:>10} {summary.records_loaded:>10} "
              f"{summary.records_quarantined:>9} {summary.repeats_skipped:>9}")
    problems = [problem for summary in summaries.values() for problem in summary.malformed_files]
    for problem in problems:
        print(f"malformed file: {problem}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
