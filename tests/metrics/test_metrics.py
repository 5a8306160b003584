"""Every finance metric, computed by MetricFlow from its one definition (dbt_project/models/semantic),
equals the same number computed by plain SQL on the published marts, for at least two groupings.
Runs on the published file of the shared end-to-end pipeline run (tests/conftest.py)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from metrics import parse_question, run_query
from metrics.query import DBT_PROJECT_DIR, MetricQuery, MetricQueryError, _warehouse_catalog

pytestmark = pytest.mark.slow

ORDERS = "marts.order_ledger"
LEDGER = "marts.ledger_entries"
EXCEPTIONS = "marts.reconciliation_exceptions"
MONTH_END_AR = f"""
with months as (select distinct date_trunc('month', date_day) as m from marts.metricflow_time_spine)
select cast(m as date) as month,
       (select sum(debit_cny - credit_cny) from {LEDGER}
         where account = '1200' and posted_on < m + interval 1 month) as ar
from months"""

# (id, question, plain SQL giving the same rows: group-by keys first, then one column per metric)
CASES = [
    ("net_revenue-by-channel", "net_revenue_cny by channel",
     f"""select o.channel, sum(l.credit_cny - l.debit_cny) from {LEDGER} l left join {ORDERS} o using (order_id)
         where l.account in ('4000', '4100') group by all"""),
    ("net_revenue-by-month", "net_revenue_cny by month",
     f"""select date_trunc('month', posted_on), sum(credit_cny - debit_cny) from {LEDGER}
         where account in ('4000', '4100') group by all"""),
    ("vat_payable-by-month", "vat_payable_cny by month",
     f"""select date_trunc('month', posted_on), sum(credit_cny - debit_cny) from {LEDGER}
         where account = '2200' group by all"""),
    ("vat_payable-by-channel", "vat_payable_cny by channel",
     f"""select o.channel, sum(l.credit_cny - l.debit_cny) from {LEDGER} l left join {ORDERS} o using (order_id)
         where l.account = '2200' group by all"""),
    ("cash_received-by-entry_type", "cash_received_cny by entry_type",
     f"""select entry_type, sum(debit_cny - credit_cny) from {LEDGER}
         where account in ('1100', '1110') and entry_type in ('capture', 'refund', 'bank_receipt', 'unapplied_cash')
         group by all"""),
    ("cash_received-by-day", "cash_received_cny by day",
     f"""select posted_on, sum(debit_cny - credit_cny) from {LEDGER}
         where account in ('1100', '1110') and entry_type in ('capture', 'refund', 'bank_receipt', 'unapplied_cash')
         group by all"""),
    ("ar_outstanding-total", "ar_outstanding_cny",
     f"select sum(debit_cny - credit_cny) from {LEDGER} where account = '1200'"),
    ("ar_outstanding-by-month", "ar_outstanding_cny by month", f"select month, ar from ({MONTH_END_AR})"),
    ("dso-by-month", "days_sales_outstanding by month",
     f"""select a.month, a.ar * 30 / nullif(r.rev, 0) from ({MONTH_END_AR}) a
         left join (select cast(date_trunc('month', posted_on) as date) as month, sum(credit_cny - debit_cny) as rev
                    from {LEDGER} where account in ('4000', '4100') group by all) r using (month)"""),
    ("exception_count-by-type", "exception_count by exception_type",
     f"select exception_type, count(*) from {EXCEPTIONS} group by all"),
    ("exception_count-by-severity", "exception_count by severity",
     f"select severity, count(*) from {EXCEPTIONS} group by all"),
    ("amount_at_risk-by-type", "amount_at_risk_cny by exception_type",
     f"select exception_type, sum(amount_at_risk_cny) from {EXCEPTIONS} group by all"),
    ("amount_at_risk-by-channel", "amount_at_risk_cny by channel",
     f"""select o.channel, sum(e.amount_at_risk_cny) from {EXCEPTIONS} e left join {ORDERS} o using (order_id)
         group by all"""),
    ("exception_rate-total", "exception_rate",
     f"select sum(case when exception_count > 0 then 1 else 0 end) / count(*) from {ORDERS}"),
    ("exception_rate-by-channel", "exception_rate by channel",
     f"select channel, sum(case when exception_count > 0 then 1 else 0 end) / count(*) from {ORDERS} group by all"),
    ("auto_match_rate-by-system", "auto_match_rate by system",
     "select system, sum(lines_received - lines_unmatched) / sum(lines_received) from marts.cash_matching_daily group by all"),
    ("auto_match_rate-by-day", "auto_match_rate by day",
     "select value_date, sum(lines_received - lines_unmatched) / sum(lines_received) from marts.cash_matching_daily group by all"),
    ("shipped_not_invoiced-total", "orders_shipped_not_invoiced",
     f"select count(distinct order_id) from {EXCEPTIONS} where exception_type = 'SHIPPED_NOT_INVOICED'"),
    ("shipped_not_invoiced-by-channel", "orders_shipped_not_invoiced by channel",
     f"""select o.channel, count(distinct e.order_id) from {EXCEPTIONS} e left join {ORDERS} o using (order_id)
         where e.exception_type = 'SHIPPED_NOT_INVOICED' group by all"""),
]


def _key(value) -> str:
    """Group-by values as MetricFlow's CSV writes them: dates as YYYY-MM-DD, null as ''."""
    if value is None:
        return ""
    text = str(value)
    return text[:10] if len(text) >= 10 and text[4] == "-" and text[7] == "-" else text


def _number(value) -> float | None:
    return None if value in (None, "") else float(value)


@pytest.fixture(scope="module")
def published(pipeline_workspace) -> Path:
    tmp, _, _ = pipeline_workspace
    return tmp / "published" / "o2c.duckdb"


@pytest.fixture(scope="module")
def answers(published) -> dict[tuple[str, ...], list[dict[str, str]]]:
    """One `mf query` per grouping, asking every metric of CASES grouped that way at once (a
    MetricFlow process costs ~4 s to start; each metric is still compared on its own below)."""
    metrics_by_grouping: dict[tuple[str, ...], list[str]] = {}
    for _, question, _ in CASES:
        query = parse_question(question)
        metrics_by_grouping.setdefault(query.group_by, []).extend(query.metrics)
    return {group_by: run_query(MetricQuery(tuple(dict.fromkeys(metrics)), group_by), published)
            for group_by, metrics in metrics_by_grouping.items()}


@pytest.mark.parametrize("question, sql", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_metric_equals_plain_sql_on_the_marts(published, answers, question, sql):
    query = parse_question(question)
    rows = answers[query.group_by]
    got = {tuple(_key(r[g]) for g in query.group_by): _number(r[query.metrics[0]]) for r in rows}
    con = duckdb.connect(str(published), read_only=True)
    try:
        expected_rows = con.execute(sql).fetchall()
    finally:
        con.close()
    width = len(query.group_by)
    expected = {tuple(_key(v) for v in row[:width]): _number(row[width]) for row in expected_rows}
    # MetricFlow leaves out groups whose value is null; so does a sum over no rows
    expected = {k: v for k, v in expected.items() if v is not None}
    got = {k: v for k, v in got.items() if v is not None}
    assert expected, f"plain SQL found nothing for {question!r}: the sample must exercise it"
    assert got.keys() == expected.keys()
    mismatches = {k: (got[k], expected[k]) for k in expected if abs(got[k] - expected[k]) > 0.005}
    assert mismatches == {}


def test_semantic_models_validate_against_the_published_file(published):
    env = {**os.environ, "O2C_DBT_TARGET": "published", "O2C_PUBLISHED_FILE": str(published),
           "O2C_WAREHOUSE_CATALOG": _warehouse_catalog(), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    done = subprocess.run([str(Path(sys.executable).with_name("mf")), "validate-configs"], cwd=DBT_PROJECT_DIR,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "ERRORS: 0" in done.stdout and "Successfully validated metrics against data warehouse" in done.stdout


def test_published_file_is_opened_read_only(published):
    """A metric query never takes the published file's write lock (BI tools read it meanwhile)."""
    reader = duckdb.connect(str(published), read_only=True)
    try:
        assert run_query(parse_question("exception_count"), published)
    finally:
        reader.close()


@pytest.mark.parametrize("question, message", [
    ("", "no metric named"),
    ("net_revenue_cny by galaxy", "unknown group-by 'galaxy'"),
], ids=["empty", "unknown-dimension"])
def test_questions_that_cannot_be_asked_say_why(question, message):
    with pytest.raises(MetricQueryError, match=message):
        parse_question(question)


def test_an_unknown_metric_is_refused_with_metricflows_reason(published):
    with pytest.raises(MetricQueryError, match="no_such_metric"):
        run_query(parse_question("no_such_metric by month"), published)
