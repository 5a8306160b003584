"""Which exception each injected order carries, and how often (scaled with the order count).

The generator asks the scheduler once per order; the scheduler hands out exception types in a
fixed rotation so every type gets (almost) the same number of injections, and only to orders
created early enough for the type's SLA window to expire before the end of the span.
"""
from __future__ import annotations

import random

DUPLICATE_ORDER = "DUPLICATE_ORDER"
STUCK_AWAITING_APPROVAL = "STUCK_AWAITING_APPROVAL"
ILLEGAL_STATUS_TRANSITION = "ILLEGAL_STATUS_TRANSITION"
MANUAL_IMPORT_BYPASS = "MANUAL_IMPORT_BYPASS"
ORPHAN_PAYMENT = "ORPHAN_PAYMENT"
DUPLICATE_PAYMENT = "DUPLICATE_PAYMENT"
PAYMENT_AMOUNT_MISMATCH = "PAYMENT_AMOUNT_MISMATCH"
CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
CANCELLED_BUT_CAPTURED = "CANCELLED_BUT_CAPTURED"
UNAPPLIED_CASH = "UNAPPLIED_CASH"
STUCK_AWAITING_SHIPMENT = "STUCK_AWAITING_SHIPMENT"
OMS_SHIPPED_WITHOUT_SHIPMENT = "OMS_SHIPPED_WITHOUT_SHIPMENT"
SHIPMENT_NOT_REFLECTED_IN_OMS = "SHIPMENT_NOT_REFLECTED_IN_OMS"
DELIVERY_BEFORE_SHIPMENT = "DELIVERY_BEFORE_SHIPMENT"
SHIPPED_QTY_MISMATCH = "SHIPPED_QTY_MISMATCH"
SHIPPED_NOT_INVOICED = "SHIPPED_NOT_INVOICED"
INVOICE_AMOUNT_MISMATCH = "INVOICE_AMOUNT_MISMATCH"
REFUND_WITHOUT_CREDIT_NOTE = "REFUND_WITHOUT_CREDIT_NOTE"
AR_OVERDUE = "AR_OVERDUE"

EXCEPTION_TYPES = (
    DUPLICATE_ORDER, STUCK_AWAITING_APPROVAL, ILLEGAL_STATUS_TRANSITION, MANUAL_IMPORT_BYPASS,
    ORPHAN_PAYMENT, DUPLICATE_PAYMENT, PAYMENT_AMOUNT_MISMATCH, CURRENCY_MISMATCH,
    CANCELLED_BUT_CAPTURED, UNAPPLIED_CASH, STUCK_AWAITING_SHIPMENT, OMS_SHIPPED_WITHOUT_SHIPMENT,
    SHIPMENT_NOT_REFLECTED_IN_OMS, DELIVERY_BEFORE_SHIPMENT, SHIPPED_QTY_MISMATCH,
    SHIPPED_NOT_INVOICED, INVOICE_AMOUNT_MISMATCH, REFUND_WITHOUT_CREDIT_NOTE, AR_OVERDUE,
)

# Revision 2 (settlement.md): injected per payout or transaction by settlement.py, not per order.
SETTLEMENT_TYPES = ("PAYOUT_AMOUNT_MISMATCH", "PAYOUT_NOT_RECEIVED", "UNSETTLED_TRANSACTION", "DOUBLE_SETTLED")
ALL_EXCEPTION_TYPES = EXCEPTION_TYPES + SETTLEMENT_TYPES

# AR_OVERDUE needs an invoice older than 30 days: it is injected into the pre-span backlog.
SPAN_TYPES = tuple(t for t in EXCEPTION_TYPES if t != AR_OVERDUE)

# Types that must be paid by the gateway (prepaid) to happen at all.
PREPAID_TYPES = {DUPLICATE_PAYMENT, PAYMENT_AMOUNT_MISMATCH, CURRENCY_MISMATCH, CANCELLED_BUT_CAPTURED,
                 REFUND_WITHOUT_CREDIT_NOTE}

# Days an order needs between creation and the end of the span for the injected condition to
# outlive its SLA window (returns take longest: ship, deliver, return, refund, then 72 h).
LEAD_DAYS = {t: 5 for t in SPAN_TYPES} | {REFUND_WITHOUT_CREDIT_NOTE: 9, SHIPMENT_NOT_REFLECTED_IN_OMS: 6}


def per_type_target(orders: int) -> int:
    """Injections per exception type: ~0.4 % of the orders, at least 3."""
    return max(3, round(orders * 0.004))


class AnomalyScheduler:
    """Hands out exception types in rotation to a random share of the eligible orders."""

    def __init__(self, rng: random.Random, eligible_orders: int, target_per_type: int, enabled: bool):
        self.rng = rng
        self.enabled = enabled and eligible_orders > 0
        self.target = target_per_type
        wanted = target_per_type * len(SPAN_TYPES)
        self.rate = min(0.6, wanted / eligible_orders) if self.enabled else 0.0
        self.injected: dict[str, int] = {t: 0 for t in EXCEPTION_TYPES}

    def pick(self, days_left: int) -> str | None:
        """The exception to inject into an order created `days_left` days before the span ends."""
        if not self.enabled or self.rng.random() >= self.rate:
            return None
        # Types with long lead times first while they are short of their target (only early
        # orders can take them), then the one injected least so far: even counts per type.
        eligible = [t for t in SPAN_TYPES if LEAD_DAYS[t] <= days_left]
        if not eligible:
            return None
        chosen = min(eligible, key=lambda t: (self.injected[t] >= self.target, -LEAD_DAYS[t], self.injected[t],
                                              SPAN_TYPES.index(t)))
        self.injected[chosen] += 1
        return chosen

    def count(self, exception_type: str) -> None:
        self.injected[exception_type] += 1
