"""Loaders of the payment exports (docs/contract: payments/gateway, payments/bank, payments/payouts).

Validation order: the columns in header order; the first failing one is the reject reason.
Gateway: `order_id` may be empty, `fee` may be empty (= 0), `amount` must be > 0, `created_at`
exactly `YYYY-MM-DDTHH:MM:SSZ`. Bank: decoded from GBK in Python (DuckDB cannot read GBK here);
`交易日期` exactly `YYYY-MM-DD`; exactly one of 收入金额 / 支出金额 non-empty, else
`invalid_value:收入金额`; amounts unsigned with at most 2 decimals, thousands separators allowed;
`摘要` (free text) and `对方户名` (interest, bank charges, cash deposits) may be empty, every other
column is required. Payouts (settlement reports, revision 2): every column required; `payout_id`
letters and digits only, `payout_date` exactly `YYYY-MM-DD`; a `txn_id` the gateway never sent is
valid input (it settles nothing).
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.common import FileLoad, Rule, is_blank_sql, load_csv_flat, quote_ident, text_reason_sql, value_ok_sql

GATEWAY_RULES: tuple[Rule, ...] = (
    Rule("txn_id"),
    Rule("order_id", required=False),
    Rule("method", "enum", values=("alipay", "wechat", "card", "unionpay")),
    Rule("txn_type", "enum", values=("capture", "refund")),
    Rule("status", "enum", values=("succeeded", "failed", "pending")),
    Rule("amount", "amount_pos"),
    Rule("currency", "currency"),
    Rule("fee", "amount", required=False),
    Rule("created_at", "ts_utc"),
)

CREDIT, DEBIT = "收入金额", "支出金额"
BANK_RULES: tuple[Rule, ...] = (
    Rule("交易日期", "date"),
    Rule("交易流水号"),
    Rule("对方户名", required=False),
    Rule(CREDIT, "bank_amount", required=False),
    Rule(DEBIT, "bank_amount", required=False),
    Rule("币种", "currency"),
    Rule("摘要", required=False),
)

PAYOUT_RULES: tuple[Rule, ...] = (
    Rule("payout_id", "alnum"),
    Rule("payout_date", "date"),
    Rule("currency", "currency"),
    Rule("txn_id"),
)

GATEWAY_COLUMNS = tuple(rule.name for rule in GATEWAY_RULES)
BANK_COLUMNS = tuple(rule.name for rule in BANK_RULES)
PAYOUT_COLUMNS = tuple(rule.name for rule in PAYOUT_RULES)

RAW_TABLES: dict[str, dict[str, tuple[str, ...]]] = {
    "payments/gateway": {"payments_gateway_transactions": GATEWAY_COLUMNS},
    "payments/bank": {"payments_bank_statement_lines": BANK_COLUMNS},
    "payments/payouts": {"payments_payouts": PAYOUT_COLUMNS},
}


def load_gateway_transactions(con: duckdb.DuckDBPyConnection, path: Path, into: str | None = None) -> FileLoad:
    """Gateway CSV file -> candidate rows of raw.payments_gateway_transactions, plus rejects."""
    return load_csv_flat(con, path, "utf-8", GATEWAY_RULES, "payments_gateway_transactions", "_pay_gateway", into=into)


def _exactly_one_amount_sql() -> str:
    """Reason for 收入金额: both or neither amount present, or a bad credit amount."""
    credit, debit = quote_ident(CREDIT), quote_ident(DEBIT)
    present = lambda column: f"(NOT {is_blank_sql(column)})"  # noqa: E731
    return (
        f"CASE WHEN {present(credit)} = {present(debit)} THEN 'invalid_value:{CREDIT}' "
        f"WHEN {present(credit)} AND NOT ({value_ok_sql('bank_amount', credit)}) THEN 'invalid_value:{CREDIT}' END"
    )


def load_bank_statement_lines(con: duckdb.DuckDBPyConnection, path: Path, into: str | None = None) -> FileLoad:
    """GBK bank statement CSV file -> candidate rows of raw.payments_bank_statement_lines, plus rejects.

    Amounts are kept as delivered (thousands separators included); staging removes them.
    """
    debit_rule = next(rule for rule in BANK_RULES if rule.name == DEBIT)
    return load_csv_flat(
        con, path, "gbk", BANK_RULES, "payments_bank_statement_lines", "_pay_bank",
        extra_reasons={CREDIT: _exactly_one_amount_sql(), DEBIT: text_reason_sql(debit_rule, quote_ident(DEBIT))},
        into=into,
    )


def load_payouts(con: duckdb.DuckDBPyConnection, path: Path, into: str | None = None) -> FileLoad:
    """Settlement report CSV file -> candidate rows of raw.payments_payouts (one per settled txn), plus rejects."""
    return load_csv_flat(con, path, "utf-8", PAYOUT_RULES, "payments_payouts", "_pay_payouts", into=into)
