"""Invalid records, one defect each, with the reason code the loaders must give (sources.md).

Each mutator takes a *valid* record (dict of formatted fields) and returns (raw text, reason).
The valid record itself is delivered too; the invalid copy is an extra, badly re-sent record,
so quarantining it changes nothing downstream and the oracle stays independent of it.
"""
from __future__ import annotations

import copy

from typing import Callable

from .formats import (BANK, EVENTS, GATEWAY, INVOICES, ORDERS, PAYOUTS, SHIPMENTS, TRACKING, SourceFormat, csv_line,
                      invoice_xml, json_line)

Mutator = Callable[[dict], tuple[str, str]]


def _json(record: dict, reason: str, change: Callable[[dict], None]) -> tuple[str, str]:
    record = copy.deepcopy(record)
    change(record)
    return json_line(record), reason


def _set(field: str, value):
    def change(record):
        record[field] = value
    return change


def _drop(field: str):
    def change(record):
        record.pop(field, None)
    return change


def _strip_offset(field: str):
    """`2026-11-01T09:12:03+08:00` → `2026-11-01T09:12:03` (no offset: invalid)."""
    def change(record):
        record[field] = record[field][:19]
    return change


def _first_line(field: str, value):
    def change(record):
        record["lines"][0][field] = value
    return change


def _bad_json(record: dict) -> tuple[str, str]:
    text = json_line(record)
    return text[: len(text) // 2], "malformed_record"


ORDER_MUTATORS: list[Mutator] = [
    _bad_json,
    lambda r: _json(r, "missing_field:order_id", _drop("order_id")),
    lambda r: _json(r, "missing_field:customer_id", _set("customer_id", "")),
    lambda r: _json(r, "missing_field:created_at", _set("created_at", None)),
    lambda r: _json(r, "invalid_value:shipping_fee", _set("shipping_fee", float(r["shipping_fee"]) + 0.5)),
    lambda r: _json(r, "invalid_value:unit_price", _first_line("unit_price", r["lines"][0]["unit_price"] + "5")),
    lambda r: _json(r, "invalid_value:coupon_amount", _set("coupon_amount", "-5.00")),
    lambda r: _json(r, "invalid_value:unit_price", _first_line("unit_price", "1,299.00")),
    lambda r: _json(r, "invalid_value:updated_at", _strip_offset("updated_at")),
    lambda r: _json(r, "invalid_value:channel", _set("channel", "douyin")),
    lambda r: _json(r, "invalid_value:qty", _first_line("qty", 0)),
    lambda r: _json(r, "invalid_value:qty", _first_line("qty", -1)),
    lambda r: _json(r, "invalid_value:status", _set("status", "paid")),
    lambda r: _json(r, "invalid_value:payment_terms", _set("payment_terms", "cod")),
]

EVENT_MUTATORS: list[Mutator] = [
    _bad_json,
    lambda r: _json(r, "missing_field:event_id", _drop("event_id")),
    lambda r: _json(r, "missing_field:order_id", _set("order_id", None)),
    lambda r: _json(r, "invalid_value:status", _set("status", "shipping")),
    lambda r: _json(r, "invalid_value:occurred_at", _strip_offset("occurred_at")),
    lambda r: _json(r, "invalid_value:source", _set("source", "api")),
]

TRACKING_MUTATORS: list[Mutator] = [
    _bad_json,
    lambda r: _json(r, "missing_field:shipment_id", _drop("shipment_id")),
    lambda r: _json(r, "invalid_value:event", _set("event", "lost")),
    lambda r: _json(r, "invalid_value:occurred_at", _set("occurred_at", r["occurred_at"].replace(" ", "T") + "+08:00")),
]


def _csv(fmt: SourceFormat, record: dict, reason: str, **changes) -> tuple[str, str]:
    record = {**record, **changes}
    return csv_line(record.get(col) for col in fmt.columns), reason


def _extra_field(fmt: SourceFormat):
    def mutate(record: dict) -> tuple[str, str]:
        return csv_line([*(record.get(col) for col in fmt.columns), "x"]), "malformed_record"
    return mutate


GATEWAY_MUTATORS: list[Mutator] = [
    _extra_field(GATEWAY),
    lambda r: _csv(GATEWAY, r, "missing_field:txn_id", txn_id=""),
    lambda r: _csv(GATEWAY, r, "invalid_value:amount", amount=r["amount"] + "1"),
    lambda r: _csv(GATEWAY, r, "invalid_value:amount", amount="-" + r["amount"]),
    lambda r: _csv(GATEWAY, r, "invalid_value:amount", amount="1,234.50"),
    lambda r: _csv(GATEWAY, r, "invalid_value:created_at", created_at=r["created_at"].replace("T", " ").rstrip("Z")),
    lambda r: _csv(GATEWAY, r, "invalid_value:method", method="paypal"),
    lambda r: _csv(GATEWAY, r, "invalid_value:status", status="ok"),
    lambda r: _csv(GATEWAY, r, "missing_field:amount", amount=""),
]


def _bank_both_or_neither(record: dict) -> tuple[str, str]:
    amount = record["收入金额"] or record["支出金额"]
    if record["收入金额"]:
        return _csv(BANK, record, "invalid_value:收入金额", 支出金额=amount)
    return _csv(BANK, record, "invalid_value:收入金额", 收入金额="", 支出金额="")


BANK_MUTATORS: list[Mutator] = [
    _bank_both_or_neither,
    _extra_field(BANK),
    lambda r: _csv(BANK, r, "invalid_value:收入金额", 收入金额="", 支出金额=""),
    lambda r: _csv(BANK, r, "missing_field:交易流水号", 交易流水号=""),
    lambda r: _csv(BANK, r, "invalid_value:交易日期", 交易日期=r["交易日期"].replace("-", "/")),
]

SHIPMENT_MUTATORS: list[Mutator] = [
    _extra_field(SHIPMENTS),
    lambda r: _csv(SHIPMENTS, r, "missing_field:shipment_id", shipment_id=""),
    lambda r: _csv(SHIPMENTS, r, "missing_field:order_id", order_id=""),
    lambda r: _csv(SHIPMENTS, r, "invalid_value:created_at", created_at=r["created_at"].replace(" ", "T") + "+08:00"),
]


def _xml(record: dict, reason: str, change: Callable[[dict], None]) -> tuple[str, str]:
    record = copy.deepcopy(record)
    change(record)
    return invoice_xml(record), reason


def _net_amount(value: str):
    def change(record):
        record["Lines"][0]["NetAmount"] = value
    return change


INVOICE_MUTATORS: list[Mutator] = [
    lambda r: _xml(r, "missing_field:InvoiceId", _drop("InvoiceId")),
    lambda r: _xml(r, "missing_field:IssuedAt", _drop("IssuedAt")),
    lambda r: _xml(r, "invalid_value:NetAmount", _net_amount(r["Lines"][0]["NetAmount"] + "9")),
    lambda r: _xml(r, "invalid_value:IssuedAt", _strip_offset("IssuedAt")),
    lambda r: _xml(r, "invalid_value:Type", _set("Type", "proforma")),
    lambda r: _xml(r, "invalid_value:Status", _set("Status", "draft")),
]

MUTATORS: dict[str, list[Mutator]] = {
    ORDERS.key: ORDER_MUTATORS,
    EVENTS.key: EVENT_MUTATORS,
    GATEWAY.key: GATEWAY_MUTATORS,
    BANK.key: BANK_MUTATORS,
    SHIPMENTS.key: SHIPMENT_MUTATORS,
    TRACKING.key: TRACKING_MUTATORS,
    INVOICES.key: INVOICE_MUTATORS,
    PAYOUTS.key: [],  # settlement reports are machine-written: no invalid siblings (loader tests cover them)
}

# Share of records that get an invalid sibling, per source (the bank file is small: more there).
INVALID_RATE: dict[str, float] = {
    ORDERS.key: 0.006, EVENTS.key: 0.005, GATEWAY.key: 0.008, BANK.key: 0.05,
    SHIPMENTS.key: 0.008, TRACKING.key: 0.005, INVOICES.key: 0.012, PAYOUTS.key: 0.0,
}


