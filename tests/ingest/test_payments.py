"""Payment loaders: every reject reason of the gateway and bank files; GBK and thousands separators."""
from __future__ import annotations

import pytest

from tests.ingest.helpers import assert_identity, count, ingest, rejects, write

GATEWAY_HEADER = "txn_id,order_id,method,txn_type,status,amount,currency,fee,created_at"
GATEWAY_ROW = ["PAY-1", "SO20261101000001", "alipay", "capture", "succeeded", "290.90", "CNY", "1.75",
               "2026-11-01T01:13:10Z"]
GATEWAY_COLUMNS = GATEWAY_HEADER.split(",")


def gateway_row(**changes: str) -> str:
    values = dict(zip(GATEWAY_COLUMNS, GATEWAY_ROW)) | changes
    return ",".join(values.values())


GATEWAY_CASES = [
    ("too-few-fields", "PAY-9,SO1,alipay,capture,succeeded,1.00,CNY,0.00", "malformed_record"),
    ("too-many-fields", gateway_row() + ",extra", "malformed_record"),
    ("bad-quoting", 'PAY-9,"SO1"x,alipay,capture,succeeded,1.00,CNY,,2026-11-01T01:13:10Z', "malformed_record"),
    *[(f"empty-{c}", gateway_row(**{c: ""}), f"missing_field:{c}")
      for c in ("txn_id", "method", "txn_type", "status", "amount", "currency", "created_at")],
    ("method-unknown", gateway_row(method="paypal"), "invalid_value:method"),
    ("txn_type-unknown", gateway_row(txn_type="chargeback"), "invalid_value:txn_type"),
    ("status-unknown", gateway_row(status="done"), "invalid_value:status"),
    ("amount-zero", gateway_row(amount="0.00"), "invalid_value:amount"),
    ("amount-negative", gateway_row(amount="-290.90"), "invalid_value:amount"),
    ("amount-3-decimals", gateway_row(amount="290.901"), "invalid_value:amount"),
    ("amount-thousands", gateway_row(amount='"1,290.90"'), "invalid_value:amount"),
    ("amount-unparseable", gateway_row(amount="abc"), "invalid_value:amount"),
    ("currency-lower-case", gateway_row(currency="cny"), "invalid_value:currency"),
    ("fee-negative", gateway_row(fee="-1.75"), "invalid_value:fee"),
    ("fee-plus-sign", gateway_row(fee="+1.75"), "invalid_value:fee"),
    ("created_at-offset", gateway_row(created_at="2026-11-01T09:13:10+08:00"), "invalid_value:created_at"),
    ("created_at-no-z", gateway_row(created_at="2026-11-01T01:13:10"), "invalid_value:created_at"),
    ("created_at-fraction", gateway_row(created_at="2026-11-01T01:13:10.5Z"), "invalid_value:created_at"),
    ("created_at-space", gateway_row(created_at="2026-11-01 01:13:10Z"), "invalid_value:created_at"),
    ("first-failing-column-wins", gateway_row(method="paypal", amount="-1"), "invalid_value:method"),
]


@pytest.mark.parametrize("bad_row, reason", [c[1:] for c in GATEWAY_CASES], ids=[c[0] for c in GATEWAY_CASES])
def test_each_invalid_gateway_row_is_quarantined(con, landing, bad_row, reason):
    good = gateway_row(txn_id="PAY-0")
    write(landing, "payments/gateway/2026-11-01/txns.csv", f"{GATEWAY_HEADER}\n{good}\n{bad_row}\n")
    ingest(con, landing, "payments/gateway")
    assert rejects(con) == [("payments/gateway/2026-11-01/txns.csv", 2, reason, bad_row)]
    assert con.execute("SELECT txn_id FROM raw.payments_gateway_transactions").fetchall() == [("PAY-0",)]
    assert_identity(con)


def test_gateway_optional_columns_and_pending_then_succeeded_versions(con, landing):
    rows = [gateway_row(order_id="", fee="", status="pending"), gateway_row()]
    write(landing, "payments/gateway/2026-11-01/txns.csv", "\n".join([GATEWAY_HEADER, *rows]) + "\n")
    ingest(con, landing, "payments/gateway")
    assert rejects(con) == []
    assert con.execute(
        "SELECT order_id, fee, status FROM raw.payments_gateway_transactions ORDER BY _record_no"
    ).fetchall() == [("", "", "pending"), ("SO20261101000001", "1.75", "succeeded")]


def test_gateway_header_other_than_listed_is_malformed_file(con, landing):
    write(landing, "payments/gateway/2026-11-01/a.csv", GATEWAY_HEADER.replace("fee", "fees") + "\n" + gateway_row() + "\n")
    write(landing, "payments/gateway/2026-11-01/b.csv", GATEWAY_HEADER + "\n" + gateway_row() + "\n")
    summary = ingest(con, landing, "payments/gateway")
    assert [r[:3] for r in rejects(con)] == [("payments/gateway/2026-11-01/a.csv", 0, "malformed_file")]
    assert count(con, "raw.payments_gateway_transactions") == 1
    assert [f.status for f in summary.files] == ["malformed_file", "loaded"]
    assert_identity(con)


BANK_HEADER = "交易日期,交易流水号,对方户名,收入金额,支出金额,币种,摘要"
BANK_COLUMNS = BANK_HEADER.split(",")
BANK_ROW = ["2026-11-02", "BK1", "上海明远贸易有限公司", '"10,000.00"', "", "CNY", "货款 SO-2026-1101-000002"]


def bank_row(**changes: str) -> str:
    values = dict(zip(BANK_COLUMNS, BANK_ROW)) | changes
    return ",".join(values.values())


BANK_CASES = [
    ("too-many-fields", bank_row() + ",x", "malformed_record"),
    ("too-few-fields", "2026-11-02,BK9,某公司,1.00,,CNY", "malformed_record"),
    *[(f"empty-{c}", bank_row(**{c: ""}), f"missing_field:{c}") for c in ("交易日期", "交易流水号", "币种")],
    ("date-slashes", bank_row(交易日期="2026/11/02"), "invalid_value:交易日期"),
    ("date-with-time", bank_row(交易日期="2026-11-02 10:00:00"), "invalid_value:交易日期"),
    ("date-impossible", bank_row(交易日期="2026-11-31"), "invalid_value:交易日期"),
    ("both-amounts", bank_row(支出金额="5.00"), "invalid_value:收入金额"),
    ("neither-amount", bank_row(收入金额=""), "invalid_value:收入金额"),
    ("credit-bad-grouping", bank_row(收入金额='"10,00.00"'), "invalid_value:收入金额"),
    ("credit-negative", bank_row(收入金额="-10.00"), "invalid_value:收入金额"),
    ("credit-3-decimals", bank_row(收入金额="10.001"), "invalid_value:收入金额"),
    ("debit-negative", bank_row(收入金额="", 支出金额="-5.00"), "invalid_value:支出金额"),
    ("debit-unparseable", bank_row(收入金额="", 支出金额="五元"), "invalid_value:支出金额"),
    ("currency-bad", bank_row(币种="人民币"), "invalid_value:币种"),
]


@pytest.mark.parametrize("bad_row, reason", [c[1:] for c in BANK_CASES], ids=[c[0] for c in BANK_CASES])
def test_each_invalid_bank_row_is_quarantined(con, landing, bad_row, reason):
    good = bank_row(交易流水号="BK0")
    write(landing, "payments/bank/2026-11-02/statement.csv", f"{BANK_HEADER}\r\n{good}\r\n{bad_row}\r\n", "gbk")
    ingest(con, landing, "payments/bank")
    assert rejects(con) == [("payments/bank/2026-11-02/statement.csv", 2, reason, bad_row)]
    assert con.execute('SELECT "交易流水号" FROM raw.payments_bank_statement_lines').fetchall() == [("BK0",)]
    assert_identity(con)


def test_bank_line_without_counterparty_is_loaded(con, landing):
    """Issue 11 defect 5: interest, bank charges and cash deposits name no 对方户名; such a line is loaded."""
    rows = [bank_row(对方户名="", 收入金额="3.21", 摘要="利息"), bank_row(交易流水号="BK2", 对方户名="", 收入金额="", 支出金额="15.00", 摘要="手续费")]
    write(landing, "payments/bank/2026-11-02/statement.csv", "\r\n".join([BANK_HEADER, *rows]) + "\r\n", "gbk")
    ingest(con, landing, "payments/bank")
    assert rejects(con) == []
    assert con.execute(
        'SELECT "交易流水号", "对方户名" FROM raw.payments_bank_statement_lines ORDER BY _record_no').fetchall() == [
        ("BK1", ""), ("BK2", "")]
    assert_identity(con)


def test_gbk_file_with_thousands_separators_is_kept_as_delivered(con, landing):
    rows = [bank_row(), bank_row(交易流水号="BK2", 对方户名="国家税务总局", 收入金额="", 支出金额='"1,150.44"', 摘要=""),
            bank_row(交易流水号="BK3", 收入金额='"1,234,567.8"', 摘要='"货款, 含运费"')]
    content = "\r\n".join([BANK_HEADER, *rows]) + "\r\n"
    path = write(landing, "payments/bank/2026-11-02/statement.csv", content, "gbk")
    assert path.read_bytes() != content.encode("utf-8")  # really GBK on disk
    ingest(con, landing, "payments/bank")
    assert rejects(con) == []
    assert con.execute(
        'SELECT "交易流水号", "对方户名", "收入金额", "支出金额", "摘要" FROM raw.payments_bank_statement_lines ORDER BY _record_no'
    ).fetchall() == [
        ("BK1", "上海明远贸易有限公司", "10,000.00", "", "货款 SO-2026-1101-000002"),
        ("BK2", "国家税务总局", "", "1,150.44", ""),
        ("BK3", "上海明远贸易有限公司", "1,234,567.8", "", "货款, 含运费"),
    ]


def test_bank_file_that_is_not_gbk_is_malformed(con, landing):
    write(landing, "payments/bank/2026-11-02/a.csv", BANK_HEADER.encode("gbk") + b"\r\n\xff\xff,BK1\r\n")
    write(landing, "payments/bank/2026-11-02/b.csv", f"{BANK_HEADER}\r\n{bank_row()}\r\n", "gbk")
    summary = ingest(con, landing, "payments/bank")
    assert [r[:3] for r in rejects(con)] == [("payments/bank/2026-11-02/a.csv", 0, "malformed_file")]
    assert [(f.status, f.records_read, f.records_loaded) for f in summary.files] == [("malformed_file", 1, 0), ("loaded", 1, 1)]
    assert_identity(con)


@pytest.mark.parametrize("quoted", [False, True], ids=["unquoted-bulk-path", "quoted-csv-module-path"])
def test_csv_numbering_skips_blank_rows_and_keeps_crlf_rows_whole(con, landing, quoted):
    bad = gateway_row(txn_id="PAY-2", method="paypal")
    third = gateway_row(txn_id='"PAY-3"' if quoted else "PAY-3")
    content = "\r\n".join([GATEWAY_HEADER, gateway_row(), "", "  ", bad, third]) + "\r\n\r\n"
    write(landing, "payments/gateway/2026-11-01/txns.csv", content)
    summary = ingest(con, landing, "payments/gateway")
    assert rejects(con) == [("payments/gateway/2026-11-01/txns.csv", 2, "invalid_value:method", bad)]
    assert con.execute("SELECT txn_id, created_at, _record_no FROM raw.payments_gateway_transactions ORDER BY 3").fetchall() == [
        ("PAY-1", "2026-11-01T01:13:10Z", 1), ("PAY-3", "2026-11-01T01:13:10Z", 3)]
    assert summary.records_read == 3


def test_separator_characters_inside_a_field_do_not_split_a_row(con, landing):
    row = bank_row(摘要='"货款\x0bSO1\x1c\x0c"')  # str.splitlines() would break this row
    write(landing, "payments/bank/2026-11-02/statement.csv", f"{BANK_HEADER}\r\n{row}\r\n", "gbk")
    ingest(con, landing, "payments/bank")
    assert rejects(con) == []
    assert con.execute('SELECT "摘要" FROM raw.payments_bank_statement_lines').fetchall() == [("货款\x0bSO1\x1c\x0c",)]


PAYOUT_HEADER = "payout_id,payout_date,currency,txn_id"
PAYOUT_ROW = ["PO20261102ALI01", "2026-11-02", "CNY", "PAY-8f2a01"]


def payout_row(**changes: str) -> str:
    return ",".join((dict(zip(PAYOUT_HEADER.split(","), PAYOUT_ROW)) | changes).values())


PAYOUT_CASES = [
    ("too-few-fields", "PO1,2026-11-02,CNY", "malformed_record"),
    ("too-many-fields", payout_row() + ",x", "malformed_record"),
    *[(f"empty-{c}", payout_row(**{c: ""}), f"missing_field:{c}") for c in PAYOUT_HEADER.split(",")],
    ("payout_id-hyphen", payout_row(payout_id="PO-2026-1102"), "invalid_value:payout_id"),
    ("payout_id-space", payout_row(payout_id='"PO 1"'), "invalid_value:payout_id"),
    ("payout_date-slashes", payout_row(payout_date="2026/11/02"), "invalid_value:payout_date"),
    ("payout_date-impossible", payout_row(payout_date="2026-02-30"), "invalid_value:payout_date"),
    ("payout_date-with-time", payout_row(payout_date="2026-11-02 00:00:00"), "invalid_value:payout_date"),
    ("currency-lower-case", payout_row(currency="cny"), "invalid_value:currency"),
    ("first-failing-column-wins", payout_row(payout_id="PO-1", currency="x"), "invalid_value:payout_id"),
]


@pytest.mark.parametrize("bad_row, reason", [c[1:] for c in PAYOUT_CASES], ids=[c[0] for c in PAYOUT_CASES])
def test_each_invalid_payout_row_is_quarantined(con, landing, bad_row, reason):
    good = payout_row(txn_id="PAY-0")
    write(landing, "payments/payouts/2026-11-02/payouts.csv", f"{PAYOUT_HEADER}\n{good}\n{bad_row}\n")
    ingest(con, landing, "payments/payouts")
    assert rejects(con) == [("payments/payouts/2026-11-02/payouts.csv", 2, reason, bad_row)]
    assert con.execute("SELECT txn_id FROM raw.payments_payouts").fetchall() == [("PAY-0",)]
    assert_identity(con)


def test_payout_rows_with_unknown_transactions_are_loaded_and_exact_repeats_skipped(con, landing):
    """An unknown txn_id is valid input (it settles nothing); an exact repeat in a later file is skipped."""
    rows = [payout_row(), payout_row(txn_id="PAY-never-seen"), payout_row(payout_id="po20261102wx01")]
    write(landing, "payments/payouts/2026-11-02/a.csv", "\n".join([PAYOUT_HEADER, *rows]) + "\n")
    write(landing, "payments/payouts/2026-11-03/b.csv", "\r\n".join([PAYOUT_HEADER, payout_row()]) + "\r\n")
    summary = ingest(con, landing, "payments/payouts")
    assert rejects(con) == []
    assert con.execute("SELECT payout_id, txn_id FROM raw.payments_payouts ORDER BY _file_path, _record_no").fetchall() == [
        ("PO20261102ALI01", "PAY-8f2a01"), ("PO20261102ALI01", "PAY-never-seen"), ("po20261102wx01", "PAY-8f2a01")]
    assert [(f.records_loaded, f.repeats_skipped) for f in summary.files] == [(3, 0), (0, 1)]
    assert_identity(con)
