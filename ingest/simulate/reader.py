"""Reads a landing folder back the way the warehouse will see it, for the oracle.

Independent of the generator: it parses every file with the spec's rules (sources.md, Invalid
input) and keeps only what the loaders would load: valid records, not exact repeats, not
re-delivered files; it also lists every record it would quarantine, which the tests compare
with the simulator's own list of what it made invalid. Processing order is the spec's "later"
order: export date folder, then file path (byte order), then record number.
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from .oracle import (BankLine, GatewayTxn, Invoice, LandingData, OrderEvent, OrderSnapshot, PayoutRow, Shipment,
                     TrackingEvent)

CHINA = timezone(timedelta(hours=8))
DECIMAL_2 = re.compile(r"^\d+(\.\d{1,2})?$")
SIGNED_DECIMAL_2 = re.compile(r"^-?\d+(\.\d{1,2})?$")
BANK_DECIMAL = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$")
ANY_DECIMAL = re.compile(r"^\d+(\.\d+)?$")
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
GATEWAY_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
WMS_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ALNUM = re.compile(r"^[A-Za-z0-9]+$")
CURRENCY = re.compile(r"^[A-Z]{3}$")

CHANNELS = {"tmall", "jd", "pdd", "web", "store", "b2b"}
ORDER_STATUSES = {"created", "approved", "allocated", "shipped", "delivered", "completed", "cancelled",
                  "return_requested", "returned", "refunded"}
GATEWAY_COLUMNS = ["txn_id", "order_id", "method", "txn_type", "status", "amount", "currency", "fee", "created_at"]
BANK_COLUMNS = ["交易日期", "交易流水号", "对方户名", "收入金额", "支出金额", "币种", "摘要"]
SHIPMENT_COLUMNS = ["shipment_id", "order_id", "warehouse_id", "carrier", "tracking_no", "created_at", "items"]
PAYOUT_COLUMNS = ["payout_id", "payout_date", "currency", "txn_id"]

SOURCES = ("oms/orders", "oms/order_events", "payments/gateway", "payments/bank", "payments/payouts", "wms/shipments",
           "wms/tracking", "erp/invoices")
EXTENSIONS = {"oms/orders": "jsonl", "oms/order_events": "jsonl", "payments/gateway": "csv", "payments/bank": "csv",
              "payments/payouts": "csv",
              "wms/shipments": "csv", "wms/tracking": "jsonl", "erp/invoices": "xml"}


class Reject(Exception):
    """A record (or file) the loaders must quarantine, with its reason code."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class ReadResult:
    data: LandingData = field(default_factory=LandingData)
    as_of: datetime | None = None  # latest time stamp over every loaded record (exceptions.md)
    rejects: list[tuple[str, str, int, str]] = field(default_factory=list)  # source, file, record_no, reason
    duplicate_files: list[str] = field(default_factory=list)
    exact_repeats: int = 0


# ---------------------------------------------------------------- field checks

def required(record: dict, name: str):
    value = record.get(name)
    if value is None or value == "" or value == []:
        raise Reject(f"missing_field:{name}")
    return value


def text(record: dict, name: str, allowed: set | None = None, pattern: re.Pattern | None = None) -> str:
    value = required(record, name)
    if not isinstance(value, str) or (allowed is not None and value not in allowed) or (
            pattern is not None and not pattern.match(value)):
        raise Reject(f"invalid_value:{name}")
    return value


def amount(record: dict, name: str, pattern: re.Pattern = DECIMAL_2) -> Decimal:
    value = required(record, name)
    if not isinstance(value, str) or not pattern.match(value):
        raise Reject(f"invalid_value:{name}")
    return Decimal(value.replace(",", ""))


def instant(record: dict, name: str) -> datetime:
    value = text(record, name, pattern=ISO_WITH_OFFSET)
    try:
        return datetime.fromisoformat(value).astimezone(timezone.utc)
    except ValueError:
        raise Reject(f"invalid_value:{name}") from None


def exact_time(record: dict, name: str, pattern: re.Pattern, fmt: str, tz: timezone) -> datetime:
    value = text(record, name, pattern=pattern)
    try:
        return datetime.strptime(value, fmt).replace(tzinfo=tz).astimezone(timezone.utc)
    except ValueError:
        raise Reject(f"invalid_value:{name}") from None


def whole_number(value, name: str, positive: bool) -> int:
    if value is None or value == "":
        raise Reject(f"missing_field:{name}")
    if isinstance(value, bool) or not isinstance(value, int) or (positive and value <= 0):
        raise Reject(f"invalid_value:{name}")
    return value


# ---------------------------------------------------------------- one record per source

def parse_order(r: dict, pos) -> OrderSnapshot:
    order_id = text(r, "order_id", pattern=ALNUM)
    channel = text(r, "channel", CHANNELS)
    channel_order_no = r.get("channel_order_no") or ""
    if not isinstance(channel_order_no, str):
        raise Reject("invalid_value:channel_order_no")
    customer_id = text(r, "customer_id")
    customer_name = text(r, "customer_name")
    payment_terms = text(r, "payment_terms", {"prepaid", "net30"})
    currency = text(r, "currency", pattern=CURRENCY)
    entry_source = text(r, "entry_source", {"api", "manual_import"})
    status = text(r, "status", ORDER_STATUSES)
    created_at = instant(r, "created_at")
    updated_at = instant(r, "updated_at")
    raw_lines = required(r, "lines")
    if not isinstance(raw_lines, list):
        raise Reject("invalid_value:lines")
    lines = []
    for line in raw_lines:
        if not isinstance(line, dict):
            raise Reject("invalid_value:lines")
        whole_number(line.get("line_no"), "line_no", positive=False)
        sku = text(line, "sku")
        qty = whole_number(line.get("qty"), "qty", positive=True)
        lines.append((sku, qty, amount(line, "unit_price"), amount(line, "discount")))
    shipping = amount(r, "shipping_fee")
    coupon = amount(r, "coupon_amount")
    points = amount(r, "points_amount")
    amount(r, "tax_rate", ANY_DECIMAL)
    return OrderSnapshot(order_id, channel, channel_order_no, customer_id, customer_name, payment_terms, currency,
                         entry_source, status, created_at, updated_at, tuple(lines), shipping, coupon, points, pos)


def parse_event(r: dict, pos) -> OrderEvent:
    event_id = text(r, "event_id")
    order_id = text(r, "order_id")
    status = text(r, "status", ORDER_STATUSES)
    occurred_at = instant(r, "occurred_at")
    text(r, "source", {"oms", "manual_import"})
    return OrderEvent(event_id, order_id, status, occurred_at, pos)


def parse_tracking(r: dict, pos) -> TrackingEvent:
    shipment_id = text(r, "shipment_id")
    event = text(r, "event", {"picked", "shipped", "in_transit", "delivered", "exception", "returned_to_sender"})
    occurred_at = exact_time(r, "occurred_at", WMS_TIME, "%Y-%m-%d %H:%M:%S", CHINA)
    return TrackingEvent(shipment_id, event, occurred_at, pos)


def parse_gateway(r: dict, pos) -> GatewayTxn:
    txn_id = text(r, "txn_id")
    order_id = r.get("order_id") or ""
    text(r, "method", {"alipay", "wechat", "card", "unionpay"})
    txn_type = text(r, "txn_type", {"capture", "refund"})
    status = text(r, "status", {"succeeded", "failed", "pending"})
    value = amount(r, "amount")
    if value <= 0:
        raise Reject("invalid_value:amount")
    currency = text(r, "currency", pattern=CURRENCY)
    fee = amount(r, "fee") if r.get("fee") else Decimal("0")
    created_at = exact_time(r, "created_at", GATEWAY_TIME, "%Y-%m-%dT%H:%M:%SZ", timezone.utc)
    return GatewayTxn(txn_id, order_id, txn_type, status, value, currency, created_at, pos, fee)


def parse_payout(r: dict, pos) -> PayoutRow:
    payout_id = text(r, "payout_id", pattern=re.compile(r"^[A-Za-z0-9]+$"))
    day = text(r, "payout_date", pattern=DAY)
    try:
        payout_date = date.fromisoformat(day)
    except ValueError:
        raise Reject("invalid_value:payout_date") from None
    currency = text(r, "currency", pattern=CURRENCY)
    return PayoutRow(payout_id, payout_date, currency, text(r, "txn_id"), pos)


def parse_bank(r: dict, pos) -> BankLine:
    day = text(r, "交易日期", pattern=DAY)
    try:
        value_date = date.fromisoformat(day)
    except ValueError:
        raise Reject("invalid_value:交易日期") from None
    line_id = text(r, "交易流水号")
    credit_text, debit_text = r.get("收入金额") or "", r.get("支出金额") or ""
    if bool(credit_text) == bool(debit_text):
        raise Reject("invalid_value:收入金额")
    credit = amount(r, "收入金额", BANK_DECIMAL) if credit_text else None
    debit = amount(r, "支出金额", BANK_DECIMAL) if debit_text else None
    currency = text(r, "币种", pattern=CURRENCY)
    return BankLine(line_id, value_date, r.get("对方户名") or "", credit, debit, currency, r.get("摘要") or "", pos)


def parse_shipment(r: dict, pos) -> Shipment:
    shipment_id = text(r, "shipment_id")
    order_id = text(r, "order_id")
    # warehouse_id, carrier and tracking_no may be empty (contract: self pick-up, carrier assigned later)
    exact_time(r, "created_at", WMS_TIME, "%Y-%m-%d %H:%M:%S", CHINA)
    items = []
    for item in text(r, "items").split("|"):
        sku, _, qty = item.rpartition(":")
        if not sku or not qty.isdigit() or int(qty) <= 0:
            raise Reject("invalid_value:items")
        items.append((sku, int(qty)))
    return Shipment(shipment_id, order_id, tuple(items), pos)


def parse_invoice(element: ET.Element, pos) -> Invoice:
    r = {child.tag: (child.text or "").strip() for child in element if child.tag != "Lines"}
    invoice_id = text(r, "InvoiceId")
    text(r, "InvoiceNo", pattern=re.compile(r"^\d{20}$"))
    kind = text(r, "Type", {"normal", "credit_note"})
    status = text(r, "Status", {"issued", "voided"})
    issued_at = instant(r, "IssuedAt")
    text(r, "Currency", pattern=CURRENCY)
    text(r, "BuyerId")
    line_elements = element.findall("Lines/Line")
    if not line_elements:
        raise Reject("missing_field:Lines")
    lines = []
    for line in line_elements:
        cells = {child.tag: (child.text or "").strip() for child in line}
        lines.append((text(cells, "OrderId"), amount(cells, "NetAmount", SIGNED_DECIMAL_2),
                      amount(cells, "TaxAmount", SIGNED_DECIMAL_2)))
    return Invoice(invoice_id, kind, status, issued_at, tuple(lines), pos)


# ---------------------------------------------------------------- files

def _records(source: str, content: bytes):
    """Yield (record_no, raw text, parsed object or Reject) for one file; raises Reject for a
    malformed file."""
    if source == "erp/invoices":
        try:
            root = ET.fromstring(content)
        except ET.ParseError:
            raise Reject("malformed_file") from None
        for number, element in enumerate(root.findall("Invoice"), start=1):
            element.tail = None  # the text of the element itself, not the whitespace after it
            yield number, ET.tostring(element, encoding="unicode"), element
        return
    try:
        decoded = content.decode("gbk" if source == "payments/bank" else "utf-8")
    except UnicodeDecodeError:
        raise Reject("malformed_file") from None
    lines = decoded.splitlines()
    if EXTENSIONS[source] == "jsonl":
        for number, line in enumerate(lines, start=1):  # the record number is the line number
            if not line.strip():
                continue  # blank lines are not records
            try:
                parsed = json.loads(line)
                if not isinstance(parsed, dict):
                    parsed = Reject("malformed_record")
            except ValueError:
                parsed = Reject("malformed_record")
            yield number, line, parsed
        return
    columns = {"payments/gateway": GATEWAY_COLUMNS, "payments/bank": BANK_COLUMNS, "payments/payouts": PAYOUT_COLUMNS,
               "wms/shipments": SHIPMENT_COLUMNS}[source]
    if not lines or next(csv.reader([lines[0]])) != columns:
        raise Reject("malformed_file")
    for number, line in enumerate(lines[1:], start=1):
        row = next(csv.reader([line]), [])
        parsed = dict(zip(columns, row)) if len(row) == len(columns) else Reject("malformed_record")
        yield number, line, parsed


PARSERS = {"oms/orders": (parse_order, "orders"), "oms/order_events": (parse_event, "events"),
           "payments/gateway": (parse_gateway, "gateway"), "payments/bank": (parse_bank, "bank"),
           "payments/payouts": (parse_payout, "payouts"),
           "wms/shipments": (parse_shipment, "shipments"), "wms/tracking": (parse_tracking, "tracking"),
           "erp/invoices": (parse_invoice, "invoices")}


def landing_files(landing: Path, source: str) -> list[tuple[str, str]]:
    """(export_date, relative path) of every file of a source, in processing order."""
    base = landing / source
    if not base.is_dir():
        return []
    found = []
    for day_dir in base.iterdir():
        if day_dir.is_dir() and DAY.match(day_dir.name):
            for path in day_dir.glob(f"*.{EXTENSIONS[source]}"):
                found.append((day_dir.name, f"{source}/{day_dir.name}/{path.name}"))
    return sorted(found, key=lambda item: (item[0], item[1].encode("utf-8")))


AS_OF_FIELD = {"orders": "updated_at", "events": "occurred_at", "gateway": "created_at", "tracking": "occurred_at",
               "invoices": "issued_at"}


class _Sink:
    """Collects the loaded records of one source. Folded, it keeps only what the oracle can
    ever use (the winning version per key; the earliest scan per shipment and event), which
    keeps memory in check at 100k+ orders; `as_of` is taken over every record either way."""

    def __init__(self, target_name: str, fold: bool):
        self.target_name = target_name
        self.fold = fold
        self.items: list | dict = {} if fold else []
        self.stamp_field = AS_OF_FIELD.get(target_name)
        self.latest: datetime | None = None

    def add(self, record) -> None:
        if self.stamp_field:
            stamp = getattr(record, self.stamp_field)
            if self.latest is None or stamp > self.latest:
                self.latest = stamp
        if not self.fold:
            self.items.append(record)
            return
        name, items = self.target_name, self.items
        if name == "orders":  # greatest updated_at, tie → later (records arrive in position order)
            held = items.get(record.order_id)
            if held is None or record.updated_at >= held.updated_at:
                items[record.order_id] = record
        elif name == "events":  # a repeated event_id is the same event: the first delivery stays
            items.setdefault(record.event_id, record)
        elif name == "tracking":  # only the earliest scan of each kind matters
            key = (record.shipment_id, record.event)
            held = items.get(key)
            if held is None or record.occurred_at < held.occurred_at:
                items[key] = record
        else:  # gateway txn_id, bank line id, shipment_id, InvoiceId: the later one wins
            if name == "payouts":  # (payout_id, txn_id): the later row wins
                items[(record.payout_id, record.txn_id)] = record
                return
            key = {"gateway": "txn_id", "bank": "line_id", "shipments": "shipment_id", "invoices": "invoice_id"}[name]
            items[getattr(record, key)] = record

    def records(self) -> list:
        return list(self.items.values()) if self.fold else self.items


def read_landing(landing: Path, fold: bool = False) -> ReadResult:
    """Every source of a landing folder, as the loaders will load it (`fold`: winners only)."""
    result = ReadResult()
    seen_files: set[str] = set()
    loaded_hashes: dict[str, set[bytes]] = {}
    for source in SOURCES:
        parse, target_name = PARSERS[source]
        sink = _Sink(target_name, fold)
        hashes = loaded_hashes.setdefault(source.split("/")[0], set())
        for export_date, rel_path in landing_files(landing, source):
            content = (landing / rel_path).read_bytes()
            digest = hashlib.sha256(content).hexdigest()
            if digest in seen_files:
                result.duplicate_files.append(rel_path)
                continue
            seen_files.add(digest)
            try:
                for number, raw, parsed in _records(source, content):
                    record_hash = hashlib.blake2b(raw.encode("utf-8"), digest_size=16).digest()
                    if record_hash in hashes:
                        result.exact_repeats += 1
                        continue
                    try:
                        if isinstance(parsed, Reject):
                            raise parsed
                        sink.add(parse(parsed, (export_date, rel_path, number)))
                        hashes.add(record_hash)
                    except Reject as reject:
                        result.rejects.append((source, rel_path, number, reject.reason))
            except Reject as reject:
                result.rejects.append((source, rel_path, 0, reject.reason))
        setattr(result.data, target_name, sink.records())
        if sink.latest is not None and (result.as_of is None or sink.latest > result.as_of):
            result.as_of = sink.latest
    return result
