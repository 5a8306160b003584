"""Order lifecycles across the four systems, streamed to the landing writer.

Orders are generated in creation order, one at a time (or a small group sharing a merged
invoice); every record goes straight to the writer, which files it under the China-local date
it happened on. Nothing is kept per order once its lifecycle is written, so memory is bounded.

Timing rule that keeps a clean run free of exceptions: every step of a normal lifecycle happens
well inside the SLA window of the step before it. A step that falls after the end of the span
is simply not delivered, and then the window of the step before has not expired at as_of either.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime

from . import anomalies as A
from .catalog import (CARRIERS, CHANNEL_ORDER_PREFIX, CHANNEL_WEIGHTS, CITIES, PAYMENT_METHODS, TAX_RATES, WAREHOUSES,
                      make_b2b_customers, make_skus, nickname, remark_with_id, remark_without_id)
from .formats import (BANK, CHINA, EVENTS, GATEWAY, INVOICES, ORDERS, SHIPMENTS, TRACKING, SourceFormat, china_date,
                      gateway_time, iso_with_offset, money, money_grouped, record_text, wms_time)
from .invalid import INVALID_RATE, MUTATORS
from .landing import LandingWriter

MINUTE, HOUR, DAY = 60, 3600, 86400
USD_RATE = 7.1  # only used to size USD prices; the FX file carries the real daily rates


@dataclass
class Order:
    order_id: str
    channel: str
    channel_order_no: str | None
    customer_id: str
    customer_name: str
    payment_terms: str
    currency: str
    entry_source: str
    created_at: int
    lines: list[tuple[int, str, int, int, int]]  # line_no, sku, qty, unit price cents, discount cents
    shipping: int
    coupon: int
    points: int
    tax_rate: str
    anomaly: str | None = None
    variant: int = 0

    @property
    def total(self) -> int:
        """order_total in cents (sources.md)."""
        return sum(q * p - d for _, _, q, p, d in self.lines) + self.shipping - self.coupon - self.points


@dataclass
class Fulfilment:
    """What invoicing and payment collection need to know about an order's lifecycle."""

    first_shipped_at: int | None = None  # when the ERP should invoice (WMS or OMS shipped)
    delivered_at: int | None = None
    cancelled: bool = False
    returnable: bool = False


class Generator:
    """Writes the lifecycles of all orders of a simulation run."""

    def __init__(self, rng: random.Random, bad_rng: random.Random, writer: LandingWriter, clean: bool):
        self.rng = rng
        self.bad_rng = bad_rng  # invalid records and repeats: their own stream
        self.writer = writer
        self.clean = clean
        self.skus = make_skus(rng)
        self.b2b_customers = make_b2b_customers(rng)
        self.counters: dict[str, int] = {}
        self.recent_channel_numbers: dict[str, list[str]] = {}
        self.mutator_turn: dict[str, int] = {}
        self.orders_generated = 0
        self.scheduler: A.AnomalyScheduler | None = None
        # (exception_type, key) of every injection whose records were delivered: what the
        # generator *meant*; the oracle must find each of them (tests check it).
        self.injections: list[tuple[str, str]] = []
        self.last_txn: tuple[str, bool] = ("", False)
        # succeeded gateway transactions, for the gateway's daily payouts (settlement.py)
        self.succeeded_txns: list[dict] = []
        self.last_b2b_order: dict[str, str] = {}

    # ------------------------------------------------------------------ helpers

    def next_id(self, kind: str) -> int:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    def between(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def stamp(self, at: int, style: int | None = None) -> str:
        """OMS/ERP time stamp: `+08:00` mostly, some `Z`, some with milliseconds (then the
        instant really carries them: loaders must not truncate)."""
        if style is None:
            r = self.rng.random()
            style = 0 if r < 0.85 else (1 if r < 0.95 else 2)
        if style == 2:
            return iso_with_offset(at + self.rng.randint(1, 999) / 1000, 2)
        return iso_with_offset(at, style)

    def out(self, fmt: SourceFormat, ts: float | str, record, *, updates: bool = False) -> bool:
        """Deliver one valid record, sometimes followed by an invalid sibling or an exact repeat.
        Returns whether it was delivered (False: dated after the span)."""
        local_date = ts if isinstance(ts, str) else china_date(ts)
        if self.writer.emit(fmt, local_date, record, updates=updates) is None:
            return False
        if self.clean:
            return True
        if self.bad_rng.random() < INVALID_RATE[fmt.key]:
            mutators = MUTATORS[fmt.key]
            turn = self.mutator_turn.get(fmt.key, 0)
            self.mutator_turn[fmt.key] = turn + 1
            text, reason = mutators[turn % len(mutators)](record)
            self.writer.emit_text(fmt, local_date, text, reason=reason)
        if self.bad_rng.random() < 0.003:
            # An exact repeat goes to the day's updates file: after everything it could
            # otherwise wrongly win over (a later status of the same txn, a void, ...).
            self.writer.emit_text(fmt, local_date, record_text(fmt, record), updates=True, exact_repeat=True)
        if fmt.ext == "jsonl" and self.bad_rng.random() < 0.001:
            self.writer.blank_line(fmt, local_date)
        return True

    # ------------------------------------------------------------------ orders

    def new_order(self, created_at: int, seq: int, anomaly: str | None, customer: tuple[str, str] | None = None,
                  backlog: bool = False) -> Order:
        rng = self.rng
        created_local = datetime.fromtimestamp(created_at, CHINA)
        order_id = f"SO{created_local:%Y%m%d}{seq:06d}"
        if customer is not None:
            channel = "b2b"
        elif backlog:
            channel = "b2b" if rng.random() < 0.7 else rng.choice(("tmall", "jd", "web"))
        else:
            channel = rng.choices([c for c, _ in CHANNEL_WEIGHTS], [w for _, w in CHANNEL_WEIGHTS])[0]
        if anomaly in A.PREPAID_TYPES and channel == "b2b":
            channel = rng.choice(("tmall", "jd", "web"))
        if anomaly == A.DUPLICATE_ORDER and channel == "store":
            channel = "tmall"
        if channel == "b2b":
            customer_id, customer_name = customer or rng.choice(self.b2b_customers)
            net30 = rng.random() < 0.85 or customer is not None or (backlog and anomaly == A.AR_OVERDUE)
            if anomaly in A.PREPAID_TYPES:
                net30 = False
            payment_terms = "net30" if net30 else "prepaid"
        else:
            customer_id, customer_name = f"C{rng.randint(100, 899999):06d}", nickname(rng)
            payment_terms = "prepaid"
        currency = "USD" if channel in ("web", "b2b") and rng.random() < 0.1 else "CNY"
        entry_source = "manual_import" if rng.random() < (0.1 if channel == "b2b" else 0.02) else "api"
        if anomaly == A.MANUAL_IMPORT_BYPASS:
            entry_source = "manual_import"

        channel_order_no = None
        duplicated = False
        if channel != "store":
            serial = self.next_id("channel_no")
            # Multiplying by a number prime to 10 modulo 10^10 is a bijection: unique, random-looking.
            channel_order_no = f"{CHANNEL_ORDER_PREFIX[channel]}{serial * 7919 % 10**10:010d}"
            recent = self.recent_channel_numbers.setdefault(channel, [])
            if anomaly == A.DUPLICATE_ORDER and recent:
                channel_order_no = rng.choice(recent)  # the channel pushed the same order twice
                duplicated = True
            else:
                recent.append(channel_order_no)
                if len(recent) > 50:
                    recent.pop(0)

        lines = []
        n_lines = rng.choices((1, 2, 3, 4), (45, 30, 15, 10))[0]
        for line_no in range(1, n_lines + 1):
            sku, price = rng.choice(self.skus)
            if currency == "USD":
                price = max(100, int(price / USD_RATE) // 10 * 10)
            qty = rng.randint(5, 60) if channel == "b2b" else rng.choices((1, 2, 3), (70, 22, 8))[0]
            discount = 0
            if rng.random() < 0.25:
                discount = min(qty * price // 2, rng.randint(1, 20) * 100)
            lines.append((line_no, sku, qty, price, discount))
        subtotal = sum(q * p - d for _, _, q, p, d in lines)
        shipping = 0 if channel == "b2b" or subtotal > 9900 else rng.choice((0, 600, 800, 1000, 1200))
        coupon = points = 0
        if channel in ("tmall", "jd", "pdd") and rng.random() < 0.3:
            coupon = min(subtotal // 4, rng.choice((300, 500, 1000, 2000, 3000)))
        if channel != "b2b" and rng.random() < 0.2:
            points = min(subtotal // 10, rng.randint(1, 10) * 100)
        tax_rate = rng.choices([r for r, _ in TAX_RATES], [w for _, w in TAX_RATES])[0]
        order = Order(order_id, channel, channel_order_no, customer_id, customer_name, payment_terms, currency,
                      entry_source, created_at, lines, shipping, coupon, points, tax_rate, anomaly,
                      rng.randrange(2))
        self.orders_generated += 1
        if anomaly and anomaly not in (A.ORPHAN_PAYMENT, A.UNAPPLIED_CASH):
            if anomaly != A.DUPLICATE_ORDER or duplicated:
                self.injections.append((anomaly, order_id))
        return order

    def snapshot(self, order: Order, status: str, at: int, *, updates: bool = False, style: int | None = None,
                 name: str | None = None) -> None:
        record = {"order_id": order.order_id, "channel": order.channel}
        if order.channel_order_no is not None:
            record["channel_order_no"] = order.channel_order_no
        elif self.rng.random() < 0.5:
            record["channel_order_no"] = ""  # store orders: empty or absent, both occur
        record.update({
            "customer_id": order.customer_id, "customer_name": name or order.customer_name,
            "payment_terms": order.payment_terms, "currency": order.currency, "entry_source": order.entry_source,
            "status": status,
            "created_at": iso_with_offset(order.created_at, 0),
            "updated_at": self.stamp(at, style),
            "lines": [{"line_no": n, "sku": s, "qty": q, "unit_price": money(p), "discount": money(d)}
                      for n, s, q, p, d in order.lines],
            "shipping_fee": money(order.shipping), "coupon_amount": money(order.coupon),
            "points_amount": money(order.points), "tax_rate": order.tax_rate,
        })
        self.out(ORDERS, at, record, updates=updates)

    def event(self, order: Order, status: str, at: int) -> None:
        if order.anomaly == A.MANUAL_IMPORT_BYPASS:
            return  # keyed in by hand outside the OMS flow: no status events at all
        source = "manual_import" if order.entry_source == "manual_import" and self.rng.random() < 0.5 else "oms"
        record = {"event_id": f"EV{self.next_id('event'):010d}", "order_id": order.order_id, "status": status,
                  "occurred_at": self.stamp(at), "source": source,
                  "operator": "svc-oms" if source == "oms" else f"user{self.rng.randint(1, 40):03d}"}
        self.out(EVENTS, at, record)
        if self.rng.random() < 0.02:
            # The same event delivered again by the OMS outbox: same event_id and instant,
            # different text (the outbox tags its retries), so only the event_id tells.
            again = dict(record, operator=record["operator"] + "-retry")
            self.out(EVENTS, at + self.between(60, 6 * HOUR), again)

    def status(self, order: Order, status: str, at: int, *, snapshot: bool = True) -> None:
        """An OMS status change: the event, and (usually) a new snapshot."""
        self.event(order, status, at)
        if snapshot:
            self.snapshot(order, status, at + self.between(0, 5))

    # ------------------------------------------------------------------ payments

    def gateway_row(self, order_ref: str, txn_id: str, method: str, txn_type: str, status: str, amount: int,
                    currency: str, created_at: int, at: int, *, updates: bool = False) -> dict:
        """One gateway CSV row; `self.last_txn` remembers (txn_id, delivered)."""
        fee = ""
        if txn_type == "capture" and status == "succeeded" and self.rng.random() < 0.9:
            fee = money(max(1, amount * 6 // 1000))
        record = {"txn_id": txn_id, "order_id": order_ref, "method": method, "txn_type": txn_type, "status": status,
                  "amount": money(amount), "currency": currency, "fee": fee, "created_at": gateway_time(created_at)}
        self.last_txn = (txn_id, self.out(GATEWAY, at, record, updates=updates))
        if status == "succeeded":
            self.succeeded_txns.append({**record, "created": created_at, "amount_cents": amount,
                                        "fee_cents": int(fee.replace(".", "")) if fee else 0})
        return record

    def gateway(self, order: Order, txn_type: str, amount: int, at: int, *, currency: str | None = None,
                order_ref: str | None = None, plain: bool = False) -> int:
        """One succeeded gateway transaction, sometimes first seen pending and updated in a later
        file, sometimes after a failed attempt (not when `plain`: the injected timing must hold).
        Returns when the money is confirmed."""
        currency = currency or order.currency
        method = "card" if currency == "USD" else self.rng.choice(PAYMENT_METHODS)
        order_ref = order.order_id if order_ref is None else order_ref
        if txn_type == "capture" and not plain and self.rng.random() < 0.05:
            failed = f"PAY{self.next_id('txn'):09d}"
            self.gateway_row(order_ref, failed, method, txn_type, "failed", amount, currency, at, at)
            at += self.between(60, 5 * MINUTE)
        txn_id = f"PAY{self.next_id('txn'):09d}"
        if self.rng.random() < 0.12:
            pending = self.gateway_row(order_ref, txn_id, method, txn_type, "pending", amount, currency, at, at)
            confirmed = at + self.between(30, 40 * MINUTE)
            self.gateway_row(order_ref, txn_id, method, txn_type, "succeeded", amount, currency, at, confirmed,
                             updates=True)
            if not self.clean and self.rng.random() < 0.2:
                # The pending row delivered again, word for word, after its update: an exact
                # repeat, which must not win over the update.
                self.writer.emit_text(GATEWAY, china_date(confirmed), record_text(GATEWAY, pending), updates=True,
                                      exact_repeat=True)
            return confirmed
        self.gateway_row(order_ref, txn_id, method, txn_type, "succeeded", amount, currency, at, at)
        return at

    def collect_prepaid(self, order: Order, at: int) -> int:
        """Captures for a prepaid order; returns when the order is paid (ready to approve)."""
        total = order.total
        if order.anomaly == A.DUPLICATE_PAYMENT:
            done = self.gateway(order, "capture", total, at, plain=True)
            twin = at + self.between(MINUTE, 9 * MINUTE)
            self.gateway(order, "capture", total, twin, plain=True)
            if order.variant:
                self.gateway(order, "refund", total, twin + self.between(DAY, 2 * DAY))
            return max(done, twin)
        if order.anomaly == A.PAYMENT_AMOUNT_MISMATCH:
            delta = order.shipping if order.shipping and order.variant else self.between(2, max(2, total // 5))
            under = order.variant and total - delta >= 1
            return self.gateway(order, "capture", total - delta if under else total + delta, at)
        if order.anomaly == A.CURRENCY_MISMATCH:
            if order.currency == "CNY":
                return self.gateway(order, "capture", max(1, int(total / USD_RATE)), at, currency="USD")
            return self.gateway(order, "capture", int(total * USD_RATE), at, currency="CNY")
        second_at = at + self.between(MINUTE, 8 * MINUTE)
        if total >= 2 and self.rng.random() < 0.05 and china_date(second_at) == china_date(at):
            # Paid in two halves (equal when the total is even): not a duplicate payment. Both on
            # the same China date, so the end of the span never falls between them (one half
            # alone would be a PAYMENT_AMOUNT_MISMATCH, which has no grace window).
            half = total // 2
            first = self.gateway(order, "capture", half, at, plain=True)
            second = self.gateway(order, "capture", total - half, second_at, plain=True)
            return max(first, second)
        return self.gateway(order, "capture", total, at)

    def bank_credit(self, payer: str, amount: int, currency: str, at: int, remark: str) -> str | None:
        """A customer receipt; returns its 交易流水号 when delivered."""
        day = china_date(at)
        record = {"交易日期": day, "交易流水号": f"BK{day.replace('-', '')}{self.next_id('bank'):07d}", "对方户名": payer,
                  "收入金额": money_grouped(amount), "支出金额": "", "币种": currency, "摘要": remark}
        return record["交易流水号"] if self.out(BANK, day, record) else None

    def bank_debit(self, payee: str, amount: int, day: str, remark: str) -> None:
        record = {"交易日期": day, "交易流水号": f"BK{day.replace('-', '')}{self.next_id('bank'):07d}", "对方户名": payee,
                  "收入金额": "", "支出金额": money_grouped(amount), "币种": "CNY", "摘要": remark}
        self.out(BANK, day, record)

    # ------------------------------------------------------------------ lifecycle

    def fulfil(self, order: Order) -> Fulfilment:
        """OMS, gateway (prepaid) and WMS records up to delivery; returns what invoicing needs."""
        rng, between, anomaly = self.rng, self.between, order.anomaly
        result = Fulfilment()
        t = order.created_at
        skip_created_event = anomaly == A.ILLEGAL_STATUS_TRANSITION and order.variant == 0
        self.snapshot(order, "created", t, style=0)
        if not skip_created_event:
            self.event(order, "created", t)

        if anomaly == A.STUCK_AWAITING_APPROVAL:
            if order.payment_terms == "prepaid" and order.variant:
                self.collect_prepaid(order, t + between(MINUTE, 20 * MINUTE))
            return result
        if order.payment_terms == "prepaid":
            if anomaly is None and rng.random() < 0.03:  # abandoned before paying
                self.status(order, "cancelled", t + between(10 * MINUTE, 10 * HOUR))
                result.cancelled = True
                return result
            paid = self.collect_prepaid(order, t + between(20, 30 * MINUTE))
            t = paid + between(MINUTE, 4 * HOUR)
        else:
            t = t + between(10 * MINUTE, 20 * HOUR)
        self.status(order, "approved", t, snapshot=rng.random() < 0.5)

        if anomaly == A.CANCELLED_BUT_CAPTURED or (anomaly is None and rng.random() < 0.03):
            t += between(HOUR, 20 * HOUR)
            if anomaly == A.CANCELLED_BUT_CAPTURED and order.variant:
                self.snapshot(order, "cancelled", t)  # status only: the cancel time is updated_at
            else:
                self.status(order, "cancelled", t)
            result.cancelled = True
            if order.payment_terms == "prepaid" and anomaly is None:
                self.gateway(order, "refund", order.total, t + between(10 * MINUTE, 48 * HOUR))
            return result

        t += between(10 * MINUTE, 10 * HOUR)
        self.status(order, "allocated", t, snapshot=rng.random() < 0.5 or anomaly == A.SHIPMENT_NOT_REFLECTED_IN_OMS)
        if anomaly == A.STUCK_AWAITING_SHIPMENT:
            return result
        if anomaly is None and rng.random() < 0.01:
            t += between(HOUR, 10 * HOUR)
            self.status(order, "cancelled", t)
            if order.payment_terms == "prepaid":
                self.gateway(order, "refund", order.total, t + between(10 * MINUTE, 48 * HOUR))
            result.cancelled = True
            return result

        if anomaly == A.OMS_SHIPPED_WITHOUT_SHIPMENT:
            shipped = t + between(2 * HOUR, 20 * HOUR)
            if order.variant:  # the WMS created the shipment but it never left the warehouse
                self.shipment(order, order.lines, t + between(30 * MINUTE, 2 * HOUR), picked_only=True)
            self.status(order, "shipped", shipped)
            result.first_shipped_at = shipped
            return result

        # WMS: one shipment, or a split in two when there are several lines.
        groups = [order.lines]
        if len(order.lines) >= 2 and rng.random() < 0.15:
            cut = rng.randint(1, len(order.lines) - 1)
            groups = [order.lines[:cut], order.lines[cut:]]
        ship_start = t + between(30 * MINUTE, 3 * HOUR)
        shipped_times, delivered_times = [], []
        for index, group in enumerate(groups):
            created = ship_start + index * between(HOUR, 12 * HOUR)
            shipped, delivered = self.shipment(
                order, group, created,
                short=anomaly == A.SHIPPED_QTY_MISMATCH and index == 0,
                delivered_first=anomaly == A.DELIVERY_BEFORE_SHIPMENT and index == 0)
            shipped_times.append(shipped)
            delivered_times.append(delivered)
        result.first_shipped_at = min(shipped_times)
        result.delivered_at = max(delivered_times)
        if anomaly == A.SHIPMENT_NOT_REFLECTED_IN_OMS:
            return result  # the OMS never hears about it: stays `allocated`
        if not (anomaly == A.ILLEGAL_STATUS_TRANSITION and order.variant == 1):
            self.status(order, "shipped", result.first_shipped_at + between(MINUTE, 30 * MINUTE))
        else:  # allocated → delivered: the shipped event was lost
            self.snapshot(order, "shipped", result.first_shipped_at + between(MINUTE, 30 * MINUTE))
        self.status(order, "delivered", result.delivered_at + between(MINUTE, 2 * HOUR))
        result.returnable = order.payment_terms == "prepaid" and anomaly is None
        return result

    def shipment(self, order: Order, lines, created: int, *, short: bool = False, delivered_first: bool = False,
                 picked_only: bool = False) -> tuple[int, int]:
        """One WMS shipment and its carrier scans; returns (shipped_at, delivered_at)."""
        rng, between = self.rng, self.between
        carrier, prefix = rng.choice(CARRIERS)
        shipment_id = f"SH{self.next_id('shipment'):09d}"
        quantities: dict[str, int] = {}
        for _, sku, qty, _, _ in lines:
            quantities[sku] = quantities.get(sku, 0) + qty
        items = list(quantities.items())
        if short:  # one unit short, or the wrong sku picked
            sku, qty = items[0]
            items[0] = (sku, qty - 1) if qty >= 2 else (self.other_sku(set(quantities)), qty)
        record = {"shipment_id": shipment_id, "order_id": order.order_id, "warehouse_id": rng.choice(WAREHOUSES),
                  "carrier": carrier, "tracking_no": f"{prefix}{rng.randint(10**9, 10**10 - 1)}",
                  "created_at": wms_time(created), "items": "|".join(f"{s}:{q}" for s, q in items)}
        self.out(SHIPMENTS, created, record)
        origin, destination = rng.choice(CITIES), rng.choice(CITIES)
        picked = created + between(10 * MINUTE, 2 * HOUR)
        self.scan(shipment_id, "picked", picked, origin)
        if picked_only:
            return picked, picked
        if delivered_first:  # the courier scanned `delivered` before the depot scanned `shipped`
            delivered = picked + between(2 * HOUR, 6 * HOUR)
            shipped = delivered + between(HOUR, 5 * HOUR)
            self.scan(shipment_id, "delivered", delivered, destination)
            self.scan(shipment_id, "shipped", shipped, origin)
            return delivered, shipped
        shipped = picked + between(10 * MINUTE, 4 * HOUR)
        self.scan(shipment_id, "shipped", shipped, origin)
        in_transit = shipped + between(HOUR, 10 * HOUR)
        self.scan(shipment_id, "in_transit", in_transit, rng.choice(CITIES))
        if rng.random() < 0.03:
            self.scan(shipment_id, "exception", in_transit + between(MINUTE, HOUR), destination)
        delivered = in_transit + between(6 * HOUR, 30 * HOUR)
        self.scan(shipment_id, "delivered", delivered, destination)
        return shipped, delivered

    def scan(self, shipment_id: str, event: str, at: int, location: str) -> None:
        record = {"shipment_id": shipment_id, "event": event, "occurred_at": wms_time(at)}
        if self.rng.random() < 0.9:
            record["location"] = location
        self.out(TRACKING, at, record)

    def other_sku(self, taken: set[str]) -> str:
        while True:
            sku = self.rng.choice(self.skus)[0]
            if sku not in taken:
                return sku

    # ------------------------------------------------------------------ invoicing and after

    def invoice_lines(self, order: Order, gross: int, sign: int = 1) -> list[dict]:
        rate = int(round(float(order.tax_rate) * 100))
        net = (gross * 100 + (100 + rate) // 2) // (100 + rate)
        return [{"OrderId": order.order_id, "NetAmount": money(sign * net), "TaxAmount": money(sign * (gross - net))}]

    def invoice(self, orders: list[Order], issued: int, *, kind: str = "normal", original: str | None = None,
                gross: list[int] | None = None) -> dict:
        invoice_id = f"INV{self.next_id('invoice'):09d}"
        lines = []
        for index, order in enumerate(orders):
            amount = gross[index] if gross else order.total
            lines += self.invoice_lines(order, amount, -1 if kind == "credit_note" else 1)
        record = {"InvoiceId": invoice_id, "InvoiceNo": f"2631200{self.next_id('invoice_no'):013d}", "Type": kind,
                  "Status": "issued", "IssuedAt": self.stamp(issued),
                  "Currency": orders[0].currency, "BuyerId": orders[0].customer_id, "OriginalInvoiceId": original,
                  "Lines": lines}
        self.out(INVOICES, issued, record)
        return record

    def void(self, record: dict, at: int) -> None:
        """The ERP re-exports the same InvoiceId as voided, in a later file."""
        self.out(INVOICES, at, dict(record, Status="voided"), updates=True)

    def invoice_group(self, orders: list[Order], results: list[Fulfilment]) -> list[tuple[Order, Fulfilment, int, str]]:
        """Issue the invoices; returns (order, fulfilment, invoiced at, invoice id) per invoiced order."""
        between = self.between
        shipped = [(o, r) for o, r in zip(orders, results) if r.first_shipped_at is not None and not r.cancelled]
        if not shipped:
            return []
        earliest = min(r.first_shipped_at for _, r in shipped)
        latest = max(r.first_shipped_at for _, r in shipped)
        if len(shipped) > 1 and latest - earliest < 16 * HOUR:  # merged invoice for the b2b customer
            issued = latest + between(10 * MINUTE, 2 * HOUR)
            invoice_id = self.invoice([o for o, _ in shipped], issued)["InvoiceId"]
            return [(o, r, issued, invoice_id) for o, r in shipped]
        invoiced = []
        for order, result in shipped:
            issued = result.first_shipped_at + between(HOUR, 8 * HOUR)
            if order.anomaly == A.SHIPPED_NOT_INVOICED:
                if order.variant:  # issued, then voided and never re-issued
                    self.void(self.invoice([order], issued), issued + between(HOUR, 6 * HOUR))
                continue
            if order.anomaly == A.INVOICE_AMOUNT_MISMATCH:
                if order.variant:  # invoiced twice
                    record = self.invoice([order], issued)
                    self.invoice([order], issued + between(HOUR, 3 * HOUR))
                else:  # shipping fee left off (or a wrong price keyed in)
                    wrong = order.total - order.shipping if order.shipping else order.total + 10000
                    record = self.invoice([order], issued, gross=[wrong])
                invoiced.append((order, result, issued, record["InvoiceId"]))
                continue
            record = self.invoice([order], issued)
            if self.rng.random() < 0.04:  # voided (wrong buyer details) and re-issued
                voided = issued + between(HOUR, 6 * HOUR)
                self.void(record, voided)
                issued = voided + between(10 * MINUTE, 3 * HOUR)
                record = self.invoice([order], issued)
            invoiced.append((order, result, issued, record["InvoiceId"]))
        return invoiced

    def after_invoice(self, order: Order, result: Fulfilment, invoiced_at: int, invoice_ref: str) -> None:
        """Net30 collection by bank transfer; completion or a return with refund and credit note."""
        rng, between, anomaly = self.rng, self.between, order.anomaly
        if order.payment_terms == "net30":
            if anomaly == A.AR_OVERDUE and order.variant == 0:
                pass  # never paid
            else:
                paid_at = invoiced_at + between(2 * DAY, 25 * DAY)
                amount = order.total // 2 if anomaly == A.AR_OVERDUE else order.total
                if self.clean or rng.random() < 0.8:
                    remark = remark_with_id(rng, order.order_id, order.channel_order_no or "")
                    previous = self.last_b2b_order.get(order.customer_id)
                    if not self.clean and previous and rng.random() < 0.05:
                        # Two ids in one remark: rule 1 takes the leftmost, this order's.
                        remark += f" (上次 {previous})"
                else:
                    remark = remark_without_id(rng, order.order_id)
                self.last_b2b_order[order.customer_id] = order.order_id
                payer = order.customer_name + (" " if rng.random() < 0.05 else "")  # trailing blank: trimmed
                self.bank_credit(payer, amount, order.currency, paid_at, remark)
        if result.delivered_at is None or order.anomaly in (A.SHIPMENT_NOT_REFLECTED_IN_OMS,):
            return
        delivered_oms = result.delivered_at + 3 * HOUR
        wants_return = result.returnable and rng.random() < 0.05
        if anomaly == A.REFUND_WITHOUT_CREDIT_NOTE:
            wants_return = True
        if not wants_return:
            if anomaly != A.DELIVERY_BEFORE_SHIPMENT or rng.random() < 0.5:
                self.status(order, "completed", delivered_oms + between(DAY, 4 * DAY))
            return
        fast = anomaly == A.REFUND_WITHOUT_CREDIT_NOTE
        requested = delivered_oms + (between(HOUR, 4 * HOUR) if fast else between(2 * HOUR, 2 * DAY))
        self.status(order, "return_requested", requested)
        returned = requested + (between(4 * HOUR, 10 * HOUR) if fast else between(DAY, 2 * DAY))
        self.status(order, "returned", returned)
        refunded = self.gateway(order, "refund", order.total, returned + between(HOUR, 3 * HOUR))
        self.status(order, "refunded", refunded + between(MINUTE, HOUR))
        if anomaly != A.REFUND_WITHOUT_CREDIT_NOTE:
            self.invoice([order], refunded + between(HOUR, 48 * HOUR), kind="credit_note", original=invoice_ref)

    def run_group(self, orders: list[Order]) -> None:
        """Full lifecycle of one order, or of a b2b group that shares a merged invoice."""
        results = [self.fulfil(order) for order in orders]
        for order in orders:
            self.extras(order)
        for order, result, invoiced_at, invoice_id in self.invoice_group(orders, results):
            self.after_invoice(order, result, invoiced_at, invoice_id)

    def extras(self, order: Order) -> None:
        """Records that belong to no order: orphan captures, unapplied bank credits, tie snapshots."""
        rng, between = self.rng, self.between
        at = order.created_at + between(HOUR, 2 * DAY)
        if order.anomaly == A.ORPHAN_PAYMENT:
            style = self.next_id("orphan_style") % 3
            if style == 0:
                reference = ""
            elif style == 1:
                reference = f"SO{datetime.fromtimestamp(order.created_at, CHINA):%Y%m%d}9{rng.randint(0, 99999):05d}"
            else:
                reference = order.order_id.lower()  # ids match case-sensitively: this is no order
            self.gateway(order, "capture", rng.randint(1000, 200000), at, order_ref=reference,
                         currency=rng.choice(("CNY", "CNY", "USD")))
            txn_id, delivered = self.last_txn
            if delivered:
                self.injections.append((A.ORPHAN_PAYMENT, txn_id))
        elif order.anomaly == A.UNAPPLIED_CASH:
            if self.next_id("unapplied_style") % 2:
                line_id = self.bank_credit(nickname(rng), rng.randint(100, 500000), "CNY", at, "转账")
            else:
                payer = rng.choice(self.b2b_customers)[1]
                line_id = self.bank_credit(payer, rng.randint(100, 500000) * 100 + 37, "CNY", at, "预付款")
            if line_id:
                self.injections.append((A.UNAPPLIED_CASH, line_id))
        if not self.clean and rng.random() < 0.004:
            # Records pointing at nothing known: valid input, loaded, and they raise nothing
            # (an event of an order the OMS never sent, a scan of an unknown shipment, a refund
            # with a reference to no order: only captures can be orphans).
            ghost = f"SO{datetime.fromtimestamp(order.created_at, CHINA):%Y%m%d}9{rng.randint(0, 99999):05d}"
            self.out(EVENTS, at, {"event_id": f"EV{self.next_id('event'):010d}", "order_id": ghost,
                                  "status": "created", "occurred_at": self.stamp(at), "source": "oms"})
            self.scan(f"SH9{rng.randint(0, 10**8):09d}", "in_transit", at, rng.choice(CITIES))
            self.gateway(order, "refund", rng.randint(100, 5000), at, order_ref=ghost)
        if not self.clean and rng.random() < 0.01 and order.channel != "b2b":
            # The first snapshot re-sent with the same updated_at (nickname corrected): on a tie
            # of updated_at the later one wins.
            self.snapshot(order, "created", order.created_at, style=0, updates=True, name=order.customer_name + "_")

    def daily_debits(self, day: str) -> None:
        """Outgoing bank lines (taxes, fees): only the cash reconciliation reads them."""
        self.bank_debit("国家税务总局", self.rng.randint(100000, 9000000), day, "增值税")
        if self.rng.random() < 0.7:
            self.bank_debit("本行", self.rng.randint(500, 20000), day, "手续费")


def day_start(day: date) -> int:
    """Epoch seconds of 00:00 China time on `day`."""
    return int(datetime(day.year, day.month, day.day, tzinfo=CHINA).timestamp())
