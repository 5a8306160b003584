"""Settings of the expectation suites (environment variables, all optional).

| variable | default | meaning |
|---|---|---|
| `O2C_STOP_LINE_RATE` | `0.02` | stop the line: block publishing when more than this share of orders has a high-severity exception |
| `O2C_HIGH_SEVERITY_TYPES` | see `DEFAULT_HIGH_SEVERITY_TYPES` | comma-separated exception types counted by the stop-the-line rule |
| `O2C_FRESHNESS_DAYS` | `3` | every source must have data no older than this many days before as_of |
| `O2C_UNAPPLIED_CASH_DAYS` | `7` | unapplied bank receipts older than this many days are reported |
| `O2C_MIN_MATCH_RATE` | `0.80` | a day whose bank auto-match rate is below this is reported (warn) |
| `O2C_EXPECTATION_SEVERITY` | (none) | overrides, e.g. `DUPLICATE_PAYMENT=error,no_stale_unapplied_cash=error` (consistency only, by exception type or expectation id; integrity is always error) |
| `O2C_AS_OF` | from the data | the as_of instant (read through `ingest.settings`) |
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime

# Exception types counted by the stop-the-line rule: the customer's money is wrong right now
# (charged twice, charged the wrong amount, charged for a cancelled order, refunded while the
# invoice still claims it). Reasons in README.md.
DEFAULT_HIGH_SEVERITY_TYPES: tuple[str, ...] = (
    "DUPLICATE_PAYMENT",
    "PAYMENT_AMOUNT_MISMATCH",
    "CANCELLED_BUT_CAPTURED",
    "REFUND_WITHOUT_CREDIT_NOTE",
)


def _float(var: str, default: float) -> float:
    raw = os.environ.get(var, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{var}={raw!r} is not a number") from exc
    if value < 0:
        raise ValueError(f"{var}={raw!r} must be >= 0")
    return value


def _overrides(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, _, sev = item.partition("=")
        sev = sev.strip().lower()
        if sev not in ("error", "warn"):
            raise ValueError(f"O2C_EXPECTATION_SEVERITY: {item!r} must be NAME=error or NAME=warn")
        out[name.strip()] = sev
    return out


@dataclass(frozen=True)
class ExpectationSettings:
    stop_line_rate: float = 0.02
    high_severity_types: tuple[str, ...] = DEFAULT_HIGH_SEVERITY_TYPES
    freshness_days: int = 3
    unapplied_cash_days: int = 7
    min_match_rate: float = 0.80
    severity_overrides: dict[str, str] = field(default_factory=dict)
    as_of: datetime | None = None  # naive UTC; None: derived from the warehouse

    @classmethod
    def from_env(cls) -> "ExpectationSettings":
        from ingest import settings as ingest_settings

        types_raw = os.environ.get("O2C_HIGH_SEVERITY_TYPES", "").strip()
        types = tuple(t.strip() for t in types_raw.split(",") if t.strip()) if types_raw else DEFAULT_HIGH_SEVERITY_TYPES
        as_of = ingest_settings.as_of_override()
        return cls(
            stop_line_rate=_float("O2C_STOP_LINE_RATE", 0.02),
            high_severity_types=types,
            freshness_days=int(_float("O2C_FRESHNESS_DAYS", 3)),
            unapplied_cash_days=int(_float("O2C_UNAPPLIED_CASH_DAYS", 7)),
            min_match_rate=_float("O2C_MIN_MATCH_RATE", 0.80),
            severity_overrides=_overrides(os.environ.get("O2C_EXPECTATION_SEVERITY", "")),
            as_of=as_of.replace(tzinfo=None) if as_of else None,
        )
