"""Plain data types of the expectation suites: no Great Expectations import here (it is slow).

An expectation is one SQL query over the warehouse whose rows are the *unexpected* rows
(Great Expectations' `UnexpectedRowsExpectation`): it passes when the query returns no row.
By convention the first column of every query is `key` (VARCHAR), the identifier of the
offending row (an order_id, a file path, an entry_id, ...), so results can carry a sample of
offending keys. `{batch}` in a query is the guarded table (Great Expectations substitutes the
batch of the suite's query asset); every other table is named in full (`marts.order_ledger`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warn"]
Kind = Literal["integrity", "consistency"]

SAMPLE_SIZE = 20


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation: what it checks (SQL), what it guards, and how bad a failure is."""

    id: str                 # stable identifier, unique across all suites (snake_case)
    suite: str              # e.g. "integrity.ledger_entries"
    kind: Kind
    table: str              # the table it guards, schema-qualified, e.g. "marts.ledger_entries"
    severity: Severity      # "error" blocks publishing, "warn" is reported
    description: str
    query: str              # unexpected-rows SQL; first column `key`; `{batch}` = the guarded table
    exception_type: str | None = None  # consistency expectations: the exceptions.md type

    @property
    def blocking(self) -> bool:
        return self.severity == "error"


@dataclass(frozen=True)
class SuiteSpec:
    name: str               # e.g. "integrity.ledger_entries"
    kind: Kind
    table: str              # guarded table; the batch every query's `{batch}` refers to
    expectations: tuple[ExpectationSpec, ...]


@dataclass
class ExpectationResult:
    """The outcome of one expectation on one warehouse."""

    suite: str
    expectation_id: str
    table: str
    severity: Severity
    blocking: bool          # True when this expectation blocks publishing if it fails (severity error)
    success: bool
    unexpected_count: int   # number of unexpected rows (-1 when the query could not run)
    sample_keys: list[str] = field(default_factory=list)  # up to 20 offending keys, sorted
    description: str = ""
    kind: Kind = "integrity"
    exception_type: str | None = None
    error: str | None = None  # set when the query failed to run (counts as a failure)

    @property
    def blocks_publishing(self) -> bool:
        return self.blocking and not self.success

    @property
    def status(self) -> str:
        if self.success:
            return "pass"
        if self.error:
            return "error"
        return "FAIL" if self.blocking else "warn"

    def to_metadata(self) -> dict[str, object]:
        """JSON-friendly dict (Dagster check metadata, logs)."""
        return {
            "suite": self.suite,
            "expectation_id": self.expectation_id,
            "table": self.table,
            "severity": self.severity,
            "blocking": self.blocking,
            "success": self.success,
            "unexpected_count": self.unexpected_count,
            "sample_keys": list(self.sample_keys),
            "description": self.description,
            "exception_type": self.exception_type,
            "error": self.error,
        }


def blocking_failures(results: list[ExpectationResult]) -> list[ExpectationResult]:
    """The failed expectations that block publishing (severity `error`, including queries that errored)."""
    return [r for r in results if r.blocks_publishing]
