"""Cross-system consistency suite: the business rules of exceptions.md, one expectation each.

The failing rows of each rule ARE the rows of its type in `marts.reconciliation_exceptions`
(the mart is the one implementation of exceptions.md; the suite does not re-derive it), so the
unexpected count is the number of exceptions and the sample keys are their order_id /
document_id. Severity per rule and the reasons are in README.md. The "stop the line" rule
blocks publishing when too many orders carry a high-severity exception.
"""
from __future__ import annotations

from expectations.integrity import WINNING_BANK
from expectations.model import ExpectationSpec, Severity, SuiteSpec

SUITE = "consistency.reconciliation_exceptions"
TABLE = "marts.reconciliation_exceptions"

# exception_type -> (expectation id, description of the rule that holds when there is no row, severity)
RULES: dict[str, tuple[str, str, Severity]] = {
    "DUPLICATE_ORDER": ("no_duplicate_orders",
                        "No two orders share a non-empty (channel, channel_order_no).", "warn"),
    "STUCK_AWAITING_APPROVAL": ("no_order_stuck_awaiting_approval",
                                "No created order waits for approval more than 24h.", "warn"),
    "ILLEGAL_STATUS_TRANSITION": ("order_events_follow_legal_transitions",
                                  "OMS events start with created and follow the legal transitions.", "warn"),
    "MANUAL_IMPORT_BYPASS": ("manual_imports_are_approved",
                             "No manually imported order got past approval without an approved event.", "warn"),
    "ORPHAN_PAYMENT": ("captures_belong_to_orders",
                       "Every succeeded capture names an OMS order.", "warn"),
    "DUPLICATE_PAYMENT": ("no_duplicate_payments",
                          "No order is captured twice (equal amount within 10 minutes) beyond its total.", "warn"),
    "PAYMENT_AMOUNT_MISMATCH": ("prepaid_captures_tie_to_order_total",
                                "Captures of prepaid orders tie to order_total within 0.01.", "warn"),
    "CURRENCY_MISMATCH": ("payments_in_order_currency",
                          "Every succeeded gateway transaction is in the order's currency.", "warn"),
    "CANCELLED_BUT_CAPTURED": ("cancelled_orders_are_refunded",
                               "Cancelled orders keep no captured money more than 72h after the cancel.", "warn"),
    "UNAPPLIED_CASH": ("bank_receipts_are_applied",
                       "Every bank credit line pays an order.", "warn"),
    "STUCK_AWAITING_SHIPMENT": ("no_order_stuck_awaiting_shipment",
                                "No paid (prepaid) or approved (net30) order waits more than 48h to ship.", "warn"),
    "OMS_SHIPPED_WITHOUT_SHIPMENT": ("oms_shipped_orders_have_shipments",
                                     "OMS and WMS agree: an order shipped in the OMS has a WMS shipment.", "warn"),
    "SHIPMENT_NOT_REFLECTED_IN_OMS": ("oms_reflects_deliveries",
                                      "OMS and WMS agree: a delivered order is past allocation in the OMS within 24h.", "warn"),
    "DELIVERY_BEFORE_SHIPMENT": ("deliveries_follow_shipments",
                                 "No shipment is delivered before it is shipped.", "warn"),
    "SHIPPED_QTY_MISMATCH": ("shipped_quantities_match_order",
                             "Delivered orders shipped exactly the ordered quantity of every sku.", "warn"),
    "SHIPPED_NOT_INVOICED": ("shipped_orders_are_invoiced",
                             "Shipped orders are invoiced within 24h.", "warn"),
    "INVOICE_AMOUNT_MISMATCH": ("invoices_tie_to_order_total",
                                "Normal invoice lines of an order tie to order_total within 0.01.", "warn"),
    "REFUND_WITHOUT_CREDIT_NOTE": ("refunds_have_credit_notes",
                                   "Refunds that reduce what the customer paid below the invoice have a credit note within 72h.", "warn"),
    "AR_OVERDUE": ("no_overdue_receivables",
                   "net30 orders are paid within 30 days of their first invoice.", "warn"),
    # revision 2: gateway settlement (docs/settlement.md)
    "PAYOUT_AMOUNT_MISMATCH": ("payouts_received_in_full",
                               "Every payout the bank received ties to its net within 0.01.", "warn"),
    "PAYOUT_NOT_RECEIVED": ("payouts_reach_the_bank",
                            "Every payout with a positive net reaches the bank within 3 days of its payout_date.", "warn"),
    "UNSETTLED_TRANSACTION": ("transactions_are_settled",
                              "Every succeeded gateway transaction is in a payout of its currency within 7 days.", "warn"),
    "DOUBLE_SETTLED": ("transactions_settled_once",
                       "No succeeded gateway transaction is listed by two payouts of its currency.", "warn"),
}


def _rule(exception_type: str, expectation_id: str, description: str, severity: Severity) -> ExpectationSpec:
    return ExpectationSpec(
        id=expectation_id, suite=SUITE, kind="consistency", table=TABLE, severity=severity,
        description=f"{description} (failing rows: {exception_type} exceptions)",
        exception_type=exception_type,
        query=f"""
select coalesce(order_id, document_id) as key, cast(exception_id as varchar) as exception_id,
       cast(amount_at_risk as varchar) as amount_at_risk
from {{batch}}
where exception_type = '{exception_type}'
order by key
""".strip(),
    )


STALE_UNAPPLIED_CASH = ExpectationSpec(
    id="no_stale_unapplied_cash", suite=SUITE, kind="consistency", table=TABLE, severity="warn",
    description="No unapplied bank receipt is older than ${unapplied_cash_days} days (value date, China time) at as_of.",
    exception_type="UNAPPLIED_CASH",
    query=f"""
with b as ({WINNING_BANK})
select e.document_id as key, b."交易日期" as value_date, cast(e.amount_at_risk as varchar) as amount_at_risk
from {{batch}} e
join b on b._rn = 1 and b."交易流水号" = e.document_id
where e.exception_type = 'UNAPPLIED_CASH'
  and date_diff('day', try_cast(b."交易日期" as date),
                cast(${{as_of}} + interval 8 hour as date)) > ${{unapplied_cash_days}}
order by key
""".strip(),
)

STOP_THE_LINE = ExpectationSpec(
    id="stop_the_line", suite=SUITE, kind="consistency", table=TABLE, severity="error",
    description="At most ${stop_line_pct} of orders carry a high-severity exception "
                "(${high_severity_types}); above that, publishing stops.",
    query="""
with orders as (
    select count(*) as n from marts.order_ledger
), flagged as (
    select count(distinct order_id) as n from {batch}
    where order_id is not null and exception_type in (${high_severity_sql})
)
select printf('%d of %d orders (%.2f%%) have a high-severity exception, limit %.2f%%',
              flagged.n, orders.n, 100.0 * flagged.n / orders.n, 100.0 * ${stop_line_rate}) as key,
       flagged.n as flagged_orders, orders.n as orders
from orders, flagged
where orders.n > 0 and flagged.n > ${stop_line_rate} * orders.n
""".strip(),
)

CONSISTENCY = SuiteSpec(
    name=SUITE, kind="consistency", table=TABLE,
    expectations=tuple(_rule(t, *spec) for t, spec in RULES.items()) + (STALE_UNAPPLIED_CASH, STOP_THE_LINE),
)

# Bank auto-matching keeps up: finance teams aim at >= 80 % of a day's receipts matched without a
# person (issue 12). A slow day is a signal for treasury, not a reason to withhold the marts: warn.
CASH_MATCHING_SUITE = "consistency.cash_matching_daily"
BANK_AUTO_MATCH_RATE = ExpectationSpec(
    id="bank_auto_match_rate_at_target", suite=CASH_MATCHING_SUITE, kind="consistency",
    table="marts.cash_matching_daily", severity="warn",
    description="Every day, at least ${min_match_rate} of the bank credit lines are matched automatically "
                "(to a payout or an order).",
    query="""
select cast(value_date as varchar) as key, lines_received, lines_unmatched, cast(auto_match_rate as varchar) as auto_match_rate
from {batch}
where system = 'bank' and auto_match_rate < ${min_match_rate}
order by key
""".strip(),
)

CASH_MATCHING = SuiteSpec(
    name=CASH_MATCHING_SUITE, kind="consistency", table="marts.cash_matching_daily",
    expectations=(BANK_AUTO_MATCH_RATE,),
)

CONSISTENCY_SUITES: tuple[SuiteSpec, ...] = (CONSISTENCY, CASH_MATCHING)
