"""WMS loaders: every reject reason of shipments and tracking events; naive times kept as delivered."""
from __future__ import annotations

import json

import pytest

from tests.ingest.helpers import assert_identity, ingest, rejects, write

SHIPMENT_HEADER = "shipment_id,order_id,warehouse_id,carrier,tracking_no,created_at,items"
SHIPMENT_COLUMNS = SHIPMENT_HEADER.split(",")
SHIPMENT_OPTIONAL = ("warehouse_id", "carrier", "tracking_no")  # contract: may be empty
SHIPMENT_REQUIRED = tuple(c for c in SHIPMENT_COLUMNS if c not in SHIPMENT_OPTIONAL)
SHIPMENT_ROW = ["SH-1", "SO20261101000001", "WH-SH01", "SF", "SF1409388812", "2026-11-01 17:55:00",
                "SKU-1001:2|SKU-2040:1"]


def shipment_row(**changes: str) -> str:
    return ",".join((dict(zip(SHIPMENT_COLUMNS, SHIPMENT_ROW)) | changes).values())


SHIPMENT_CASES = [
    ("too-few-fields", "SH-9,SO1,WH,SF,T1,2026-11-01 17:55:00", "malformed_record"),
    ("too-many-fields", shipment_row() + ",x", "malformed_record"),
    *[(f"empty-{c}", shipment_row(**{c: ""}), f"missing_field:{c}") for c in SHIPMENT_REQUIRED],
    ("created_at-iso-t", shipment_row(created_at="2026-11-01T17:55:00"), "invalid_value:created_at"),
    ("created_at-offset", shipment_row(created_at="2026-11-01 17:55:00+08:00"), "invalid_value:created_at"),
    ("created_at-no-seconds", shipment_row(created_at="2026-11-01 17:55"), "invalid_value:created_at"),
    ("created_at-hour-25", shipment_row(created_at="2026-11-01 25:55:00"), "invalid_value:created_at"),
    ("items-no-qty", shipment_row(items="SKU-1001"), "invalid_value:items"),
    ("items-qty-zero", shipment_row(items="SKU-1001:0"), "invalid_value:items"),
    ("items-qty-negative", shipment_row(items="SKU-1001:2|SKU-2040:-1"), "invalid_value:items"),
    ("items-qty-fraction", shipment_row(items="SKU-1001:1.5"), "invalid_value:items"),
    ("items-trailing-bar", shipment_row(items="SKU-1001:2|"), "invalid_value:items"),
    ("items-comma-separated", shipment_row(items='"SKU-1001:2,SKU-2040:1"'), "invalid_value:items"),
]


@pytest.mark.parametrize("bad_row, reason", [c[1:] for c in SHIPMENT_CASES], ids=[c[0] for c in SHIPMENT_CASES])
def test_each_invalid_shipment_is_quarantined_whole(con, landing, bad_row, reason):
    good = shipment_row(shipment_id="SH-0")
    write(landing, "wms/shipments/2026-11-02/shipments.csv", f"{SHIPMENT_HEADER}\n{good}\n{bad_row}\n")
    ingest(con, landing, "wms/shipments")
    assert rejects(con) == [("wms/shipments/2026-11-02/shipments.csv", 2, reason, bad_row)]
    assert con.execute("SELECT shipment_id FROM raw.wms_shipments").fetchall() == [("SH-0",)]
    assert con.execute("SELECT DISTINCT shipment_id FROM raw.wms_shipment_items").fetchall() == [("SH-0",)]
    assert_identity(con)


@pytest.mark.parametrize("column", SHIPMENT_OPTIONAL)
def test_shipment_with_an_empty_optional_column_is_loaded(con, landing, column):
    """Issue 11 defect 5: self pick-up or a carrier assigned after the export is a valid shipment."""
    write(landing, "wms/shipments/2026-11-02/shipments.csv", f"{SHIPMENT_HEADER}\n{shipment_row(**{column: ''})}\n")
    ingest(con, landing, "wms/shipments")
    assert rejects(con) == []
    assert con.execute(f"SELECT shipment_id, {column} FROM raw.wms_shipments").fetchall() == [("SH-1", "")]
    assert con.execute("SELECT count(*) FROM raw.wms_shipment_items").fetchone() == (2,)
    assert_identity(con)


def test_shipment_items_and_naive_time_are_kept_as_delivered(con, landing):
    write(landing, "wms/shipments/2026-11-02/shipments.csv", f"{SHIPMENT_HEADER}\n{shipment_row()}\n")
    ingest(con, landing, "wms/shipments")
    assert con.execute("SELECT created_at, items, _record_no FROM raw.wms_shipments").fetchall() == [
        ("2026-11-01 17:55:00", "SKU-1001:2|SKU-2040:1", 1)]
    assert con.execute(
        "SELECT shipment_id, item_no, sku, qty, _record_no FROM raw.wms_shipment_items ORDER BY item_no"
    ).fetchall() == [("SH-1", "1", "SKU-1001", "2", 1), ("SH-1", "2", "SKU-2040", "1", 1)]


def test_shipments_header_other_than_listed_is_malformed_file(con, landing):
    write(landing, "wms/shipments/2026-11-02/a.csv", SHIPMENT_HEADER.replace(",items", "") + "\nSH-1,SO1,WH,SF,T,2026-11-01 17:55:00\n")
    ingest(con, landing, "wms/shipments")
    assert [r[:3] for r in rejects(con)] == [("wms/shipments/2026-11-02/a.csv", 0, "malformed_file")]
    assert_identity(con)


TRACKING = {"shipment_id": "SH-1", "event": "shipped", "occurred_at": "2026-11-01 18:20:00", "location": "上海"}


def tracking(**changes) -> str:
    record = dict(TRACKING) | changes
    return json.dumps({k: v for k, v in record.items() if v is not ...}, ensure_ascii=False)


TRACKING_CASES = [
    ("not-json", "shipment_id=SH-1", "malformed_record"),
    ("absent-shipment_id", tracking(shipment_id=...), "missing_field:shipment_id"),
    ("empty-shipment_id", tracking(shipment_id=""), "missing_field:shipment_id"),
    ("absent-event", tracking(event=...), "missing_field:event"),
    ("absent-occurred_at", tracking(occurred_at=...), "missing_field:occurred_at"),
    ("event-unknown", tracking(event="lost"), "invalid_value:event"),
    ("occurred_at-iso-t", tracking(occurred_at="2026-11-01T18:20:00"), "invalid_value:occurred_at"),
    ("occurred_at-offset", tracking(occurred_at="2026-11-01 18:20:00+08:00"), "invalid_value:occurred_at"),
    ("location-number", tracking(location=21), "invalid_value:location"),
]


@pytest.mark.parametrize("bad_line, reason", [c[1:] for c in TRACKING_CASES], ids=[c[0] for c in TRACKING_CASES])
def test_each_invalid_tracking_event_is_quarantined(con, landing, bad_line, reason):
    good = tracking(event="picked")
    write(landing, "wms/tracking/2026-11-02/tracking.jsonl", f"{good}\n{bad_line}\n")
    ingest(con, landing, "wms/tracking")
    assert rejects(con) == [("wms/tracking/2026-11-02/tracking.jsonl", 2, reason, bad_line)]
    assert con.execute("SELECT event FROM raw.wms_tracking_events").fetchall() == [("picked",)]
    assert_identity(con)


def test_tracking_naive_time_kept_and_unknown_shipment_loaded(con, landing):
    write(landing, "wms/tracking/2026-11-02/tracking.jsonl",
          tracking(shipment_id="SH-UNKNOWN", location=...) + "\n" + tracking() + "\n")
    ingest(con, landing, "wms/tracking")
    assert rejects(con) == []
    assert con.execute(
        "SELECT shipment_id, occurred_at, location FROM raw.wms_tracking_events ORDER BY _record_no"
    ).fetchall() == [("SH-UNKNOWN", "2026-11-01 18:20:00", None), ("SH-1", "2026-11-01 18:20:00", "上海")]
