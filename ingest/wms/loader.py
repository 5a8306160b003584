"""Loaders of the warehouse exports (spec sources.md: wms/shipments, wms/tracking).

Times are naive China local time and are kept exactly as delivered; they must be exactly
`YYYY-MM-DD HH:MM:SS`. Shipments: columns in header order; `warehouse_id`, `carrier` and `tracking_no` may be empty
(self pick-up, carrier assigned later), the others are required; `items` must be
`sku:qty|sku:qty…` with qty an integer > 0 (else `invalid_value:items`). Tracking: fields in the
spec's order (shipment_id, event, occurred_at required; location optional).
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.common import FileLoad, Outputs, Rule, is_blank_sql, load_csv_flat, load_json_lines_flat, sql_str

# sku: anything but ':' and '|'; qty: a positive integer (leading zeros tolerated).
ITEMS_RE = r"[^:|]+:0*[1-9]\d{0,8}(\|[^:|]+:0*[1-9]\d{0,8})*"

SHIPMENT_RULES: tuple[Rule, ...] = (
    Rule("shipment_id"),
    Rule("order_id"),
    Rule("warehouse_id", required=False),
    Rule("carrier", required=False),
    Rule("tracking_no", required=False),
    Rule("created_at", "ts_naive"),
    Rule("items"),  # pattern checked below
)
TRACKING_RULES: tuple[Rule, ...] = (
    Rule("shipment_id"),
    Rule("event", "enum", values=("picked", "shipped", "in_transit", "delivered", "exception", "returned_to_sender")),
    Rule("occurred_at", "ts_naive"),
    Rule("location", required=False),
)

SHIPMENT_COLUMNS = tuple(rule.name for rule in SHIPMENT_RULES)
SHIPMENT_ITEM_COLUMNS = ("shipment_id", "item_no", "sku", "qty")
TRACKING_COLUMNS = tuple(rule.name for rule in TRACKING_RULES)

RAW_TABLES: dict[str, dict[str, tuple[str, ...]]] = {
    "wms/shipments": {"wms_shipments": SHIPMENT_COLUMNS, "wms_shipment_items": SHIPMENT_ITEM_COLUMNS},
    "wms/tracking": {"wms_tracking_events": TRACKING_COLUMNS},
}


def load_shipments(con: duckdb.DuckDBPyConnection, path: Path, into: str | None = None) -> FileLoad:
    """Shipments CSV file -> candidate rows of raw.wms_shipments and raw.wms_shipment_items, plus rejects.

    `items` is kept as delivered on the shipment and split by DuckDB into one item row per
    `sku:qty` (item_no = 1-based position).
    """
    items_reason = (
        f"CASE WHEN {is_blank_sql('items')} THEN 'missing_field:items' "
        f"WHEN NOT regexp_full_match(items, {sql_str(ITEMS_RE)}) THEN 'invalid_value:items' END"
    )
    out = Outputs("_wms_shipments", into)
    load = load_csv_flat(con, path, "utf-8", SHIPMENT_RULES, "wms_shipments", out.prefix,
                         extra_reasons={"items": items_reason}, into=into)
    items = out.name("items")
    # unnest and generate_subscripts of one list are zipped (3x faster than a lateral unnest).
    con.execute(
        f"""{out.create} {items} AS
            SELECT shipment_id, n::VARCHAR AS item_no,
                   split_part(item, ':', 1) AS sku, split_part(item, ':', 2) AS qty, record_no AS _record_no,
                   _record_hash
            FROM (SELECT shipment_id, record_no, _record_hash, unnest(parts) AS item, generate_subscripts(parts, 1) AS n
                  FROM (SELECT shipment_id, record_no, _record_hash, string_split(items, '|') AS parts
                        FROM {out.name("checked")} WHERE reason IS NULL))"""
    )
    load.tables["wms_shipment_items"] = items
    load.outputs.append(items)
    return load


def load_tracking_events(con: duckdb.DuckDBPyConnection, path: Path, into: str | None = None) -> FileLoad:
    """Tracking events JSON Lines file -> candidate rows of raw.wms_tracking_events, plus rejects."""
    return load_json_lines_flat(con, path, TRACKING_RULES, "wms_tracking_events", "_wms_tracking", into)
