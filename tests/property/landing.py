"""Hypothesis strategies for small, contract-valid landing folders (docs/contract/sources.md).

They vary what the contract allows and the simulator never writes: any years with gaps between
export dates, several invoice lines naming one order (goods and freight), one invoice for several
orders, partial credit notes, empty optional fields, header-only files, byte-identical files on
different dates, events delivered before their order's first snapshot, CRLF or LF, a UTF-8 BOM,
records repeated across files, settlement reports or none. Every file is valid input: a
generated folder must load with zero rejects and build.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from hypothesis import strategies as st

CHINA = timezone(timedelta(hours=8))
CENT = Decimal("0.01")
BANK_HEADER = "交易日期,交易流水号,对方户名,收入金额,支出金额,币种,摘要"


def money(value: Decimal) -> str:
    return str(value.quantize(CENT))


@dataclass
class Landing:
    """Files by path relative to the landing folder, plus facts the properties check."""

    files: dict[str, bytes] = field(default_factory=dict)
    export_dates: list[str] = field(default_factory=list)

    def write(self, root: Path) -> Path:
        for relative, content in self.files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        return root


def _encode(lines: list[str], draw, encoding: str = "utf-8") -> bytes:
    """One file: LF or CRLF, and (UTF-8 only) a byte-order mark or not."""
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + newline
    if encoding == "gbk":
        return text.encode("gbk")
    bom = draw(st.booleans())
    return ("\ufeff" if bom else "").encode("utf-8") + text.encode("utf-8")


def _at(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), CHINA).replace(hour=hour, minute=minute)


@st.composite
def landings(draw) -> Landing:
    days = sorted(draw(st.lists(st.dates(date(2015, 1, 1), date(2030, 12, 31)), min_size=2, max_size=4, unique=True)))
    dates = [d.isoformat() for d in days]
    first, last = dates[0], dates[-1]
    landing = Landing(export_dates=dates)
    files: dict[str, list[str] | bytes] = {}

    def add(path: str, lines: list[str], encoding: str = "utf-8") -> None:
        landing.files[path] = _encode(lines, draw, encoding)

    orders, events, gateway, shipments, tracking, bank_lines, payout_rows = [], [], [], [], [], [], []
    captures_by_currency: dict[str, list[tuple[str, Decimal]]] = {}
    n_orders = draw(st.integers(1, 4))
    order_ids = [f"SO{9100 + i}" for i in range(n_orders)]
    totals: dict[str, Decimal] = {}
    currency_of: dict[str, str] = {}
    for i, order_id in enumerate(order_ids):
        terms = draw(st.sampled_from(["prepaid", "net30"]))
        currency = draw(st.sampled_from(["CNY", "CNY", "USD"]))
        lines = []
        for line_no in range(1, draw(st.integers(1, 2)) + 1):
            qty = draw(st.integers(1, 3))
            price = Decimal(draw(st.integers(100, 90000))) * CENT
            discount = Decimal(draw(st.integers(0, 99))) * CENT
            lines.append({"line_no": line_no, "sku": f"SKU-{i}{line_no}", "qty": qty,
                          "unit_price": money(price), "discount": money(discount)})
        shipping = Decimal(draw(st.integers(0, 2000))) * CENT
        total = sum(Decimal(l["qty"]) * Decimal(l["unit_price"]) - Decimal(l["discount"]) for l in lines) + shipping
        totals[order_id], currency_of[order_id] = total, currency
        snapshot_day = draw(st.sampled_from(dates))
        created = _at(snapshot_day, 9, i)
        snapshot = {"order_id": order_id, "channel": "store" if terms == "prepaid" else "b2b",
                    "customer_id": f"C{i}", "customer_name": f"客户{i}", "payment_terms": terms,
                    "currency": currency, "entry_source": "api", "status": "created",
                    "created_at": created.isoformat(), "updated_at": created.isoformat(), "lines": lines,
                    "shipping_fee": money(shipping), "coupon_amount": "0.00", "points_amount": "0.00",
                    "tax_rate": "0.13"}
        if draw(st.booleans()):  # channel_order_no is optional
            snapshot["channel_order_no"] = f"CH{i}"
        orders.append((snapshot_day, json.dumps(snapshot, ensure_ascii=False)))
        # events may arrive in an export date before the order's first snapshot
        event_day = draw(st.sampled_from(dates))
        event = {"event_id": f"E{i}", "order_id": order_id, "status": "created",
                 "occurred_at": created.isoformat(), "source": "oms"}
        if draw(st.booleans()):
            event["operator"] = "svc-oms"
        events.append((event_day, json.dumps(event, ensure_ascii=False)))
        if terms == "prepaid":
            fee = draw(st.sampled_from(["", "1.00", "0.00"]))
            txn_id = f"PAY{i}"
            gateway.append((snapshot_day, f"{txn_id},{order_id},alipay,capture,succeeded,{money(total)},{currency},{fee},"
                                          f"{created.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ}"))
            captures_by_currency.setdefault(currency, []).append((txn_id, total - Decimal(fee or "0")))
        else:
            payer = draw(st.sampled_from([f"客户{i}", ""]))  # 对方户名 may be empty
            bank_lines.append((last, f"{snapshot_day},BK{i},{payer},{money(total)},,{currency},货款 {order_id}"))
        carrier = draw(st.sampled_from(["SF", ""]))
        tracking_no = draw(st.sampled_from([f"T{i}", ""]))
        warehouse = draw(st.sampled_from(["WH1", ""]))
        items = "|".join(f"{l['sku']}:{l['qty']}" for l in lines)
        shipments.append((snapshot_day, f"SH{i},{order_id},{warehouse},{carrier},{tracking_no},"
                                        f"{created + timedelta(hours=3):%Y-%m-%d %H:%M:%S},{items}"))
        scan = {"shipment_id": f"SH{i}", "event": "shipped",
                "occurred_at": f"{created + timedelta(hours=4):%Y-%m-%d %H:%M:%S}"}
        if draw(st.booleans()):
            scan["location"] = "上海"
        tracking.append((snapshot_day, json.dumps(scan, ensure_ascii=False)))

    # invoices: one per order (goods, and maybe a freight line naming the same order), or one
    # merged invoice for all orders; maybe a credit note for part of the first invoice
    invoices = []
    merged = n_orders > 1 and draw(st.booleans())
    groups = [order_ids] if merged else [[o] for o in order_ids]
    for g, group in enumerate(groups):
        line_xml = []
        for order_id in group:
            gross = totals[order_id]
            parts = [gross]
            if draw(st.booleans()) and gross > 1:  # goods and freight: two lines, one order
                freight = (gross / 10).quantize(CENT)
                parts = [gross - freight, freight]
            for part in parts:
                tax = (part * Decimal("0.13") / Decimal("1.13")).quantize(CENT)
                line_xml.append(f"<Line><OrderId>{order_id}</OrderId><NetAmount>{money(part - tax)}</NetAmount>"
                                f"<TaxAmount>{money(tax)}</TaxAmount></Line>")
        invoices.append(_invoice(f"INV{g}", "normal", currency_of[group[0]], last, line_xml))
    if draw(st.booleans()):
        order_id = groups[0][0]
        part = (totals[order_id] / 2).quantize(CENT)
        tax = (part * Decimal("0.13") / Decimal("1.13")).quantize(CENT)
        invoices.append(_invoice("CN0", "credit_note", currency_of[order_id], last,
                                 [f"<Line><OrderId>{order_id}</OrderId><NetAmount>-{money(part - tax)}</NetAmount>"
                                  f"<TaxAmount>-{money(tax)}</TaxAmount></Line>"], original="INV0"))

    with_payouts = bool(captures_by_currency) and draw(st.booleans())
    if with_payouts:
        for currency, captures in captures_by_currency.items():
            payout_id = f"PO{currency}1"
            payout_rows += [f"{payout_id},{last},{currency},{txn_id}" for txn_id, _ in captures]
            net = sum(n for _, n in captures)
            if net > 0:
                bank_lines.append((last, f"{last},BKPO{currency},支付宝,{money(net)},,{currency},结算 {payout_id}"))

    def by_day(rows, header=None):
        out: dict[str, list[str]] = {}
        for day, row in rows:
            out.setdefault(day, [] if header is None else [header]).append(row)
        return out

    for day, rows in by_day(orders).items():
        add(f"oms/orders/{day}/orders.jsonl", rows)
    for day, rows in by_day(events).items():
        add(f"oms/order_events/{day}/events.jsonl", rows)
    gw_header = "txn_id,order_id,method,txn_type,status,amount,currency,fee,created_at"
    for day, rows in by_day(gateway, gw_header).items():
        add(f"payments/gateway/{day}/txns.csv", rows)
    for day, rows in by_day(bank_lines, BANK_HEADER).items():
        add(f"payments/bank/{day}/statement.csv", rows, "gbk")
    if draw(st.booleans()):  # a bank with nothing to report: header-only statements, byte-identical every day
        header_only = BANK_HEADER.encode("gbk") + b"\r\n"
        for day in dates[:-1]:
            landing.files[f"payments/bank/{day}/empty_statement.csv"] = header_only
    ship_header = "shipment_id,order_id,warehouse_id,carrier,tracking_no,created_at,items"
    for day, rows in by_day(shipments, ship_header).items():
        add(f"wms/shipments/{day}/shipments.csv", rows)
    for day, rows in by_day(tracking).items():
        add(f"wms/tracking/{day}/tracking.jsonl", rows)
    landing.files[f"erp/invoices/{last}/invoices.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<InvoiceBatch>\n' + "\n".join(invoices) + "\n</InvoiceBatch>\n"
    ).encode("utf-8")
    if with_payouts:
        add(f"payments/payouts/{last}/payouts.csv", ["payout_id,payout_date,currency,txn_id", *payout_rows])
    add("reference/fx_rates/fx.csv", ["date,currency,rate_to_cny", "2014-12-31,USD,7.1000"])
    if draw(st.booleans()):  # a byte-identical re-delivery on another date
        source_path = next(p for p in landing.files if p.startswith("oms/orders/"))
        other = next(d for d in dates if f"/{d}/" not in source_path)
        landing.files[f"oms/orders/{other}/orders_again.jsonl"] = landing.files[source_path]
    if draw(st.booleans()):  # a record repeated, as text, in another file
        day, row = orders[0]
        add(f"oms/orders/{last}/orders_repeat.jsonl", [row])
    return landing


def _invoice(invoice_id: str, kind: str, currency: str, day: str, lines: list[str], original: str | None = None) -> str:
    issued = _at(day, 20).isoformat()
    original_xml = f"<OriginalInvoiceId>{original}</OriginalInvoiceId>" if original else ""
    number = "2631200000000" + "".join(f"{ord(c) % 10}" for c in invoice_id).rjust(7, "0")[-7:]
    return (f"<Invoice><InvoiceId>{invoice_id}</InvoiceId><InvoiceNo>{number}</InvoiceNo>"
            f"<Type>{kind}</Type><Status>issued</Status><IssuedAt>{issued}</IssuedAt><Currency>{currency}</Currency>"
            f"<BuyerId>C0</BuyerId>{original_xml}<Lines>{''.join(lines)}</Lines></Invoice>")
