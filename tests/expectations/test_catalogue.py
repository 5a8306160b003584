"""The catalogue is well-formed and documented."""
from __future__ import annotations

from pathlib import Path

from expectations import ALL_SUITES, EXPECTATION_IDS, ExpectationSettings
from expectations.config import DEFAULT_HIGH_SEVERITY_TYPES
from expectations.consistency import RULES

README = Path(__file__).resolve().parents[2] / "expectations" / "README.md"


def test_ids_unique_and_every_expectation_documented():
    text = README.read_text(encoding="utf-8")
    assert len(EXPECTATION_IDS) == len(set(EXPECTATION_IDS))
    missing = [i for i in EXPECTATION_IDS if f"`{i}`" not in text]
    assert missing == []
    for exception_type in RULES:
        assert exception_type in text


def test_every_query_uses_its_batch_and_a_key_column():
    for suite in ALL_SUITES:
        for spec in suite.expectations:
            assert spec.suite == suite.name and spec.table == suite.table and spec.kind == suite.kind
            assert "{batch}" in spec.query, spec.id
            assert " as key" in spec.query, spec.id
            assert spec.severity in ("error", "warn")
            if spec.kind == "integrity":
                assert spec.severity == "error"


def test_defaults_match_the_documentation(monkeypatch):
    for var in ("O2C_STOP_LINE_RATE", "O2C_HIGH_SEVERITY_TYPES", "O2C_FRESHNESS_DAYS",
                "O2C_UNAPPLIED_CASH_DAYS", "O2C_EXPECTATION_SEVERITY", "O2C_AS_OF"):
        monkeypatch.delenv(var, raising=False)
    s = ExpectationSettings.from_env()
    assert s.stop_line_rate == 0.02 and s.freshness_days == 3 and s.unapplied_cash_days == 7
    assert s.high_severity_types == DEFAULT_HIGH_SEVERITY_TYPES
    assert set(DEFAULT_HIGH_SEVERITY_TYPES) <= set(RULES)
    monkeypatch.setenv("O2C_STOP_LINE_RATE", "0.05")
    monkeypatch.setenv("O2C_HIGH_SEVERITY_TYPES", "AR_OVERDUE, SHIPPED_NOT_INVOICED")
    s = ExpectationSettings.from_env()
    assert s.stop_line_rate == 0.05 and s.high_severity_types == ("AR_OVERDUE", "SHIPPED_NOT_INVOICED")
