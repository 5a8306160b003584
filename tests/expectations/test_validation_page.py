"""o2c's own page of the validation results: self-contained, every suite and expectation with its
result, observed value and sample keys (the browser test is tests/browser/test_offline_pages.py)."""
from __future__ import annotations

import re
from datetime import datetime

from expectations.html import render_validation_page, write_validation_page
from expectations.model import ExpectationResult


def _result(suite, eid, *, success=True, severity="error", count=0, keys=(), error=None, kind="integrity"):
    return ExpectationResult(suite=suite, expectation_id=eid, table="marts." + suite.split(".")[1],
                             severity=severity, blocking=severity == "error", success=success,
                             unexpected_count=count, sample_keys=list(keys), description=f"checks {eid} <&>",
                             kind=kind, error=error)


RESULTS = [
    _result("integrity.ledger_entries", "ledger_entry_balances", success=False, count=3, keys=["LE1", "LE2", "LE3"]),
    _result("integrity.ledger_entries", "ledger_entries_key_unique"),
    _result("consistency.reconciliation_exceptions", "no_stale_unapplied_cash", success=False, severity="warn",
            count=25, keys=[f"BANK-{i}" for i in range(20)], kind="consistency"),
    _result("consistency.cash_matching_daily", "bank_auto_match_rate_at_target", success=False, count=-1,
            error="table marts.cash_matching_daily does not exist", kind="consistency"),
]


def test_page_lists_every_suite_and_expectation_with_its_result():
    page = render_validation_page(RESULTS, as_of=datetime(2026, 11, 15), warehouse="/w/wh.duckdb",
                                  queries={"ledger_entry_balances": "select entry_id as key from {batch} where x < 1"})
    for suite in ("integrity.ledger_entries", "consistency.reconciliation_exceptions",
                  "consistency.cash_matching_daily"):
        assert f'data-suite="{suite}"' in page
    rows = dict(re.findall(r'data-expectation="([a-z_]+)" data-status="([A-Za-z]+)"', page))
    assert rows == {"ledger_entry_balances": "FAIL", "ledger_entries_key_unique": "pass",
                    "no_stale_unapplied_cash": "warn", "bank_auto_match_rate_at_target": "error"}
    # observed value, the sample of keys (and that it is a sample), the error, the SQL, escaped text
    assert '<td class="n">3</td>' in page and "LE1, LE2, LE3" in page
    assert '<td class="n">25</td>' in page and "(first 20 of 25)" in page
    assert '<td class="n">n/a</td>' in page and "does not exist" in page
    assert "where x &lt; 1" in page and "checks ledger_entry_balances &lt;&amp;&gt;" in page
    assert '<div class="v" id="passed">1</div>' in page and '<div class="v" id="blocking">2</div>' in page
    assert '<div class="v" id="warnings">1</div>' in page
    assert "Publishing is blocked" in page and "2026-11-15 00:00:00 UTC" in page
    # self-contained: no script, no stylesheet link, no URL to another host
    assert "<script" not in page and "<link" not in page
    assert not re.search(r"(https?:)?//", page.replace("</", "")), "the page must name no URL"


def test_page_says_publishing_may_proceed_when_nothing_blocks(tmp_path):
    path = write_validation_page(RESULTS[1:3], tmp_path / "out" / "validation_results.html", data_docs=None)
    page = path.read_text(encoding="utf-8")
    assert "No blocking expectation failed" in page and "Data Docs" not in page
