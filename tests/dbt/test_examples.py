"""The spec's examples/ landing folder: two clean orders, so the warehouse must show no
exception, a balanced journal and two reconciled orders."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from tests.dbt.conftest import query


def test_dbt_build_succeeds(examples_build):
    warehouse, run = examples_build
    assert run.returncode == 0, run.output[-6000:]


def test_every_dbt_unit_test_ran_and_passed(examples_build):
    warehouse, _ = examples_build
    target = warehouse.parent / "target"
    results = json.loads((target / "run_results.json").read_text())["results"]
    unit_tests = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    defined = json.loads((target / "manifest.json").read_text())["unit_tests"]
    assert defined, "the project defines no unit test"
    assert set(unit_tests) == set(defined), f"not run: {sorted(set(defined) - set(unit_tests))}"
    assert set(unit_tests.values()) == {"pass"}, {k: v for k, v in unit_tests.items() if v != "pass"}


def test_examples_yield_zero_exceptions(examples_build):
    warehouse, run = examples_build
    assert run.returncode == 0, run.output[-6000:]
    assert query(warehouse, "select exception_type, exception_key from marts.reconciliation_exceptions") == []


def test_examples_payout_is_settled_by_its_bank_line(examples_build):
    """Revision 2: the payout's bank receipt settles it (rule 0), pays no order, and clears 1100."""
    warehouse, _ = examples_build
    assert query(warehouse, """
        select payout_id, transactions, captured, refunded, fees, net_amount, received_amount, received_on,
               difference, status
        from marts.gateway_payouts""") == [
        ("PO20261102ALI01", 1, Decimal("290.90"), Decimal("0.00"), Decimal("1.75"), Decimal("289.15"),
         Decimal("289.15"), date(2026, 11, 2), Decimal("0.00"), "received")]
    assert query(warehouse, """
        select bank_line_id, match_rule, payout_id, order_id from intermediate.int_bank_lines_matched
        where payout_id is not null""") == [("BK202611020002", "payout", "PO20261102ALI01", None)]
    assert query(warehouse, """
        select entry_type, account, debit, credit, order_id from marts.ledger_entries
        where source_document_id = 'BK202611020002' order by line_no""") == [
        ("payout_receipt", "1110", Decimal("289.15"), Decimal("0.00"), None),
        ("payout_receipt", "1100", Decimal("0.00"), Decimal("289.15"), None)]
    # the gateway owes nothing more: captured 290.90, fee 1.75, paid out 289.15
    assert query(warehouse, """
        select currency, sum(debit - credit) from marts.ledger_entries where account = '1100' group by currency""") == [
        ("CNY", Decimal("0.00"))]


def test_examples_journal_balances(examples_build):
    warehouse, _ = examples_build
    unbalanced = query(warehouse, """
        select entry_id from marts.ledger_entries group by entry_id
        having sum(debit) <> sum(credit) or sum(debit_cny) <> sum(credit_cny)""")
    assert unbalanced == []
    (debit, credit), = query(warehouse, "select sum(debit), sum(credit) from marts.ledger_entries")
    assert debit == credit and debit > 0


def test_examples_orders_reconciled(examples_build):
    warehouse, _ = examples_build
    rows = query(warehouse, """
        select order_id, order_total, invoiced_amount, net_paid_amount, ar_outstanding, is_reconciled, lifecycle_state
        from marts.order_ledger order by order_id""")
    assert [r[0] for r in rows] == ["SO20261101000001", "SO20261101000002"]
    assert rows[0][1:5] == (Decimal("290.90"), Decimal("290.90"), Decimal("290.90"), Decimal("0.00"))
    assert rows[1][1:5] == (Decimal("10000.00"), Decimal("10000.00"), Decimal("10000.00"), Decimal("0.00"))
    assert all(r[5] for r in rows)
    assert {r[6] for r in rows} == {"settled"}


def test_examples_bank_remark_match_and_posting(examples_build):
    warehouse, _ = examples_build
    rows = query(warehouse, """
        select entry_type, account, debit, credit, order_id from marts.ledger_entries
        where source_document_id = 'BK202611020001' order by line_no""")
    assert rows == [
        ("bank_receipt", "1110", Decimal("10000.00"), Decimal("0.00"), "SO20261101000002"),
        ("bank_receipt", "1200", Decimal("0.00"), Decimal("10000.00"), "SO20261101000002"),
    ]


def test_schemas_are_exactly_named(examples_build):
    warehouse, _ = examples_build
    schemas = {r[0] for r in query(warehouse, "select distinct table_schema from information_schema.tables")}
    assert {"raw", "staging", "intermediate", "marts"} <= schemas
    marts = {r[0] for r in query(warehouse, "select table_name from information_schema.tables where table_schema = 'marts'")}
    assert {"order_ledger", "ledger_entries", "order_events", "order_state_timeline", "reconciliation_exceptions",
            "ar_aging", "daily_cash_reconciliation"} <= marts


def test_voucher_ids_stable_and_timestamps_utc(examples_build):
    warehouse, _ = examples_build
    rows = query(warehouse, "select order_id, voucher_id, created_at from marts.order_ledger order by order_id")
    assert rows[0][1] == "JV-SO20261101000001"
    # 2026-11-01T09:12:03+08:00 -> 01:12:03 UTC
    assert str(rows[0][2]) == "2026-11-01 01:12:03"
    # WMS naive Asia/Shanghai 2026-11-01 18:20:00 -> 10:20 UTC
    (shipped_at,), = query(warehouse, "select shipped_at from marts.order_ledger where order_id = 'SO20261101000001'")
    assert str(shipped_at) == "2026-11-01 10:20:00"


def test_cash_reconciliation_ties(examples_build):
    warehouse, _ = examples_build
    rows = query(warehouse, "select system, method, difference_cny from marts.daily_cash_reconciliation")
    assert rows and all(r[2] == 0 for r in rows)


def test_as_of_override_from_environment(examples_build, tmp_path):
    """O2C_AS_OF wins over the data; an offset is converted to UTC."""
    import shutil

    from tests.dbt.conftest import run_dbt

    warehouse, _ = examples_build
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    run = run_dbt(copy, ["run", "--select", "int_as_of_resolved"], tmp_path, as_of="2026-11-05T08:00:00+08:00")
    assert run.returncode == 0, run.output[-4000:]
    assert query(copy, "select cast(as_of as varchar), as_of_source from intermediate.int_as_of_resolved") == [
        ("2026-11-05 00:00:00", "O2C_AS_OF")]
