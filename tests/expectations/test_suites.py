"""The suites on a hand-made warehouse: clean passes everything; each corruption trips exactly
the expectation that guards against it; consistency expectations count the exception rows."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from expectations import EXPECTATION_IDS, SUITE_NAMES, blocking_failures, run_suites
from expectations.consistency import RULES
from expectations.integrity import INTEGRITY_SUITES
from tests.expectations import warehouse_fixture as wf
from tests.expectations.warehouse_fixture import execute

REPO = Path(__file__).resolve().parents[2]
INTEGRITY_IDS = {e.id for s in INTEGRITY_SUITES for e in s.expectations}


def failing(results) -> set[str]:
    return {r.expectation_id for r in results if not r.success}


def test_clean_warehouse_passes_every_suite(warehouse, default_settings):
    results = run_suites(warehouse, settings=default_settings)
    assert [r.expectation_id for r in results] == list(EXPECTATION_IDS)
    bad = [(r.expectation_id, r.unexpected_count, r.sample_keys, r.error) for r in results if not r.success]
    assert bad == []
    assert blocking_failures(results) == []
    assert {r.suite for r in results} == set(SUITE_NAMES)
    assert all(r.unexpected_count == 0 and r.sample_keys == [] for r in results)


def test_as_of_is_derived_from_the_data(warehouse, default_settings):
    from expectations import as_of_for

    assert str(as_of_for(warehouse, settings=default_settings)) == wf.AS_OF


# One corruption per integrity expectation: (id, SQL applied to a copy, expected failing ids)
MUTATIONS = [
    ("ingest_file_accounting_identity",
     f"update ingest.files set records_read = records_read + 1 where file_path = '{wf.F_BANK}'", None),
    ("ingest_file_path_unique",
     f"insert into ingest.files select * from ingest.files where file_path = '{wf.F_FX}'", None),
    ("ingest_raw_records_tie_loaded",  # drop a loaded record (an older snapshot: SO1 still exists)
     f"delete from raw.oms_orders where order_id = 'SO1' and _file_path = '{wf.F_ORD1}'", None),
    ("ingest_rejects_tie_quarantined", "delete from ingest.rejects", None),
    ("source_freshness",
     "update ingest.files set export_date = DATE '2026-10-20' where source = 'payments/bank'", None),
    ("ledger_entries_key_unique",
     "update marts.ledger_entries set line_no = 2 where entry_id = 'LE1' and line_no = 3", None),
    ("ledger_entry_balances",  # unbalance two entries by the same amount: the journal still balances
     """update marts.ledger_entries set credit = credit + 1, credit_cny = credit_cny + 1
          where entry_id = 'LE1' and line_no = 2;
        update marts.ledger_entries set credit = credit - 1, credit_cny = credit_cny - 1
          where entry_id = 'LE4' and line_no = 2""", None),
    ("journal_balances",  # an unbalanced entry also unbalances the journal
     """insert into marts.ledger_entries values ('LE9', 1, 'V1', 'SO1', 'manual', TIMESTAMP '2026-11-02 00:00:00',
          '4000 revenue', 10.00, 0.00, 'CNY', 10.00, 0.00, 'manual', 'X')""",
     {"journal_balances", "ledger_entry_balances"}),
    ("journal_captures_tie_gateway",  # raw says 51.00, staging and the journal say 50.00
     f"""update raw.payments_gateway_transactions set amount = '51.00' where txn_id = 'T3';
         create or replace view staging.stg_payments__gateway_transactions as
           select txn_id, nullif(order_id, '') as order_id, method, txn_type, status, currency,
                  case when txn_id = 'T3' then 50.00 else cast(amount as decimal(18,2)) end as amount
           from (select *, row_number() over (partition by txn_id order by _export_date desc, _file_path desc,
                 _record_no desc) as _rn from raw.payments_gateway_transactions) where _rn = 1""", None),
    ("journal_captures_tie_staging",  # staging lost a capture
     """create or replace view staging.stg_payments__gateway_transactions as
          select txn_id, nullif(order_id, '') as order_id, method, txn_type, status, currency,
                 cast(amount as decimal(18,2)) as amount
          from (select *, row_number() over (partition by txn_id order by _export_date desc, _file_path desc,
                _record_no desc) as _rn from raw.payments_gateway_transactions) where _rn = 1 and txn_id <> 'T3'""",
     None),
    ("journal_bank_credits_tie_bank",
     "update raw.payments_bank_statement_lines set \"收入金额\" = '1,131.00' where \"交易流水号\" = 'B1'", None),
    ("journal_invoices_tie_erp",
     "update raw.erp_invoice_lines set \"NetAmount\" = '1001.00' where \"InvoiceId\" = 'INV2'", None),
    ("order_ledger_order_id_unique",
     "insert into marts.order_ledger select * from marts.order_ledger where order_id = 'SO3'", None),
    ("order_ledger_ties_oms_orders",  # SO3 lost in the marts (with its postings) but still in raw
     """delete from marts.order_ledger where order_id = 'SO3';
        delete from marts.ledger_entries where order_id = 'SO3';
        create or replace view staging.stg_oms__orders as
          select * exclude (_rn) from (select *, row_number() over (partition by order_id
            order by _export_date desc, _file_path desc, _record_no desc) as _rn from raw.oms_orders)
          where _rn = 1 and order_id <> 'SO3'""", None),
    ("order_ledger_ties_staging_orders",  # staging lost SO3, the marts still have it
     """create or replace view staging.stg_oms__orders as
          select * exclude (_rn) from (select *, row_number() over (partition by order_id
            order by _export_date desc, _file_path desc, _record_no desc) as _rn from raw.oms_orders)
          where _rn = 1 and order_id <> 'SO3'""", None),
    ("order_ledger_amount_formulas",
     "update marts.order_ledger set invoiced_amount = 1000.00 where order_id = 'SO2'", None),
    ("ar_ties_journal",  # formulas hold, but the journal says -50.00
     """update marts.order_ledger set captured_amount = 40.00, net_paid_amount = 40.00, ar_outstanding = -40.00
          where order_id = 'SO3'""", None),
    ("order_ledger_exception_count_ties",
     "update marts.order_ledger set exception_count = 1 where order_id = 'SO1'", None),
    ("exceptions_key_unique",
     """insert into marts.reconciliation_exceptions values
          ('X1', 'STUCK_AWAITING_SHIPMENT', 'SO3', NULL, TIMESTAMP '2026-11-03 02:00:00', 'low', 50.00, '{}'),
          ('X2', 'STUCK_AWAITING_SHIPMENT', 'SO3', NULL, TIMESTAMP '2026-11-03 02:00:00', 'low', 50.00, '{}');
        update marts.order_ledger set exception_count = 2, is_reconciled = false where order_id = 'SO3'""",
     {"exceptions_key_unique", "no_order_stuck_awaiting_shipment"}),
    ("exceptions_id_unique",
     """insert into marts.reconciliation_exceptions values
          ('X1', 'STUCK_AWAITING_SHIPMENT', 'SO3', NULL, TIMESTAMP '2026-11-03 02:00:00', 'low', 50.00, '{}'),
          ('X1', 'DELIVERY_BEFORE_SHIPMENT', 'SO3', NULL, TIMESTAMP '2026-11-03 02:00:00', 'low', 0.00, '{}');
        update marts.order_ledger set exception_count = 2, is_reconciled = false where order_id = 'SO3'""",
     {"exceptions_id_unique", "no_order_stuck_awaiting_shipment", "deliveries_follow_shipments"}),
    ("exceptions_have_required_key",  # an order-keyed type without its order_id
     """insert into marts.reconciliation_exceptions values
          ('X1', 'DELIVERY_BEFORE_SHIPMENT', NULL, 'S1', TIMESTAMP '2026-11-03 02:00:00', 'low', 0.00, '{}')""",
     {"exceptions_have_required_key", "deliveries_follow_shipments"}),
    ("exceptions_reference_orders",
     """insert into marts.reconciliation_exceptions values
          ('X1', 'DELIVERY_BEFORE_SHIPMENT', 'SO999', NULL, TIMESTAMP '2026-11-03 02:00:00', 'low', 0.00, '{}')""",
     {"exceptions_reference_orders", "deliveries_follow_shipments"}),
    ("timeline_intervals_ordered",
     """update marts.order_state_timeline set exited_at = TIMESTAMP '2026-11-01 00:00:00'
          where order_id = 'SO1' and state = 'created'""", None),
    ("timeline_intervals_no_overlap",
     """update marts.order_state_timeline set entered_at = TIMESTAMP '2026-11-01 01:30:00'
          where order_id = 'SO1' and state = 'approved'""", None),
]


def test_every_integrity_expectation_has_a_mutation():
    assert {m[0] for m in MUTATIONS} == INTEGRITY_IDS


@pytest.mark.parametrize("expectation_id,sql,expected", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_mutation_trips_exactly_its_expectation(warehouse, default_settings, expectation_id, sql, expected):
    execute(warehouse, sql)
    results = run_suites(warehouse, settings=default_settings)
    expected = expected or {expectation_id}
    assert failing(results) == expected, [(r.expectation_id, r.unexpected_count, r.sample_keys, r.error)
                                          for r in results if not r.success]
    target = next(r for r in results if r.expectation_id == expectation_id)
    assert target.blocking and target.severity == "error" and target.unexpected_count > 0
    assert target.sample_keys, "a failure names its offending keys"
    assert target in blocking_failures(results)


BANK_HEADER_ONLY = "payments/bank/{day}/statement.csv"
QUIET_BANK_DELIVERIES = [
    ("header-only-file-today",
     [("2026-11-02", "loaded", 0, None)]),
    ("byte-identical-redeliveries-of-a-header-only-file",
     [("2026-10-21", "loaded", 0, None), ("2026-11-01", "duplicate_file", 0, "2026-10-21"),
      ("2026-11-02", "duplicate_file", 0, "2026-10-21")]),
]


@pytest.mark.parametrize("deliveries", [c[1] for c in QUIET_BANK_DELIVERIES], ids=[c[0] for c in QUIET_BANK_DELIVERIES])
def test_a_source_that_delivered_a_file_is_fresh_for_that_date(warehouse, default_settings, deliveries):
    """Issue 11 defect 6: a bank with nothing to report sends header-only statements, byte-identical
    day after day; a delivery makes the source fresh for its export date, whatever the file held."""
    rows = [f"""('{BANK_HEADER_ONLY.format(day=day)}', 'payments', 'payments/bank', DATE '{day}', 'sha-empty',
                 0, 0, 0, 0, '{status}', {f"'{BANK_HEADER_ONLY.format(day=of)}'" if of else 'NULL'},
                 TIMESTAMP '2026-11-03 03:00:00')""" for day, status, _, of in deliveries]
    execute(warehouse, f"""
        update ingest.files set export_date = DATE '2026-10-20' where source = 'payments/bank';
        insert into ingest.files values {", ".join(rows)}""")
    results = {r.expectation_id: r for r in run_suites(warehouse, ["integrity.ingest"], settings=default_settings)}
    assert (results["source_freshness"].success, results["source_freshness"].sample_keys) == (True, [])


def test_consistency_counts_exception_rows_by_type(warehouse, default_settings):
    execute(warehouse, """
        insert into marts.reconciliation_exceptions values
          ('X1', 'DUPLICATE_PAYMENT', 'SO3', NULL, TIMESTAMP '2026-11-03 02:00:00', 'high', 50.00, '{}'),
          ('X2', 'DUPLICATE_PAYMENT', 'SO1', NULL, TIMESTAMP '2026-11-03 02:00:00', 'high', 113.00, '{}'),
          ('X3', 'UNAPPLIED_CASH', NULL, 'B7', TIMESTAMP '2026-11-03 02:00:00', 'medium', 10.00, '{}'),
          ('X4', 'AR_OVERDUE', 'SO2', NULL, TIMESTAMP '2026-11-03 02:00:00', 'medium', 1130.00, '{}');
        update marts.order_ledger set exception_count = 1, is_reconciled = false;
    """)
    results = {r.expectation_id: r for r in run_suites(warehouse, ["consistency"], settings=default_settings)}
    assert (results["no_duplicate_payments"].unexpected_count,
            results["no_duplicate_payments"].sample_keys) == (2, ["SO1", "SO3"])
    assert (results["bank_receipts_are_applied"].unexpected_count,
            results["bank_receipts_are_applied"].sample_keys) == (1, ["B7"])
    assert results["no_overdue_receivables"].sample_keys == ["SO2"]
    others = set(results) - {"no_duplicate_payments", "bank_receipts_are_applied", "no_overdue_receivables",
                             "stop_the_line"}
    assert all(results[i].success for i in others)
    # warn expectations are reported, not blocking
    assert not results["no_duplicate_payments"].blocks_publishing
    # 2 of 3 orders carry a high-severity exception (DUPLICATE_PAYMENT): stop the line
    stop = results["stop_the_line"]
    assert stop.blocks_publishing and stop.unexpected_count == 1
    assert stop.sample_keys[0].startswith("2 of 3 orders (66.67%)")

    relaxed = replace(default_settings, stop_line_rate=0.7)
    again = {r.expectation_id: r for r in run_suites(warehouse, ["consistency"], settings=relaxed)}
    assert again["stop_the_line"].success
    assert blocking_failures(list(again.values())) == []


def test_every_exception_type_has_its_expectation():
    from expectations.integrity import DOCUMENT_KEYED_TYPES, ORDER_KEYED_TYPES

    assert set(RULES) == set(ORDER_KEYED_TYPES) | set(DOCUMENT_KEYED_TYPES)
    assert len(RULES) == 23  # 19, and the 4 settlement types of revision 2


def test_a_day_under_the_bank_auto_match_target_warns(warehouse, default_settings):
    """Only bank days count (the payments row at 0.50 does not); the rate is a setting; it never blocks."""
    results = {r.expectation_id: r for r in run_suites(warehouse, ["consistency"], settings=default_settings)}
    assert results["bank_auto_match_rate_at_target"].success
    execute(warehouse, "insert into marts.cash_matching_daily values (DATE '2026-11-03', 'bank', 5, 2, 0.6000)")
    low = {r.expectation_id: r for r in run_suites(warehouse, ["consistency"], settings=default_settings)}
    result = low["bank_auto_match_rate_at_target"]
    assert (result.success, result.sample_keys, result.blocks_publishing) == (False, ["2026-11-03"], False)
    relaxed = {r.expectation_id: r for r in run_suites(warehouse, ["consistency"],
                                                        settings=replace(default_settings, min_match_rate=0.6))}
    assert relaxed["bank_auto_match_rate_at_target"].success


def test_stale_unapplied_cash(warehouse, default_settings):
    execute(warehouse, """
        insert into marts.reconciliation_exceptions values
          ('X1', 'UNAPPLIED_CASH', NULL, 'B1', TIMESTAMP '2026-11-03 02:00:00', 'medium', 1130.00, '{}')""")
    fresh = {r.expectation_id: r for r in run_suites(warehouse, ["consistency"], settings=default_settings)}
    assert fresh["no_stale_unapplied_cash"].success  # B1 is dated 2026-11-02, as_of 2026-11-03
    later = replace(default_settings, as_of=fresh_as_of("2026-11-20 00:00:00"), freshness_days=60)
    stale = {r.expectation_id: r for r in run_suites(warehouse, ["consistency"], settings=later)}
    assert stale["no_stale_unapplied_cash"].sample_keys == ["B1"]


def fresh_as_of(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)


def test_severity_override_promotes_a_rule_to_blocking(warehouse, default_settings, monkeypatch):
    execute(warehouse, """
        insert into marts.reconciliation_exceptions values
          ('X1', 'DELIVERY_BEFORE_SHIPMENT', 'SO1', NULL, TIMESTAMP '2026-11-03 02:00:00', 'low', 0.00, '{}');
        update marts.order_ledger set exception_count = 1, is_reconciled = false where order_id = 'SO1'""")
    monkeypatch.setenv("O2C_EXPECTATION_SEVERITY", "DELIVERY_BEFORE_SHIPMENT=error")
    monkeypatch.delenv("O2C_AS_OF", raising=False)
    from expectations import ExpectationSettings

    results = run_suites(warehouse, ["consistency"], settings=ExpectationSettings.from_env())
    assert [r.expectation_id for r in blocking_failures(results)] == ["deliveries_follow_shipments"]


def test_missing_mart_fails_its_suite_with_an_error(warehouse, default_settings):
    execute(warehouse, "drop table marts.order_state_timeline")
    results = run_suites(warehouse, settings=default_settings)
    bad = {r.expectation_id: r for r in results if not r.success}
    assert set(bad) == {"timeline_intervals_ordered", "timeline_intervals_no_overlap"}
    assert all("does not exist" in r.error and r.blocks_publishing for r in bad.values())


def test_unknown_suite_name_is_refused(warehouse, default_settings):
    with pytest.raises(ValueError, match="unknown suite"):
        run_suites(warehouse, ["integrity.nope"], settings=default_settings)


def _cli(*args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("O2C_")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "expectations.validate", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_cli_passes_on_clean_warehouse_and_writes_data_docs(warehouse, tmp_path):
    docs = tmp_path / "docs"
    out = _cli("--warehouse", str(warehouse), "--docs-dir", str(docs))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ledger_entry_balances" in out.stdout and "stop_the_line" in out.stdout
    assert f"{len(EXPECTATION_IDS)} of {len(EXPECTATION_IDS)} expectations passed" in out.stdout
    assert (docs / "index.html").is_file()
    assert list((docs / "validations").rglob("*.html"))
    # o2c's own page, readable offline, next to the Data Docs, its path printed
    page = docs / "validation_results.html"
    assert f"(self-contained, opens offline): {page}" in out.stdout
    html = page.read_text(encoding="utf-8")
    assert html.count('data-status="pass"') == len(EXPECTATION_IDS)
    assert all(f'data-expectation="{eid}"' in html for eid in EXPECTATION_IDS)


def test_cli_exits_non_zero_and_names_the_blocking_failure(warehouse, tmp_path):
    execute(warehouse, """update marts.ledger_entries set credit = credit + 1, credit_cny = credit_cny + 1
                          where entry_id = 'LE1' and line_no = 2""")
    out = _cli("--warehouse", str(warehouse), "--no-docs")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "BLOCKING" in out.stderr and "ledger_entry_balances" in out.stderr and "LE1" in out.stderr


def test_cli_missing_warehouse_exits_2(tmp_path):
    out = _cli("--warehouse", str(tmp_path / "nope.duckdb"), "--no-docs")
    assert out.returncode == 2 and "does not exist" in out.stderr
    assert not (tmp_path / "nope.duckdb").exists()
