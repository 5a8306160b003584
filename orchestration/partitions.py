"""Partitions by export date that follow the data: one partition per `<YYYY-MM-DD>` folder present
in the landing folder (Dagster dynamic partitions), whatever its year, added by the landing
sensor and by `make run` as dates appear.

Why dynamic, not daily: a daily calendar refuses history before its start date and dates ahead
of the clock, and makes a run over a sparse history write one materialization per calendar day
(3,000 orders over 23 export dates in 700 days: 7,000 events). Dynamic partitions are exactly
the dates that exist.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg

from ingest.runner import is_export_date  # a real calendar date (`2026-02-30` is not)
from ingest.settings import SOURCES

EXPORT_DATE_PARTITIONS = "export_date"
export_date_partitions = dg.DynamicPartitionsDefinition(name=EXPORT_DATE_PARTITIONS)


def export_dates_in_landing(landing_dir: Path) -> list[str]:
    """Every export date folder present under any dated source of the landing folder, sorted."""
    dates: set[str] = set()
    for source in SOURCES:
        folder = landing_dir / source
        if folder.is_dir():
            dates.update(p.name for p in folder.iterdir() if p.is_dir() and is_export_date(p.name))
    return sorted(dates)


def register_export_dates(instance: dg.DagsterInstance, dates: list[str]) -> list[str]:
    """Make `dates` partitions of the instance, keeping every partition in date order.

    Dagster orders dynamic partitions by insertion, and a partition range (one run over many
    dates) is a range in that order: so new dates later than every known one are appended, and
    an older date arriving later (history loaded after recent days) re-inserts all of them in
    date order. Materialization history is keyed by the date string and survives. Returns the
    dates that were new.
    """
    known = list(instance.get_dynamic_partitions(EXPORT_DATE_PARTITIONS))
    new = sorted(set(dates) - set(known))
    if not new:
        return []
    if not known or new[0] > max(known):
        instance.add_dynamic_partitions(EXPORT_DATE_PARTITIONS, new)
        return new
    for key in known:
        instance.delete_dynamic_partition(EXPORT_DATE_PARTITIONS, key)
    instance.add_dynamic_partitions(EXPORT_DATE_PARTITIONS, sorted(set(known) | set(new)))
    return new


def dates_ahead_of(dates: list[str], today: date | None = None) -> list[str]:
    """Export dates later than today: valid (a replay, a test folder, a time-zone edge), worth a warning."""
    today = today or date.today()
    return [d for d in dates if date.fromisoformat(d) > today]
