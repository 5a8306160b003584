"""The one place that reads o2c's environment settings (see docs/architecture.md)."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

SOURCES: tuple[str, ...] = (
    "oms/orders",
    "oms/order_events",
    "payments/gateway",
    "payments/bank",
    "payments/payouts",  # revision 2: optional, a company may export no settlement reports
    "wms/shipments",
    "wms/tracking",
    "erp/invoices",
    "reference/fx_rates",
    "finance/resolutions",  # issue 12: finance decisions on published exceptions, when there are any
)
PUBLISHED_FILE_NAME = "o2c.duckdb"


def _path(var: str, default: str) -> Path:
    return Path(os.environ.get(var) or default).expanduser().resolve()


def landing_dir() -> Path:
    return _path("O2C_LANDING_DIR", "data/landing")


def warehouse_path() -> Path:
    return _path("O2C_WAREHOUSE", "data/warehouse.duckdb")


def publish_dir() -> Path:
    return _path("O2C_PUBLISH_DIR", "data/published")


def published_file() -> Path:
    """The published DuckDB file BI tools read; it also carries the exception history."""
    return publish_dir() / PUBLISHED_FILE_NAME


def as_of_override() -> datetime | None:
    """`O2C_AS_OF` as an aware UTC datetime, or None (then as_of comes from the data)."""
    raw = os.environ.get("O2C_AS_OF", "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"O2C_AS_OF={raw!r} is not an ISO 8601 timestamp") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def engine() -> str:
    """`O2C_ENGINE`: `duckdb` (default) or `spark` (docs/spark.md)."""
    value = (os.environ.get("O2C_ENGINE") or "duckdb").strip().lower()
    if value not in ("duckdb", "spark"):
        raise ValueError(f"O2C_ENGINE={value!r}: expected duckdb or spark")
    return value


def spark_dir() -> Path:
    """Everything the Spark engine writes (raw Parquet, warehouse, metastore): `O2C_SPARK_DIR`,
    by default `spark/` next to the working warehouse, so each warehouse has its own."""
    raw = os.environ.get("O2C_SPARK_DIR")
    return Path(raw).expanduser().resolve() if raw else warehouse_path().parent / "spark"
