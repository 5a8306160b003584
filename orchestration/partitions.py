"""Daily partitions by export date: the `<YYYY-MM-DD>` folders of the landing layout."""
from __future__ import annotations

import re
from pathlib import Path

import dagster as dg

from ingest.settings import SOURCES

# Landing exports before this date cannot be partitioned; move it back for older history.
PARTITIONS_START = "2025-01-01"

export_date_partitions = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START, end_offset=1)

_DATE_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def export_dates_in_landing(landing_dir: Path) -> list[str]:
    """Every export date folder present under any dated source of the landing folder, sorted."""
    dates: set[str] = set()
    for source in SOURCES:
        folder = landing_dir / source
        if folder.is_dir():
            dates.update(p.name for p in folder.iterdir() if p.is_dir() and _DATE_FOLDER.match(p.name))
    return sorted(dates)
