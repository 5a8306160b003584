"""The finance HTML report: self-contained, the expected sections and numbers."""
from __future__ import annotations

import re

import duckdb
import pytest

from orchestration.publish import PUBLISHED_FILE, publish
from orchestration.report import write_report
from tests.orchestration.test_publish import make_warehouse


@pytest.fixture
def published(tmp_path):
    wh = make_warehouse(tmp_path / "warehouse.duckdb")
    out = tmp_path / "published"
    publish(wh, out, run_id="run-abc", as_of="2026-11-15T00:00:00Z", check_summary={"blocking_passed": 7})
    return out


def test_report_renders_sections_and_numbers(published):
    path = write_report(published / PUBLISHED_FILE, published)

    assert path == published / "reports" / "report-20261115T000000Z-run-abc.html"
    latest = published / "report.html"
    assert latest.read_text(encoding="utf-8") == path.read_text(encoding="utf-8")
    page = path.read_text(encoding="utf-8")

    # self-contained: no scripts, no external resources
    assert "<script" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert page.count("<svg") >= 3  # exceptions (count, amount), aging, cash per day

    # header: as_of and run id
    assert "2026-11-15 00:00:00 UTC" in page and "run-abc" in page
    # sections
    for anchor in ('id="exceptions"', 'id="ar-aging"', 'id="cash"', 'id="publication"'):
        assert anchor in page
    # exceptions: 6 rows; amount at risk per currency, never added across currencies:
    # CNY 1234.50 + 99 + 300 + 0 + 8800 = 10,433.50 and USD 456.78
    assert ">6</div><div class=\"l\">exceptions" in page
    assert "CNY 10,433.50<br>USD 456.78" in page
    assert "10,890.28" not in page
    assert "Amount at risk by type and severity — USD" in page
    for name in ("DUPLICATE_PAYMENT", "ORPHAN_PAYMENT", "UNAPPLIED_CASH", "AR_OVERDUE", "TXN-77", "BANK-9"):
        assert name in page
    for severity in ("critical", "high", "medium", "low"):
        assert severity in page
    # AR aging: total CNY 1000 + 250 + 712.34 + 42 - 20 = 1,984.34; past due 250 + 712.34 + 42 = 1,004.34
    assert "1,984.34" in page and "1,004.34" in page
    assert page.index(">current<") < page.index(">1-30<") < page.index(">90+<")  # bucket order
    # cash tie-out: the 10.00 difference is flagged, the zero ones are not
    assert '<td class="n off">10.00</td>' in page
    assert '<tr class="off">' in page and page.count('<tr class="off">') == 1
    assert ">1</div><div class=\"l\">rows that do not tie" in page


def test_report_tolerates_missing_and_unknown_columns(tmp_path):
    wh = make_warehouse(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(wh))
    con.execute("DROP TABLE marts.daily_cash_reconciliation")
    con.execute("""CREATE TABLE marts.daily_cash_reconciliation AS SELECT DATE '2026-11-03' AS local_date,
                   'bank' AS system, 'transfer' AS method, 5.00::DECIMAL(18,2) AS journal_cash,
                   4.00::DECIMAL(18,2) AS bank_cash, 1.00::DECIMAL(18,2) AS cash_variance,
                   'note' AS remark""")
    con.execute("UPDATE marts.reconciliation_exceptions SET severity = 'blocker' WHERE exception_id = 'e1'")
    con.execute("DROP TABLE marts.ar_aging")
    con.close()
    out = tmp_path / "published"
    publish(wh, out, run_id="r2", as_of="2026-11-15", check_summary={})
    page = write_report(out / PUBLISHED_FILE, out).read_text(encoding="utf-8")
    assert "marts.ar_aging</code> is not in this publish" in page
    assert '<td class="n off">1.00</td>' in page and "remark" in page
    assert "blocker" in page


@pytest.mark.parametrize("unread, expected", [
    (["payment/gateway/2026-11-01/txns.csv"], "Files no loader reads (1)"),
    ([], "none: every file in the landing folder was read."),
], ids=["a-misspelled-folder", "nothing-unread"])
def test_report_lists_files_no_loader_reads(tmp_path, unread, expected):
    wh = make_warehouse(tmp_path / "warehouse.duckdb")
    out = tmp_path / "published"
    publish(wh, out, run_id="r3", as_of="2026-11-15", check_summary={"unread_files": unread})
    page = write_report(out / PUBLISHED_FILE, out).read_text(encoding="utf-8")
    assert expected in page
    assert all(path in page for path in unread)


def test_report_shows_payouts_and_what_the_gateway_owes(tmp_path):
    wh = make_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(wh)) as con:
        con.execute("""CREATE TABLE marts.gateway_payouts AS SELECT * FROM (VALUES
            ('PO1', 'received', 100.00::DECIMAL(18,2), 100.00::DECIMAL(18,2), 0.00::DECIMAL(18,2)),
            ('PO2', 'not_received', 40.00::DECIMAL(18,2), NULL, NULL))
            t(payout_id, status, net_amount_cny, received_amount_cny, difference_cny)""")
    out = tmp_path / "published"
    publish(wh, out, run_id="r4", as_of="2026-11-15", check_summary={})
    from orchestration.report import render_report

    page, kpi = render_report(out / PUBLISHED_FILE)
    assert (kpi["payouts"], kpi["payouts_received"], kpi["settlement_rate"]) == (2, 1, 0.5)
    assert "Gateway payouts" in page and "50.0%" in page and "not_received" in page


def test_report_without_payouts_says_so(published):
    page = write_report(published / PUBLISHED_FILE, published).read_text(encoding="utf-8")
    assert "marts.gateway_payouts</code> is not in this publish" in page
