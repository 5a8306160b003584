"""The catalogue of suites, with settings filled in. No Great Expectations import here."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from string import Template

from expectations.config import ExpectationSettings
from expectations.consistency import CONSISTENCY_SUITES
from expectations.integrity import INTEGRITY_SUITES
from expectations.model import ExpectationSpec, SuiteSpec

ALL_SUITES: tuple[SuiteSpec, ...] = INTEGRITY_SUITES + CONSISTENCY_SUITES
SUITE_NAMES: tuple[str, ...] = tuple(s.name for s in ALL_SUITES)
EXPECTATION_IDS: tuple[str, ...] = tuple(e.id for s in ALL_SUITES for e in s.expectations)
assert len(set(EXPECTATION_IDS)) == len(EXPECTATION_IDS), "expectation ids must be unique"


def _params(settings: ExpectationSettings, as_of: datetime) -> dict[str, str]:
    types = settings.high_severity_types
    return {
        "as_of": f"TIMESTAMP '{as_of:%Y-%m-%d %H:%M:%S}'",
        "as_of_text": f"{as_of:%Y-%m-%d %H:%M:%S} UTC",
        "freshness_days": str(int(settings.freshness_days)),
        "unapplied_cash_days": str(int(settings.unapplied_cash_days)),
        "min_match_rate": repr(float(settings.min_match_rate)),
        "stop_line_rate": repr(float(settings.stop_line_rate)),
        "stop_line_pct": f"{100 * settings.stop_line_rate:g}%",
        "high_severity_types": ", ".join(types),
        "high_severity_sql": ", ".join("'" + t.replace("'", "''") + "'" for t in types) or "NULL",
    }


def _resolve(spec: ExpectationSpec, params: dict[str, str], overrides: dict[str, str]) -> ExpectationSpec:
    severity = spec.severity
    if spec.kind == "consistency":  # integrity is always blocking: no override
        severity = overrides.get(spec.id, overrides.get(spec.exception_type or "", severity))  # type: ignore[assignment]
    return replace(
        spec,
        severity=severity,
        query=Template(spec.query).safe_substitute(params),
        description=Template(spec.description).safe_substitute(params),
    )


def build_suites(settings: ExpectationSettings, as_of: datetime,
                 names: list[str] | tuple[str, ...] | None = None) -> list[SuiteSpec]:
    """The suites (all, or those named) with `${...}` settings substituted and severities resolved.

    `names` may hold suite names (`integrity.ledger_entries`), kinds (`integrity`,
    `consistency`) or guarded tables (`marts.order_ledger`).
    """
    chosen = list(ALL_SUITES)
    if names:
        wanted = set(names)
        unknown = wanted - {s.name for s in chosen} - {s.kind for s in chosen} - {s.table for s in chosen}
        if unknown:
            raise ValueError(f"unknown suite(s) {sorted(unknown)}; known: {', '.join(SUITE_NAMES)}")
        chosen = [s for s in chosen if s.name in wanted or s.kind in wanted or s.table in wanted]
    params = _params(settings, as_of)
    return [
        replace(s, expectations=tuple(_resolve(e, params, settings.severity_overrides) for e in s.expectations))
        for s in chosen
    ]
