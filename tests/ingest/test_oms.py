"""OMS loaders: every reject reason of oms/orders and oms/order_events, and what is loaded."""
from __future__ import annotations

import copy
import json

import pytest

from tests.ingest.helpers import assert_identity, count, ingest, rejects, write

ORDER = {
    "order_id": "SO20261101000001", "channel": "tmall", "channel_order_no": "TM1", "customer_id": "C1",
    "customer_name": "小林", "payment_terms": "prepaid", "currency": "CNY", "entry_source": "api",
    "status": "created", "created_at": "2026-11-01T09:12:03+08:00", "updated_at": "2026-11-01T09:12:03+08:00",
    "lines": [{"line_no": 1, "sku": "SKU-1", "qty": 2, "unit_price": "129.00", "discount": "10.00"},
              {"line_no": 2, "sku": "SKU-2", "qty": 1, "unit_price": "59.90", "discount": "0.00"}],
    "shipping_fee": "8.00", "coupon_amount": "20.00", "points_amount": "5.00", "tax_rate": "0.13",
}
EVENT = {"event_id": "E1", "order_id": "SO20261101000001", "status": "created",
         "occurred_at": "2026-11-01T09:12:03+08:00", "source": "oms", "operator": "svc-oms"}

DROP = object()


def changed(record: dict, path: str, value) -> str:
    """The record as a JSON line with one field (`lines.1.qty` for nested) set or dropped."""
    record = copy.deepcopy(record)
    *parents, key = path.split(".")
    target = record
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        key = int(key)
    if value is DROP:
        del target[key]
    else:
        target[key] = value
    return json.dumps(record, ensure_ascii=False)


ORDER_CASES = [
    # (id, bad line, expected reason)
    ("not-json", '{"order_id": "SO1", "channel": ', "malformed_record"),
    ("json-array", "[1, 2, 3]", "malformed_record"),
    ("json-string", '"SO1"', "malformed_record"),
    *[(f"absent-{f}", changed(ORDER, f, DROP), f"missing_field:{f}") for f in (
        "order_id", "channel", "customer_id", "customer_name", "payment_terms", "currency", "entry_source",
        "status", "created_at", "updated_at", "lines", "shipping_fee", "coupon_amount", "points_amount", "tax_rate")],
    ("null-customer_id", changed(ORDER, "customer_id", None), "missing_field:customer_id"),
    ("empty-customer_name", changed(ORDER, "customer_name", ""), "missing_field:customer_name"),
    ("empty-lines", changed(ORDER, "lines", []), "missing_field:lines"),
    ("null-lines", changed(ORDER, "lines", None), "missing_field:lines"),
    ("order_id-not-alnum", changed(ORDER, "order_id", "SO-2026-1"), "invalid_value:order_id"),
    ("order_id-number", changed(ORDER, "order_id", 20261101), "invalid_value:order_id"),
    ("channel-unknown", changed(ORDER, "channel", "amazon"), "invalid_value:channel"),
    ("channel_order_no-number", changed(ORDER, "channel_order_no", 123), "invalid_value:channel_order_no"),
    ("payment_terms-unknown", changed(ORDER, "payment_terms", "net60"), "invalid_value:payment_terms"),
    ("currency-unknown", changed(ORDER, "currency", "EUR"), "invalid_value:currency"),
    ("entry_source-unknown", changed(ORDER, "entry_source", "csv"), "invalid_value:entry_source"),
    ("status-unknown", changed(ORDER, "status", "paid"), "invalid_value:status"),
    ("created_at-no-offset", changed(ORDER, "created_at", "2026-11-01T09:12:03"), "invalid_value:created_at"),
    ("created_at-garbage", changed(ORDER, "created_at", "yesterday"), "invalid_value:created_at"),
    ("updated_at-bad-day", changed(ORDER, "updated_at", "2026-02-30T09:12:03+08:00"), "invalid_value:updated_at"),
    ("lines-object", changed(ORDER, "lines", {"line_no": 1}), "invalid_value:lines"),
    ("lines-element-not-object", changed(ORDER, "lines.1", "SKU-2"), "invalid_value:lines"),
    ("shipping_fee-json-number", changed(ORDER, "shipping_fee", 8.0), "invalid_value:shipping_fee"),
    ("shipping_fee-3-decimals", changed(ORDER, "shipping_fee", "8.001"), "invalid_value:shipping_fee"),
    ("coupon_amount-negative", changed(ORDER, "coupon_amount", "-20.00"), "invalid_value:coupon_amount"),
    ("coupon_amount-plus-sign", changed(ORDER, "coupon_amount", "+20.00"), "invalid_value:coupon_amount"),
    ("points_amount-thousands", changed(ORDER, "points_amount", "1,000.00"), "invalid_value:points_amount"),
    ("points_amount-unparseable", changed(ORDER, "points_amount", "five"), "invalid_value:points_amount"),
    ("tax_rate-json-number", changed(ORDER, "tax_rate", 0.13), "invalid_value:tax_rate"),
    *[(f"line-absent-{f}", changed(ORDER, f"lines.1.{f}", DROP), f"missing_field:{f}")
      for f in ("line_no", "sku", "qty", "unit_price", "discount")],
    ("line-empty-sku", changed(ORDER, "lines.0.sku", ""), "missing_field:sku"),
    ("line-line_no-string", changed(ORDER, "lines.0.line_no", "1"), "invalid_value:line_no"),
    ("line-qty-zero", changed(ORDER, "lines.1.qty", 0), "invalid_value:qty"),
    ("line-qty-negative", changed(ORDER, "lines.1.qty", -1), "invalid_value:qty"),
    ("line-qty-fraction", changed(ORDER, "lines.1.qty", 1.5), "invalid_value:qty"),
    ("line-qty-string", changed(ORDER, "lines.1.qty", "2"), "invalid_value:qty"),
    ("line-unit_price-negative", changed(ORDER, "lines.0.unit_price", "-1.00"), "invalid_value:unit_price"),
    ("line-unit_price-json-number", changed(ORDER, "lines.0.unit_price", 129), "invalid_value:unit_price"),
    ("line-discount-3-decimals", changed(ORDER, "lines.1.discount", "0.005"), "invalid_value:discount"),
    # The first failing field in the documented order wins: channel comes before lines.
    ("first-failing-field-wins", changed(json.loads(changed(ORDER, "lines.1.qty", 0)), "channel", "x"),
     "invalid_value:channel"),
    ("first-failing-line-wins", changed(json.loads(changed(ORDER, "lines.1.qty", 0)), "lines.0.discount", "-1"),
     "invalid_value:discount"),
]


def order_file(bad_line: str) -> str:
    """A valid order on line 1, a blank line 2 (not a record), the bad record on line 3."""
    good = changed(ORDER, "order_id", "SO20261101000009")
    return f"{good}\n\n{bad_line}\n"


@pytest.mark.parametrize("bad_line, reason", [c[1:] for c in ORDER_CASES], ids=[c[0] for c in ORDER_CASES])
def test_each_invalid_order_is_quarantined_whole(con, landing, bad_line, reason):
    write(landing, "oms/orders/2026-11-01/orders.jsonl", order_file(bad_line))
    summary = ingest(con, landing, "oms/orders")

    assert rejects(con) == [("oms/orders/2026-11-01/orders.jsonl", 3, reason, bad_line)]
    assert con.execute("SELECT order_id, _record_no FROM raw.oms_orders").fetchall() == [("SO20261101000009", 1)]
    assert con.execute("SELECT DISTINCT _record_no FROM raw.oms_order_lines").fetchall() == [(1,)]
    assert (summary.records_read, summary.records_loaded, summary.records_quarantined) == (2, 1, 1)
    assert_identity(con)


@pytest.mark.parametrize("line", [
    changed(ORDER, "channel_order_no", DROP),
    changed(ORDER, "channel_order_no", ""),
    changed(ORDER, "unexpected_field", {"ignored": True}),
    changed(ORDER, "created_at", "2026-11-01T01:12:03Z"),
    changed(ORDER, "created_at", "2026-11-01T09:12:03.250+08:00"),
    changed(ORDER, "updated_at", "2026-11-01T09:12:03+0800"),
    changed(ORDER, "customer_id", "UNKNOWN-CUSTOMER"),
], ids=["no-channel_order_no", "empty-channel_order_no", "unknown-field", "utc-z", "fractional-seconds",
        "basic-offset", "unknown-reference"])
def test_valid_variants_are_loaded(con, landing, line):
    write(landing, "oms/orders/2026-11-01/orders.jsonl", line + "\n")
    summary = ingest(con, landing, "oms/orders")
    assert rejects(con) == []
    assert summary.records_loaded == 1


def test_order_columns_are_kept_as_delivered_text(con, landing):
    write(landing, "oms/orders/2026-11-01/orders.jsonl", json.dumps(ORDER, ensure_ascii=False) + "\r\n")
    ingest(con, landing, "oms/orders")
    row = con.execute(
        """SELECT order_id, customer_name, created_at, shipping_fee, tax_rate, json_array_length(lines),
                  _system, _source, _file_path, _export_date::VARCHAR, _record_no
           FROM raw.oms_orders"""
    ).fetchone()
    assert row == ("SO20261101000001", "小林", "2026-11-01T09:12:03+08:00", "8.00", "0.13", 2,
                   "oms", "oms/orders", "oms/orders/2026-11-01/orders.jsonl", "2026-11-01", 1)
    lines = con.execute(
        "SELECT order_id, line_no, sku, qty, unit_price, discount FROM raw.oms_order_lines ORDER BY line_no"
    ).fetchall()
    assert lines == [("SO20261101000001", "1", "SKU-1", "2", "129.00", "10.00"),
                     ("SO20261101000001", "2", "SKU-2", "1", "59.90", "0.00")]
    types = dict(con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'oms_orders'"
    ).fetchall())
    assert {types[c] for c in ("order_id", "lines", "shipping_fee")} == {"VARCHAR"}
    assert (types["_export_date"], types["_record_no"], types["_loaded_at"]) == ("DATE", "INTEGER", "TIMESTAMP")


def test_every_version_is_kept_and_exact_repeats_are_skipped(con, landing):
    first = json.dumps(ORDER, ensure_ascii=False)
    update = changed(ORDER, "status", "approved")
    write(landing, "oms/orders/2026-11-01/a.jsonl", f"{first}\n{first}\n")  # repeat inside a file
    write(landing, "oms/orders/2026-11-02/a.jsonl", f"{update}\n{first}\n")  # repeat of an earlier file
    summary = ingest(con, landing, "oms/orders")

    assert [(f.records_read, f.records_loaded, f.repeats_skipped) for f in summary.files] == [(2, 1, 1), (2, 1, 1)]
    versions = con.execute(
        "SELECT status, _file_path, _record_no FROM raw.oms_orders ORDER BY _export_date, _file_path, _record_no"
    ).fetchall()
    assert versions == [("created", "oms/orders/2026-11-01/a.jsonl", 1), ("approved", "oms/orders/2026-11-02/a.jsonl", 1)]
    assert count(con, "raw.oms_order_lines") == 4  # two lines per loaded version, none for repeats
    assert_identity(con)


def test_undecodable_file_is_malformed_and_the_next_file_still_loads(con, landing):
    write(landing, "oms/orders/2026-11-01/a.jsonl", b'{"order_id": "\xff\xfe"}\n')
    write(landing, "oms/orders/2026-11-01/b.jsonl", json.dumps(ORDER) + "\n")
    summary = ingest(con, landing, "oms/orders")

    assert [(r[0], r[1], r[2]) for r in rejects(con)] == [("oms/orders/2026-11-01/a.jsonl", 0, "malformed_file")]
    assert count(con, "raw.oms_orders") == 1
    assert summary.malformed_files[0].startswith("oms/orders/2026-11-01/a.jsonl: ")
    status = con.execute("SELECT file_path, status, records_read, records_quarantined FROM ingest.files ORDER BY 1").fetchall()
    assert status == [("oms/orders/2026-11-01/a.jsonl", "malformed_file", 1, 1),
                      ("oms/orders/2026-11-01/b.jsonl", "loaded", 1, 0)]
    assert_identity(con)


EVENT_CASES = [
    ("not-json", '{"event_id": "E9"', "malformed_record"),
    *[(f"absent-{f}", changed(EVENT, f, DROP), f"missing_field:{f}")
      for f in ("event_id", "order_id", "status", "occurred_at", "source")],
    ("null-order_id", changed(EVENT, "order_id", None), "missing_field:order_id"),
    ("status-unknown", changed(EVENT, "status", "paid"), "invalid_value:status"),
    ("occurred_at-no-offset", changed(EVENT, "occurred_at", "2026-11-01 09:12:03"), "invalid_value:occurred_at"),
    ("source-unknown", changed(EVENT, "source", "wms"), "invalid_value:source"),
    ("operator-number", changed(EVENT, "operator", 7), "invalid_value:operator"),
]


@pytest.mark.parametrize("bad_line, reason", [c[1:] for c in EVENT_CASES], ids=[c[0] for c in EVENT_CASES])
def test_each_invalid_event_is_quarantined(con, landing, bad_line, reason):
    good = changed(EVENT, "event_id", "E0")
    write(landing, "oms/order_events/2026-11-01/events.jsonl", f"{good}\n{bad_line}\n")
    ingest(con, landing, "oms/order_events")
    assert rejects(con) == [("oms/order_events/2026-11-01/events.jsonl", 2, reason, bad_line)]
    assert con.execute("SELECT event_id FROM raw.oms_order_events").fetchall() == [("E0",)]
    assert_identity(con)


def test_event_for_unknown_order_without_operator_is_loaded(con, landing):
    line = changed(json.loads(changed(EVENT, "operator", DROP)), "order_id", "SO-NEVER-SENT")
    write(landing, "oms/order_events/2026-11-01/events.jsonl", line + "\n")
    ingest(con, landing, "oms/order_events")
    assert rejects(con) == []
    assert con.execute("SELECT order_id, operator FROM raw.oms_order_events").fetchall() == [("SO-NEVER-SENT", None)]


def test_utf8_bom_at_start_of_file_is_not_part_of_the_first_record(con, landing):
    write(landing, "oms/order_events/2026-11-01/events.jsonl", b"\xef\xbb\xbf" + json.dumps(EVENT).encode() + b"\n")
    ingest(con, landing, "oms/order_events")
    assert rejects(con) == []
    assert con.execute("SELECT event_id, _record_no FROM raw.oms_order_events").fetchall() == [("E1", 1)]
