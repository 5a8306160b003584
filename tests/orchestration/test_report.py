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

    # header: as_of, run id and the engine that built the marts
    assert "2026-11-15 00:00:00 UTC" in page and "run-abc" in page
    assert '<b id="engine">duckdb</b>' in page
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


def test_report_names_the_engine_that_built_the_marts(tmp_path):
    wh = make_warehouse(tmp_path / "warehouse.duckdb")
    out = tmp_path / "published"
    publish(wh, out, run_id="run-spark", as_of="2026-11-15T00:00:00Z", check_summary={}, engine="spark")
    page = write_report(out / PUBLISHED_FILE, out).read_text(encoding="utf-8")
    assert '<b id="engine">spark</b>' in page


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


# --------------------------------------------------------------------------------------------
# issue 12: the exception queue, opened / resolved per publish, open over time, auto-match rate

def add_workbench_tables(wh):
    """Small marts.exception_queue, marts.exception_history and marts.cash_matching_daily (the
    columns of issue 12 and dbt_project/models/marts/cash_matching_daily.sql)."""
    with duckdb.connect(str(wh)) as con:
        # 25 open exceptions ranked 1..25 (Q01 first) and a waived one that is not in the queue any more
        con.execute("""CREATE TABLE marts.exception_queue AS
            SELECT i AS priority_rank, 'Q' || lpad(i::VARCHAR, 2, '0') AS exception_id,
                   CASE WHEN i <= 3 THEN 'DUPLICATE_PAYMENT' ELSE 'SHIPPED_NOT_INVOICED' END AS exception_type,
                   CASE WHEN i <= 3 THEN 'high' ELSE 'medium' END AS severity,
                   'O' || lpad(i::VARCHAR, 5, '0') AS order_id, (1000 - i)::DECIMAL(18,2) AS amount_at_risk_cny,
                   30 - i AS age_days, CASE WHEN i <= 3 THEN 'treasury' ELSE 'billing' END AS owner,
                   'open' AS status
            FROM range(1, 26) t(i)
            UNION ALL SELECT 0, 'WAIVED1', 'AR_OVERDUE', 'critical', 'O99999', 5000.00, 99, 'credit', 'waived'""")
        con.execute("""CREATE TABLE marts.exception_history AS SELECT * FROM (VALUES
            ('h1', 'AR_OVERDUE', 'O1', NULL, TIMESTAMP '2026-11-05', TIMESTAMP '2026-11-05', TIMESTAMP '2026-11-10', 0, 'resolved', 'credit', 5),
            ('h2', 'AR_OVERDUE', 'O2', NULL, TIMESTAMP '2026-11-05', TIMESTAMP '2026-11-15', NULL, 0, 'open', 'credit', 10),
            ('h3', 'UNAPPLIED_CASH', NULL, 'BANK-1', TIMESTAMP '2026-11-10', TIMESTAMP '2026-11-10', TIMESTAMP '2026-11-15', 1, 'resolved', 'treasury', 2),
            ('h4', 'UNAPPLIED_CASH', NULL, 'BANK-2', TIMESTAMP '2026-11-10', TIMESTAMP '2026-11-15', NULL, 0, 'open', 'treasury', 5),
            ('h5', 'DUPLICATE_PAYMENT', 'O5', NULL, TIMESTAMP '2026-11-15', TIMESTAMP '2026-11-15', NULL, 0, 'open', 'treasury', 0),
            ('h6', 'AR_OVERDUE', 'O6', NULL, TIMESTAMP '2026-11-05', TIMESTAMP '2026-11-15', NULL, 0, 'waived', 'credit', 10))
            t(exception_id, exception_type, order_id, document_id, first_seen_as_of, last_seen_as_of,
              resolved_as_of, times_reopened, status, owner, age_days)""")
        # bank: 9/10, 1/2 (under 80 %), 4/4; payments: 5/5, 3/4, 2/2
        con.execute("""CREATE TABLE marts.cash_matching_daily AS SELECT value_date, system,
                lines_received::INTEGER AS lines_received, 0::INTEGER AS lines_matched_payout,
                lines_matched_remark::INTEGER AS lines_matched_remark, 0::INTEGER AS lines_matched_counterparty,
                lines_matched_order::INTEGER AS lines_matched_order, lines_unmatched::INTEGER AS lines_unmatched,
                round((lines_received - lines_unmatched) / lines_received, 4)::DECIMAL(9,4) AS auto_match_rate,
                (100 * lines_received)::DECIMAL(18,2) AS amount_received_cny,
                (100 * lines_unmatched)::DECIMAL(18,2) AS amount_unmatched_cny
            FROM (VALUES (DATE '2026-11-13', 'bank', 10, 9, 9, 1), (DATE '2026-11-14', 'bank', 2, 1, 1, 1),
                         (DATE '2026-11-15', 'bank', 4, 4, 4, 0), (DATE '2026-11-13', 'payments', 5, 0, 5, 0),
                         (DATE '2026-11-14', 'payments', 4, 0, 3, 1), (DATE '2026-11-15', 'payments', 2, 0, 2, 0))
                 t(value_date, system, lines_received, lines_matched_remark, lines_matched_order, lines_unmatched)""")
    return wh


@pytest.fixture
def workbench(tmp_path):
    wh = add_workbench_tables(make_warehouse(tmp_path / "warehouse.duckdb"))
    out = tmp_path / "published"
    publish(wh, out, run_id="run-wb", as_of="2026-11-15T00:00:00Z", check_summary={})
    return out


def _tds(*cells) -> str:
    """A table row's cells as the report writes them (numbers right-aligned)."""
    return "".join(f'<td class="n">{c}</td>' if isinstance(c, int) else f"<td>{c}</td>" for c in cells)


def _section(page: str, anchor: str) -> str:
    start = page.index(f'<section id="{anchor}">')
    return page[start:page.index("</section>", start)]


def test_report_shows_the_exception_queue_by_priority(workbench):
    from orchestration.report import render_report

    page, info = render_report(workbench / PUBLISHED_FILE)
    queue = _section(page, "queue")
    assert info["queue_open"] == 25 and info["queue_oldest_age_days"] == 29
    assert info["queue_amount_at_risk_cny"] == sum(1000 - i for i in range(1, 26))  # 24,675.00
    assert ">25</div><div class=\"l\">open exceptions in the queue" in queue and "24,675.00" in queue
    for column in ("priority_rank", "exception_id", "exception_type", "severity", "order_id",
                   "amount_at_risk_cny", "age_days", "owner"):
        assert f">{column}</th>" in queue
    # the top 20 in priority order, each with its owner and age; the 21st and the waived one are not shown
    assert queue.count("<tr><td") == 20
    assert ('<tr><td class="n">1</td><td>Q01</td><td>DUPLICATE_PAYMENT</td><td>high</td><td>O00001</td>'
            '<td class="n">999.00</td><td class="n">29</td><td>treasury</td></tr>') in queue
    positions = [queue.index(f"<td>Q{i:02d}</td>") for i in range(1, 21)]
    assert positions == sorted(positions)
    assert "<td>Q21</td>" not in queue and "WAIVED1" not in queue


def test_report_shows_opened_resolved_and_open_per_publish(workbench):
    from orchestration.report import render_report

    page, info = render_report(workbench / PUBLISHED_FILE)
    lifecycle = _section(page, "lifecycle")
    # 11-05: h1 h2 h6 opened, open h1 h2 (h6 is waived); 11-10: h3 h4 opened, h1 resolved;
    # 11-15: h5 opened, h3 resolved, open h2 h4 h5
    assert _tds("2026-11-05 00:00:00", 3, 0, 2) in lifecycle
    assert _tds("2026-11-10 00:00:00", 2, 1, 3) in lifecycle
    assert _tds("2026-11-15 00:00:00", 1, 1, 3) in lifecycle
    assert (info["history_open"], info["history_resolved"], info["history_waived"], info["history_reopened"],
            info["opened_latest"], info["resolved_latest"], info["history_publishes"]) == (3, 2, 1, 1, 1, 1, 3)
    assert _tds("AR_OVERDUE", 1, 1, 1, 0, 10) in lifecycle
    # two charts (opened / resolved per publish, open over time), static SVG with the publishes on the axis
    assert lifecycle.count("<svg") == 2 and lifecycle.count("</svg>") == 2
    assert "2026-11-10 00:00:00</text>" in lifecycle and ">resolved</text>" in lifecycle


def test_per_publish_counts_come_from_the_published_log_when_there_is_one(tmp_path):
    """With history.exception_observations (what o2c publishes), a resolve that is later reopened
    still counts as resolved at its publish, and as opened again when it comes back."""
    from orchestration.report import render_report

    wh = add_workbench_tables(make_warehouse(tmp_path / "warehouse.duckdb"))
    with duckdb.connect(str(wh)) as con:
        con.execute("CREATE SCHEMA history")
        # r1: listed at 11-05, gone at 11-10, back at 11-15 (reopened); h6 is waived (not counted open)
        con.execute("""CREATE TABLE history.exception_observations AS SELECT * FROM (VALUES
            (TIMESTAMP '2026-11-05', 'r1'), (TIMESTAMP '2026-11-15', 'r1'),
            (TIMESTAMP '2026-11-05', 'h6'), (TIMESTAMP '2026-11-10', 'h6'), (TIMESTAMP '2026-11-15', 'h6'),
            (TIMESTAMP '2026-11-10', 'h4'), (TIMESTAMP '2026-11-15', 'h4'))
            t(as_of, exception_id)""")
    out = tmp_path / "published"
    publish(wh, out, run_id="run-log", as_of="2026-11-15T00:00:00Z", check_summary={})
    lifecycle = _section(render_report(out / PUBLISHED_FILE)[0], "lifecycle")
    assert _tds("2026-11-05 00:00:00", 2, 0, 1) in lifecycle
    assert _tds("2026-11-10 00:00:00", 1, 1, 1) in lifecycle
    assert _tds("2026-11-15 00:00:00", 1, 0, 2) in lifecycle


def test_report_shows_the_auto_match_rate_over_time(workbench):
    from orchestration.report import render_report

    page, info = render_report(workbench / PUBLISHED_FILE)
    matching = _section(page, "matching")
    # bank 14 of 16 lines matched = 87.5 %; payments 10 of 11 = 90.9 %; one bank day under 80 %
    assert info["match_rate"] == {"bank": 0.875, "payments": pytest.approx(10 / 11)}
    assert info["match_days_under_target"] == 1 and info["match_latest_bank_rate"] == 1.0
    assert ">87.5%</div><div class=\"l\">bank: matched automatically" in matching
    assert ">90.9%</div><div class=\"l\">payments: matched automatically" in matching
    assert ">1 of 3</div><div class=\"l\">bank days under the 80.0% target" in matching
    # the day under the target is shaded, and only that one
    assert matching.count('<tr class="under">') == 1
    assert '<tr class="under"><td>2026-11-14</td><td>bank</td><td class="n">2</td>' in matching
    assert '<td class="n">50.0%</td>' in matching
    assert matching.count("<svg") == 1 and "bank target 80.0%</text>" in matching


def test_report_workbench_sections_without_their_tables_say_not_available(published):
    page = write_report(published / PUBLISHED_FILE, published).read_text(encoding="utf-8")
    for anchor, table in (("queue", "marts.exception_queue"), ("lifecycle", "marts.exception_history"),
                          ("matching", "marts.cash_matching_daily")):
        section = _section(page, anchor)
        assert f"Not available: table <code>{table}</code> is not in this publish." in section
        assert "<svg" not in section and "<table" not in section


def test_report_escapes_what_the_data_says(tmp_path):
    """Autoescape: a value from the warehouse is text, never markup."""
    wh = add_workbench_tables(make_warehouse(tmp_path / "warehouse.duckdb"))
    with duckdb.connect(str(wh)) as con:
        con.execute("UPDATE marts.exception_queue SET owner = '<script>alert(1)</script>' WHERE priority_rank = 1")
    out = tmp_path / "published"
    publish(wh, out, run_id="r<b>", as_of="2026-11-15", check_summary={})
    page = write_report(out / PUBLISHED_FILE, out).read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "r&lt;b&gt;" in page
