"""Reference oracle: every exception definition of exceptions.md, evaluated literally in Python.

Input is what the warehouse sees after ingest (`LandingData`: valid records only, exact repeats
and re-delivered files already dropped, each record with its position for the later-wins
rules); output is the set of `(exception_type, key)` rows `marts.reconciliation_exceptions`
must hold. It shares no code with the generator, so it checks what was written, not what was
meant. Amounts are Decimals, instants are aware UTC datetimes.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

TOLERANCE = Decimal("0.01")
ZERO = Decimal("0")

# (export_date, file_path, record_no): "later" in the spec's sense is a greater position.
Position = tuple


@dataclass(slots=True)
class OrderSnapshot:
    order_id: str
    channel: str
    channel_order_no: str  # "" when absent or empty
    customer_id: str
    customer_name: str
    payment_terms: str
    currency: str
    entry_source: str
    status: str
    created_at: datetime
    updated_at: datetime
    lines: tuple  # of (sku, qty, unit_price, discount)
    shipping_fee: Decimal
    coupon_amount: Decimal
    points_amount: Decimal
    position: Position

    @property
    def order_total(self) -> Decimal:
        """Σ(qty × unit_price − discount) + shipping_fee − coupon_amount − points_amount, 2 decimals."""
        goods = sum((qty * price - discount for _, qty, price, discount in self.lines), ZERO)
        return (goods + self.shipping_fee - self.coupon_amount - self.points_amount).quantize(TOLERANCE)


@dataclass(slots=True)
class OrderEvent:
    event_id: str
    order_id: str
    status: str
    occurred_at: datetime
    position: Position


@dataclass(slots=True)
class GatewayTxn:
    txn_id: str
    order_id: str
    txn_type: str
    status: str
    amount: Decimal
    currency: str
    created_at: datetime
    position: Position
    fee: Decimal = Decimal("0")


@dataclass(slots=True)
class PayoutRow:
    """One row of a settlement report (revision 2): a transaction a payout lists."""

    payout_id: str
    payout_date: date
    currency: str
    txn_id: str
    position: Position


@dataclass(slots=True)
class BankLine:
    line_id: str
    value_date: date
    counterparty: str
    credit: Decimal | None
    debit: Decimal | None
    currency: str
    remark: str
    position: Position


@dataclass(slots=True)
class Shipment:
    shipment_id: str
    order_id: str
    items: tuple  # of (sku, qty)
    position: Position


@dataclass(slots=True)
class TrackingEvent:
    shipment_id: str
    event: str
    occurred_at: datetime  # converted from naive China time to UTC
    position: Position


@dataclass(slots=True)
class Invoice:
    invoice_id: str
    type: str
    status: str
    issued_at: datetime
    lines: tuple  # of (order_id, net_amount, tax_amount)
    position: Position


@dataclass
class LandingData:
    """Valid, loaded records of every source (what raw holds, minus exact repeats)."""

    orders: list[OrderSnapshot] = field(default_factory=list)
    events: list[OrderEvent] = field(default_factory=list)
    gateway: list[GatewayTxn] = field(default_factory=list)
    bank: list[BankLine] = field(default_factory=list)
    shipments: list[Shipment] = field(default_factory=list)
    tracking: list[TrackingEvent] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    payouts: list[PayoutRow] = field(default_factory=list)


@dataclass(frozen=True)
class Windows:
    """The SLA windows of exceptions.md; the defaults are the spec's."""

    approval: timedelta = timedelta(hours=24)
    shipment: timedelta = timedelta(hours=48)
    cancel_refund: timedelta = timedelta(hours=72)
    oms_reflects_delivery: timedelta = timedelta(hours=24)
    invoicing: timedelta = timedelta(hours=24)
    credit_note: timedelta = timedelta(hours=72)
    payment_terms: timedelta = timedelta(days=30)
    duplicate_payment: timedelta = timedelta(minutes=10)
    payout_receipt_days: int = 3  # settlement.md: PAYOUT_NOT_RECEIVED, China-local days after payout_date
    settlement: timedelta = timedelta(days=7)  # settlement.md: UNSETTLED_TRANSACTION


LEGAL_TRANSITIONS = {
    ("created", "approved"), ("created", "cancelled"), ("approved", "allocated"), ("approved", "cancelled"),
    ("allocated", "shipped"), ("allocated", "cancelled"), ("shipped", "delivered"), ("delivered", "completed"),
    ("delivered", "return_requested"), ("completed", "return_requested"), ("return_requested", "returned"),
    ("returned", "refunded"),
}
PAST_APPROVAL_EVENTS = {"allocated", "shipped", "delivered", "completed"}
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


# ---------------------------------------------------------------- shared terms

def compute_as_of(data: LandingData) -> datetime | None:
    """Latest of order updated_at, event occurred_at, gateway created_at, tracking occurred_at and
    invoice IssuedAt over all loaded records (bank dates do not count)."""
    stamps = [s.updated_at for s in data.orders] + [e.occurred_at for e in data.events]
    stamps += [t.created_at for t in data.gateway] + [t.occurred_at for t in data.tracking]
    stamps += [i.issued_at for i in data.invoices]
    return max(stamps) if stamps else None


def winning_orders(snapshots) -> dict[str, OrderSnapshot]:
    """Per order_id the snapshot with the greatest updated_at; on a tie the later one."""
    best: dict[str, OrderSnapshot] = {}
    for snap in snapshots:
        held = best.get(snap.order_id)
        if held is None or (snap.updated_at, snap.position) > (held.updated_at, held.position):
            best[snap.order_id] = snap
    return best


def latest_by(records, key):
    """Per key the later record (gateway txn_id, shipment_id, InvoiceId, bank line id)."""
    best = {}
    for record in records:
        k = key(record)
        held = best.get(k)
        if held is None or record.position > held.position:
            best[k] = record
    return best


def events_by_order(events) -> dict[str, list[OrderEvent]]:
    """Events with repeated event_ids removed (the first delivery kept), per order, sorted by
    occurred_at then event_id."""
    seen: dict[str, OrderEvent] = {}
    for event in sorted(events, key=lambda e: e.position):
        seen.setdefault(event.event_id, event)
    grouped: dict[str, list[OrderEvent]] = defaultdict(list)
    for event in seen.values():
        grouped[event.order_id].append(event)
    for items in grouped.values():
        items.sort(key=lambda e: (e.occurred_at, e.event_id))
    return grouped


def normalise_remark(remark: str) -> str:
    """Bank rule 1: upper-case, keep only A-Z and 0-9."""
    return _NOT_ALNUM.sub("", remark.upper())


def payout_headers(rows) -> dict[str, PayoutRow]:
    """Per payout_id its latest row: a payout's payout_date and currency are those of it."""
    return latest_by(rows, lambda r: r.payout_id)


def match_payout_lines(credit_lines, payouts: dict[str, PayoutRow]) -> dict[str, str]:
    """Rule 0 (settlement.md): {line_id: payout_id} for credit lines whose normalised remark contains
    a payout_id (compared upper-cased) of the line's currency; several: leftmost, then longest."""
    settling = {}
    for line in credit_lines:
        text = normalise_remark(line.remark)
        found = [(text.find(pid.upper()), -len(pid), pid) for pid, head in payouts.items()
                 if head.currency == line.currency and pid.upper() in text]
        if found:
            settling[line.line_id] = min(found)[2]
    return settling


def settlement(data: LandingData, as_of: datetime, windows: Windows) -> list[tuple[str, str]]:
    """The four settlement exceptions of revision 2 (settlement.md)."""
    if not data.payouts:
        return []
    rows_by_pair = latest_by(data.payouts, lambda r: (r.payout_id, r.txn_id))
    heads = payout_headers(data.payouts)
    txns = latest_by(data.gateway, lambda t: t.txn_id)
    net = defaultdict(Decimal)
    listed_by = defaultdict(set)  # (txn_id, currency) -> payouts of that currency listing it
    for (payout_id, txn_id) in rows_by_pair:
        head = heads[payout_id]
        listed_by[(txn_id, head.currency)].add(payout_id)
        txn = txns.get(txn_id)
        if txn is None or txn.status != "succeeded" or txn.currency != head.currency:
            continue
        net[payout_id] += (txn.amount if txn.txn_type == "capture" else -txn.amount) - txn.fee
    bank = latest_by(data.bank, lambda b: b.line_id).values()
    credits = sorted((b for b in bank if b.credit is not None), key=lambda b: b.position)
    received = defaultdict(Decimal)
    for line_id, payout_id in match_payout_lines(credits, heads).items():
        received[payout_id] += next(b.credit for b in credits if b.line_id == line_id)
    as_of_china = (as_of + timedelta(hours=8)).date()
    rows = []
    for payout_id, head in heads.items():
        if payout_id in received:
            if abs(received[payout_id] - net[payout_id]) > TOLERANCE:
                rows.append(("PAYOUT_AMOUNT_MISMATCH", payout_id))
        elif net[payout_id] > 0 and head.payout_date + timedelta(days=windows.payout_receipt_days) < as_of_china:
            rows.append(("PAYOUT_NOT_RECEIVED", payout_id))
    for txn in txns.values():
        if txn.status != "succeeded":
            continue
        payouts = listed_by.get((txn.txn_id, txn.currency), set())
        if not payouts and txn.created_at + windows.settlement < as_of:
            rows.append(("UNSETTLED_TRANSACTION", txn.txn_id))
        if len(payouts) >= 2:
            rows.append(("DOUBLE_SETTLED", txn.txn_id))
    return rows


def match_bank_lines(credit_lines, orders: dict[str, OrderSnapshot]) -> tuple[dict[str, str], list]:
    """Bank matching rules 1–3 (sources.md). Returns ({line_id: order_id}, unapplied lines).

    1. Remark: the normalised remark contains an existing order_id whose order has the line's
       currency; several: the one that starts leftmost, then the longest.
    2. Otherwise the net30 orders whose customer_name equals the trimmed 对方户名, of the line's
       currency, whose order_total equals the amount ±0.01, and that no rule-1 line matched:
       exactly one candidate pays.
    3. Otherwise: unapplied cash.
    """
    lengths = sorted({len(order_id) for order_id in orders}, reverse=True)
    matched: dict[str, str] = {}
    by_rule_1: set[str] = set()
    leftovers = []
    for line in credit_lines:
        text = normalise_remark(line.remark)
        found = None
        for start in range(len(text)):
            for length in lengths:  # longest first at the leftmost start
                candidate = text[start:start + length]
                if len(candidate) == length and candidate in orders and orders[candidate].currency == line.currency:
                    found = candidate
                    break
            if found:
                break
        if found:
            matched[line.line_id] = found
            by_rule_1.add(found)
        else:
            leftovers.append(line)
    net30_by_name: dict[tuple[str, str], list[OrderSnapshot]] = defaultdict(list)
    for order in orders.values():
        if order.payment_terms == "net30":
            net30_by_name[(order.customer_name.strip(), order.currency)].append(order)
    unapplied = []
    for line in leftovers:
        # an empty 对方户名 (interest, bank charges, cash deposits) names no customer
        name = line.counterparty.strip()
        named = net30_by_name.get((name, line.currency), ()) if name else ()
        candidates = [o for o in named
                      if abs(o.order_total - line.credit) <= TOLERANCE and o.order_id not in by_rule_1]
        if len(candidates) == 1:
            matched[line.line_id] = candidates[0].order_id
        else:
            unapplied.append(line)
    return matched, unapplied


@dataclass
class OrderFacts:
    """Everything the rules read about one order, derived once."""

    order: OrderSnapshot
    events: list = field(default_factory=list)
    captures: list = field(default_factory=list)  # succeeded captures, any currency
    refunds: list = field(default_factory=list)  # succeeded refunds, any currency
    bank_received: Decimal = ZERO
    shipments: list = field(default_factory=list)  # (shipment, shipped_at, delivered_at, first shipped, first delivered)
    normal_lines: list = field(default_factory=list)  # (invoice, gross)
    credit_lines: list = field(default_factory=list)

    def in_currency(self, txns) -> Decimal:
        return sum((t.amount for t in txns if t.currency == self.order.currency), ZERO)

    @property
    def captured(self) -> Decimal:
        return self.in_currency(self.captures)

    @property
    def refunded(self) -> Decimal:
        return self.in_currency(self.refunds)

    @property
    def net_paid(self) -> Decimal:
        return self.captured + self.bank_received - self.refunded

    @property
    def invoiced_normal(self) -> Decimal:
        return sum((gross for _, gross in self.normal_lines), ZERO)

    @property
    def invoiced(self) -> Decimal:
        return self.invoiced_normal + sum((gross for _, gross in self.credit_lines), ZERO)

    @property
    def first_invoiced_at(self) -> datetime | None:
        return min((inv.issued_at for inv, _ in self.normal_lines), default=None)

    def first_event(self, status: str) -> datetime | None:
        return next((e.occurred_at for e in self.events if e.status == status), None)

    @property
    def cancelled(self) -> bool:
        return self.order.status == "cancelled" or any(e.status == "cancelled" for e in self.events)

    @property
    def shipped_at(self) -> datetime | None:
        return min((s[1] for s in self.shipments if s[1] is not None), default=None)

    @property
    def delivered_at(self) -> datetime | None:
        return min((s[2] for s in self.shipments if s[2] is not None), default=None)


def build_facts(data: LandingData) -> tuple[dict[str, OrderFacts], list, list]:
    """Per-order facts, plus the orphan captures and the unapplied bank lines."""
    orders = winning_orders(data.orders)
    facts = {order_id: OrderFacts(order) for order_id, order in orders.items()}
    for order_id, events in events_by_order(data.events).items():
        if order_id in facts:
            facts[order_id].events = events
    orphans = []
    for txn in latest_by(data.gateway, lambda t: t.txn_id).values():
        if txn.status != "succeeded":
            continue
        owner = facts.get(txn.order_id)
        if owner is None:
            if txn.txn_type == "capture":
                orphans.append(txn)
            continue
        (owner.captures if txn.txn_type == "capture" else owner.refunds).append(txn)
    bank = latest_by(data.bank, lambda b: b.line_id).values()
    credits = sorted((b for b in bank if b.credit is not None), key=lambda b: b.position)
    settling = match_payout_lines(credits, payout_headers(data.payouts))
    credits = [line for line in credits if line.line_id not in settling]
    matched, unapplied = match_bank_lines(credits, orders)
    for line in credits:
        if line.line_id in matched:
            facts[matched[line.line_id]].bank_received += line.credit
    scans: dict[str, dict[str, datetime]] = defaultdict(dict)
    for scan in data.tracking:
        first = scans[scan.shipment_id]
        if scan.event not in first or scan.occurred_at < first[scan.event]:
            first[scan.event] = scan.occurred_at
    for shipment in latest_by(data.shipments, lambda s: s.shipment_id).values():
        owner = facts.get(shipment.order_id)
        if owner is None:
            continue
        first = scans.get(shipment.shipment_id, {})
        movement = [first[e] for e in ("shipped", "in_transit", "delivered") if e in first]
        owner.shipments.append((shipment, min(movement) if movement else None, first.get("delivered"),
                                first.get("shipped"), first.get("delivered")))
    for invoice in latest_by(data.invoices, lambda i: i.invoice_id).values():
        if invoice.status != "issued":
            continue
        for order_id, net, tax in invoice.lines:
            owner = facts.get(order_id)
            if owner is None:
                continue
            target = owner.normal_lines if invoice.type == "normal" else owner.credit_lines
            target.append((invoice, net + tax))
    return facts, orphans, unapplied


# ---------------------------------------------------------------- the rules, one per exception

def duplicate_order(facts: dict[str, OrderFacts]) -> list[str]:
    """DUPLICATE_ORDER: orders sharing a non-empty (channel, channel_order_no); all but the one
    with the earliest created_at (tie: smallest order_id)."""
    groups: dict[tuple[str, str], list[OrderSnapshot]] = defaultdict(list)
    for f in facts.values():
        if f.order.channel_order_no:
            groups[(f.order.channel, f.order.channel_order_no)].append(f.order)
    keys = []
    for members in groups.values():
        if len(members) > 1:
            members.sort(key=lambda o: (o.created_at, o.order_id))
            keys += [o.order_id for o in members[1:]]
    return keys


def stuck_awaiting_approval(f: OrderFacts, as_of: datetime, w: Windows) -> bool:
    """Status `created`, no `approved` and no `cancelled` event, created_at + 24h < as_of."""
    statuses = {e.status for e in f.events}
    return (f.order.status == "created" and "approved" not in statuses and "cancelled" not in statuses
            and f.order.created_at + w.approval < as_of)


def illegal_status_transition(f: OrderFacts) -> bool:
    """Has events; the first is not `created`, or two consecutive ones form an illegal transition
    (a repeat of the same status is legal)."""
    if not f.events:
        return False
    if f.events[0].status != "created":
        return True
    return any(a.status != b.status and (a.status, b.status) not in LEGAL_TRANSITIONS
               for a, b in zip(f.events, f.events[1:]))


def manual_import_bypass(f: OrderFacts) -> bool:
    """manual_import, no `approved` event, yet past approval: an allocated/shipped/delivered/
    completed event, or shipped in the WMS."""
    statuses = {e.status for e in f.events}
    return (f.order.entry_source == "manual_import" and "approved" not in statuses
            and (bool(statuses & PAST_APPROVAL_EVENTS) or f.shipped_at is not None))


def duplicate_payment(f: OrderFacts, w: Windows) -> bool:
    """Two succeeded captures (different txn_id) with equal amount and currency at most 10 minutes
    apart, and captured > order_total + 0.01 (two equal halves of the total do not count)."""
    if not f.captured > f.order.order_total + TOLERANCE:
        return False
    captures = f.captures
    for i, a in enumerate(captures):
        for b in captures[i + 1:]:
            if (a.txn_id != b.txn_id and a.amount == b.amount and a.currency == b.currency
                    and abs(a.created_at - b.created_at) <= w.duplicate_payment):
                return True
    return False


def payment_amount_mismatch(f: OrderFacts, is_duplicate_payment: bool) -> bool:
    """prepaid, not cancelled, ≥ 1 capture in the order currency, not DUPLICATE_PAYMENT, and
    |captured − order_total| > 0.01."""
    has_capture = any(t.currency == f.order.currency for t in f.captures)
    return (f.order.payment_terms == "prepaid" and not f.cancelled and has_capture and not is_duplicate_payment
            and abs(f.captured - f.order.order_total) > TOLERANCE)


def currency_mismatch(f: OrderFacts) -> bool:
    """A succeeded capture or refund in another currency than the order's."""
    return any(t.currency != f.order.currency for t in f.captures + f.refunds)


def cancelled_but_captured(f: OrderFacts, as_of: datetime, w: Windows) -> bool:
    """Cancelled, captured − refunded > 0.01, and cancel time + 72h < as_of (cancel time: the
    earliest cancelled event, else the winning snapshot's updated_at)."""
    if not f.cancelled or not f.captured - f.refunded > TOLERANCE:
        return False
    cancelled_at = f.first_event("cancelled") or f.order.updated_at
    return cancelled_at + w.cancel_refund < as_of


def ready_at(f: OrderFacts) -> datetime | None:
    """prepaid: created_at of the capture at which the running sum of captures in the order
    currency (created_at, then txn_id order) first reaches order_total − 0.01; net30: approved_at."""
    if f.order.payment_terms == "net30":
        return f.first_event("approved")
    running = ZERO
    target = f.order.order_total - TOLERANCE
    for txn in sorted((t for t in f.captures if t.currency == f.order.currency), key=lambda t: (t.created_at, t.txn_id)):
        running += txn.amount
        if running >= target:
            return txn.created_at
    return None


def stuck_awaiting_shipment(f: OrderFacts, as_of: datetime, w: Windows) -> bool:
    """Not cancelled, not shipped, and ready_at + 48h < as_of (no ready_at: no exception)."""
    ready = ready_at(f)
    return not f.cancelled and f.shipped_at is None and ready is not None and ready + w.shipment < as_of


def oms_shipped_without_shipment(f: OrderFacts) -> bool:
    """Status shipped/delivered/completed and not shipped in the WMS."""
    return f.order.status in ("shipped", "delivered", "completed") and f.shipped_at is None


def shipment_not_reflected_in_oms(f: OrderFacts, as_of: datetime, w: Windows) -> bool:
    """Has a delivered_at, status created/approved/allocated, delivered_at + 24h < as_of."""
    delivered = f.delivered_at
    return (delivered is not None and f.order.status in ("created", "approved", "allocated")
            and delivered + w.oms_reflects_delivery < as_of)


def delivery_before_shipment(f: OrderFacts) -> bool:
    """A shipment with both a `shipped` and a `delivered` event whose earliest delivered is
    before its earliest shipped."""
    return any(first_shipped is not None and first_delivered is not None and first_delivered < first_shipped
               for _, _, _, first_shipped, first_delivered in f.shipments)


def shipped_qty_mismatch(f: OrderFacts) -> bool:
    """Status delivered/completed and, over its shipments that have a shipped_at, some sku's
    quantity differs from the ordered quantity (a sku missing on either side counts)."""
    if f.order.status not in ("delivered", "completed"):
        return False
    ordered: dict[str, int] = defaultdict(int)
    for sku, qty, _, _ in f.order.lines:
        ordered[sku] += qty
    shipped: dict[str, int] = defaultdict(int)
    for shipment, shipped_at, _, _, _ in f.shipments:
        if shipped_at is not None:
            for sku, qty in shipment.items:
                shipped[sku] += qty
    return dict(ordered) != dict(shipped)


def shipped_not_invoiced(f: OrderFacts, as_of: datetime, w: Windows) -> bool:
    """Shipped, not cancelled, no normal invoice line, shipped_at + 24h < as_of."""
    shipped = f.shipped_at
    return shipped is not None and not f.cancelled and not f.normal_lines and shipped + w.invoicing < as_of


def invoice_amount_mismatch(f: OrderFacts) -> bool:
    """Has normal invoice lines and |invoiced_normal − order_total| > 0.01."""
    return bool(f.normal_lines) and abs(f.invoiced_normal - f.order.order_total) > TOLERANCE


def refund_without_credit_note(f: OrderFacts, as_of: datetime, w: Windows) -> bool:
    """refunded > 0.01, a normal invoice line, no credit-note line, net_paid < invoiced_normal − 0.01,
    and the earliest succeeded refund's created_at + 72h < as_of."""
    if not (f.refunded > TOLERANCE and f.normal_lines and not f.credit_lines):
        return False
    if not f.net_paid < f.invoiced_normal - TOLERANCE:
        return False
    earliest = min(t.created_at for t in f.refunds)
    return earliest + w.credit_note < as_of


def ar_overdue(f: OrderFacts, as_of: datetime, w: Windows) -> bool:
    """net30, a normal invoice line, first_invoiced_at + 30 days < as_of, net_paid < invoiced − 0.01."""
    first = f.first_invoiced_at
    return (f.order.payment_terms == "net30" and first is not None and first + w.payment_terms < as_of
            and f.net_paid < f.invoiced - TOLERANCE)


def evaluate(data: LandingData, as_of: datetime | None = None, windows: Windows = Windows()) -> list[tuple[str, str]]:
    """All exception rows `(exception_type, key)`, sorted."""
    as_of = as_of or compute_as_of(data)
    facts, orphans, unapplied = build_facts(data)
    rows = [("DUPLICATE_ORDER", k) for k in duplicate_order(facts)]
    rows += [("ORPHAN_PAYMENT", t.txn_id) for t in orphans]
    rows += [("UNAPPLIED_CASH", b.line_id) for b in unapplied]
    if as_of is None:
        return sorted(set(rows))
    rows += settlement(data, as_of, windows)
    for order_id, f in facts.items():
        dup_pay = duplicate_payment(f, windows)
        checks = {
            "STUCK_AWAITING_APPROVAL": stuck_awaiting_approval(f, as_of, windows),
            "ILLEGAL_STATUS_TRANSITION": illegal_status_transition(f),
            "MANUAL_IMPORT_BYPASS": manual_import_bypass(f),
            "DUPLICATE_PAYMENT": dup_pay,
            "PAYMENT_AMOUNT_MISMATCH": payment_amount_mismatch(f, dup_pay),
            "CURRENCY_MISMATCH": currency_mismatch(f),
            "CANCELLED_BUT_CAPTURED": cancelled_but_captured(f, as_of, windows),
            "STUCK_AWAITING_SHIPMENT": stuck_awaiting_shipment(f, as_of, windows),
            "OMS_SHIPPED_WITHOUT_SHIPMENT": oms_shipped_without_shipment(f),
            "SHIPMENT_NOT_REFLECTED_IN_OMS": shipment_not_reflected_in_oms(f, as_of, windows),
            "DELIVERY_BEFORE_SHIPMENT": delivery_before_shipment(f),
            "SHIPPED_QTY_MISMATCH": shipped_qty_mismatch(f),
            "SHIPPED_NOT_INVOICED": shipped_not_invoiced(f, as_of, windows),
            "INVOICE_AMOUNT_MISMATCH": invoice_amount_mismatch(f),
            "REFUND_WITHOUT_CREDIT_NOTE": refund_without_credit_note(f, as_of, windows),
            "AR_OVERDUE": ar_overdue(f, as_of, windows),
        }
        rows += [(name, order_id) for name, holds in checks.items() if holds]
    return sorted(set(rows))
