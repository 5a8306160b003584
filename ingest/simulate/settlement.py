"""The gateway's daily payouts and their bank receipts (contract revision 2, docs/settlement.md).

One payout per China-local day of the transactions, method and currency, paid out the next day:
a settlement report listing its succeeded transactions, and one bank credit with the payout id
in the remark, arriving on the payout date or the day after (the last days' receipts fall after
the span: `awaiting`, no exception). Unless the run is clean, a few payouts carry each
settlement exception, next to their near misses:

- PAYOUT_AMOUNT_MISMATCH: the bank receives the net ± 0.02 … 5.00 (near miss: ± 0.01);
- PAYOUT_NOT_RECEIVED: no receipt, the payout date at least 5 days before the end (near miss:
  a receipt on the last day of the 3-day window);
- UNSETTLED_TRANSACTION: a transaction at least 8 days old left out of its payout, and one
  exactly 7 days and a second before as_of (near misses: one 7 days minus a minute before as_of,
  and the transactions of the last days, whose payouts come after the span). as_of is pinned to
  the last second of the span by a carrier scan of an unknown parcel (valid input, no exception);

- DOUBLE_SETTLED: a transaction listed again by the next payout of its method and currency.

The ground truth is not these injections but the oracle reading the folder back (truth.py).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from .anomalies import SETTLEMENT_TYPES
from .formats import PAYOUTS, china_date

PAYOUT_AMOUNT_MISMATCH, PAYOUT_NOT_RECEIVED, UNSETTLED_TRANSACTION, DOUBLE_SETTLED = SETTLEMENT_TYPES
GATEWAY_COMPANY = {"alipay": "支付宝（中国）网络技术有限公司", "wechat": "财付通支付科技有限公司",
                   "card": "银联商务股份有限公司", "unionpay": "银联商务股份有限公司"}
METHOD_CODE = {"alipay": "ALI", "wechat": "WX", "card": "CARD", "unionpay": "UP"}
HOUR, DAY = 3600, 86400


def net_cents(txns: list[dict]) -> int:
    return sum((t["amount_cents"] if t["txn_type"] == "capture" else -t["amount_cents"]) - t["fee_cents"] for t in txns)


def write_payouts(gen, last_day: date, orders: int) -> None:
    """Write every payout of the run's succeeded transactions (see the module docstring)."""
    from .generator import day_start

    rng = gen.rng
    batches: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for txn in gen.succeeded_txns:
        batches[(china_date(txn["created"]), txn["method"], txn["currency"])].append(txn)
    keys = sorted(batches)
    old = [k for k in keys if date.fromisoformat(k[0]) <= last_day - timedelta(days=9)]
    # per type: ~0.2 % of orders, at most ~5 % of the payouts that can carry one, at least 3
    target = 0 if gen.clean else max(3, min(round(orders * 0.002), len(old) // 20))
    chosen = {kind: set() for kind in (PAYOUT_AMOUNT_MISMATCH, PAYOUT_NOT_RECEIVED, UNSETTLED_TRANSACTION,
                                       DOUBLE_SETTLED, "near_mismatch", "late_receipt")}
    if target and old:
        pool = rng.sample(old, len(old))
        for i, key in enumerate(pool[: 6 * target]):
            chosen[list(chosen)[i % 6]].add(key)
    carried: dict[tuple[str, str], list[dict]] = defaultdict(list)  # (method, currency) -> txns to list again
    for key in keys:
        day, method, currency = key
        txns = list(batches[key])
        payout_day = date.fromisoformat(day) + timedelta(days=1)
        payout_id = f"PO{payout_day:%Y%m%d}{METHOD_CODE[method]}{currency}"
        if key in chosen[UNSETTLED_TRANSACTION] and len(txns) > 1:
            left_out = txns.pop(rng.randrange(len(txns)))
            gen.injections.append((UNSETTLED_TRANSACTION, left_out["txn_id"]))
        again = carried.pop((method, currency), [])
        listed = txns + again
        if key in chosen[DOUBLE_SETTLED]:
            carried[(method, currency)].append(rng.choice(txns))  # listed again by the next payout
        delivered = False
        for txn in listed:
            row = {"payout_id": payout_id, "payout_date": payout_day.isoformat(), "currency": currency,
                   "txn_id": txn["txn_id"]}
            delivered = gen.out(PAYOUTS, payout_day.isoformat(), row) or delivered
        if not delivered:
            continue
        gen.injections += [(DOUBLE_SETTLED, txn["txn_id"]) for txn in again]
        net = net_cents(listed)
        if net <= 0:
            continue  # withheld by the gateway against later batches: no receipt
        if key in chosen[PAYOUT_NOT_RECEIVED]:
            gen.injections.append((PAYOUT_NOT_RECEIVED, payout_id))
            continue
        received = net
        if key in chosen[PAYOUT_AMOUNT_MISMATCH]:
            received = max(1, net + rng.choice((-1, 1)) * rng.randint(2, 500))
        elif key in chosen["near_mismatch"]:
            received = max(1, net + rng.choice((-1, 1)))
        lag = 3 if key in chosen["late_receipt"] else rng.choice((0, 0, 1))
        receipt_at = day_start(payout_day + timedelta(days=lag)) + rng.randint(9 * HOUR, 17 * HOUR)
        line = gen.bank_credit(GATEWAY_COMPANY[method], received, currency, receipt_at, f"结算 {payout_id}")
        if line and received != net and abs(received - net) > 1:
            gen.injections.append((PAYOUT_AMOUNT_MISMATCH, payout_id))


def write_settlement_edges(gen, last_day: date) -> None:
    """The 7-day edge of UNSETTLED_TRANSACTION, exactly: as_of is pinned to 23:59:59 China time on
    the last export day (a scan of a parcel no shipment names: as_of is the latest record time),
    then two refunds no payout lists (no order: they raise nothing else), 7 days minus a minute
    before as_of (near miss) and 7 days and a second before it (an exception)."""
    from .generator import DAY, day_start

    if gen.clean:
        return
    as_of = day_start(last_day + timedelta(days=1)) - 1
    gen.scan("SH-AS-OF-PIN", "in_transit", as_of, "上海")
    for label, created in (("NEARMISS", as_of - 7 * DAY + 60), ("EDGE", as_of - 7 * DAY - 1)):
        txn_id = f"PAY7D{label}"
        gen.gateway_row("", txn_id, "alipay", "refund", "succeeded", 1000, "CNY", created, created)
        if label == "EDGE" and gen.last_txn == (txn_id, True):
            gen.injections.append((UNSETTLED_TRANSACTION, txn_id))
