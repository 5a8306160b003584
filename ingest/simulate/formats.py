"""Text formats of every landing source (sources.md): time stamps, amounts, one record as text.

Everything here is pure: a record (dict of already formatted strings) in, its exact text out.
The writer (`landing.py`) decides where the text goes; the reader (`reader.py`) parses it back.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape

CHINA = timezone(timedelta(hours=8))  # Asia/Shanghai has had no DST since 1991: a fixed offset is exact.


@dataclass(frozen=True)
class SourceFormat:
    """How one landing source is laid out: file prefix, extension, encoding, CSV header."""

    key: str
    prefix: str
    ext: str
    encoding: str = "utf-8"
    columns: tuple[str, ...] | None = None  # CSV only

    @property
    def system(self) -> str:
        return self.key.split("/")[0]


GATEWAY_COLUMNS = ("txn_id", "order_id", "method", "txn_type", "status", "amount", "currency", "fee", "created_at")
BANK_COLUMNS = ("交易日期", "交易流水号", "对方户名", "收入金额", "支出金额", "币种", "摘要")
SHIPMENT_COLUMNS = ("shipment_id", "order_id", "warehouse_id", "carrier", "tracking_no", "created_at", "items")
PAYOUT_COLUMNS = ("payout_id", "payout_date", "currency", "txn_id")
FX_COLUMNS = ("date", "currency", "rate_to_cny")

ORDERS = SourceFormat("oms/orders", "orders", "jsonl")
EVENTS = SourceFormat("oms/order_events", "events", "jsonl")
GATEWAY = SourceFormat("payments/gateway", "txns", "csv", columns=GATEWAY_COLUMNS)
BANK = SourceFormat("payments/bank", "statement", "csv", encoding="gbk", columns=BANK_COLUMNS)
PAYOUTS = SourceFormat("payments/payouts", "payouts", "csv", columns=PAYOUT_COLUMNS)  # revision 2
SHIPMENTS = SourceFormat("wms/shipments", "shipments", "csv", columns=SHIPMENT_COLUMNS)
TRACKING = SourceFormat("wms/tracking", "tracking", "jsonl")
INVOICES = SourceFormat("erp/invoices", "invoices", "xml")

DATED_SOURCES = (ORDERS, EVENTS, GATEWAY, BANK, PAYOUTS, SHIPMENTS, TRACKING, INVOICES)
FX_SOURCE_KEY = "reference/fx_rates"


# ---------------------------------------------------------------- amounts (integer cents inside)

def money(cents: int) -> str:
    """Integer cents as a 2-decimal string (`-12.30` for negatives: credit notes only)."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def money_grouped(cents: int) -> str:
    """Bank style with thousands separators: `12,345.60`."""
    return f"{cents // 100:,}.{cents % 100:02d}"


# ---------------------------------------------------------------- time stamps (epoch seconds inside)

_EPOCH = datetime(1970, 1, 1)
_DATES: dict[int, str] = {}


def _parts(ts: float, offset_hours: int) -> tuple[str, str]:
    """(`YYYY-MM-DD`, `HH:MM:SS`) of an instant at a fixed offset; dates are cached because
    strftime dominated the generator's profile."""
    day, second = divmod(int(ts) + offset_hours * 3600, 86400)
    text = _DATES.get(day)
    if text is None:
        text = _DATES[day] = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")
    hours, rest = divmod(second, 3600)
    return text, f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def china_date(ts: float) -> str:
    """The China-local calendar date of an instant, `YYYY-MM-DD`."""
    return _parts(ts, 8)[0]


def iso_with_offset(ts: float, style: int) -> str:
    """OMS/ERP style. style 0: `+08:00` (most), 1: `Z`, 2: `+08:00` with milliseconds."""
    if style == 1:
        day, clock = _parts(ts, 0)
        return f"{day}T{clock}Z"
    day, clock = _parts(ts, 8)
    if style == 2:
        millis = int(round((ts - int(ts)) * 1000)) % 1000
        return f"{day}T{clock}.{millis:03d}+08:00"
    return f"{day}T{clock}+08:00"


def gateway_time(ts: float) -> str:
    """Gateway: UTC, exactly `YYYY-MM-DDTHH:MM:SSZ`."""
    day, clock = _parts(ts, 0)
    return f"{day}T{clock}Z"


def wms_time(ts: float) -> str:
    """WMS: naive China-local time, exactly `YYYY-MM-DD HH:MM:SS`."""
    day, clock = _parts(ts, 8)
    return f"{day} {clock}"


# ---------------------------------------------------------------- record text

def json_line(record: dict) -> str:
    """One JSON Lines record; non-ASCII kept as is (UTF-8 file)."""
    return json.dumps(record, ensure_ascii=False)


def csv_line(fields) -> str:
    """One CSV row, RFC 4180 quoting only where needed (e.g. `"12,345.60"`)."""
    out = []
    for value in fields:
        value = "" if value is None else str(value)
        if any(ch in value for ch in ',"\n\r'):
            value = '"' + value.replace('"', '""') + '"'
        out.append(value)
    return ",".join(out)


def csv_header(fmt: SourceFormat) -> str:
    return csv_line(fmt.columns)


def xml_batch_open(export_date: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<InvoiceBatch exportedAt="{export_date}T23:00:00+08:00">'


XML_BATCH_CLOSE = "</InvoiceBatch>"


def invoice_xml(invoice: dict) -> str:
    """One `<Invoice>` element as in examples/. Keys whose value is None are left out."""
    parts = ["  <Invoice>"]
    for tag in ("InvoiceId", "InvoiceNo", "Type", "Status", "IssuedAt", "Currency", "BuyerId", "OriginalInvoiceId"):
        value = invoice.get(tag)
        if value is not None:
            parts.append(f"    <{tag}>{escape(value)}</{tag}>")
    parts.append("    <Lines>")
    for line in invoice["Lines"]:
        cells = "".join(f"<{tag}>{escape(line[tag])}</{tag}>" for tag in ("OrderId", "NetAmount", "TaxAmount") if line.get(tag) is not None)
        parts.append(f"      <Line>{cells}</Line>")
    parts.append("    </Lines>")
    parts.append("  </Invoice>")
    return "\n".join(parts)


def record_text(fmt: SourceFormat, record) -> str:
    """Text of one record of `fmt` (dict for JSON/XML, dict keyed by column for CSV)."""
    if fmt.ext == "jsonl":
        return json_line(record)
    if fmt.ext == "csv":
        return csv_line(record.get(col) for col in fmt.columns)
    return invoice_xml(record)
