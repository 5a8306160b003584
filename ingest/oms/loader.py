"""Loaders of the OMS exports (spec sources.md: oms/orders, oms/order_events).

Validation order (the first failing field is the reject reason): the fields in the order of
the spec's tables; inside `lines`, element by element, then line_no, sku, qty, unit_price,
discount. `order_id` of a snapshot must be letters and digits only (spec); the `order_id` of
an event is a reference and is only required.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.common import (
    FileLoad, Outputs, Rule, first_reason_sql, json_field_columns_sql, json_object_fields_sql, json_reason_sql,
    json_struct_type, load_json_lines_flat, quote_ident, read_json_lines, split_checked, with_record_hash,
)

ORDER_STATUSES = ("created", "approved", "allocated", "shipped", "delivered", "completed",
                  "cancelled", "return_requested", "returned", "refunded")

ORDER_RULES: tuple[Rule, ...] = (
    Rule("order_id", "alnum"),
    Rule("channel", "enum", values=("tmall", "jd", "pdd", "web", "store", "b2b")),
    Rule("channel_order_no", required=False),
    Rule("customer_id"),
    Rule("customer_name"),
    Rule("payment_terms", "enum", values=("prepaid", "net30")),
    Rule("currency", "enum", values=("CNY", "USD")),
    Rule("entry_source", "enum", values=("api", "manual_import")),
    Rule("status", "enum", values=ORDER_STATUSES),
    Rule("created_at", "ts_offset"),
    Rule("updated_at", "ts_offset"),
    Rule("lines", "lines"),  # checked element by element below
    Rule("shipping_fee", "amount"),
    Rule("coupon_amount", "amount"),
    Rule("points_amount", "amount"),
    Rule("tax_rate", "rate"),
)
LINE_RULES: tuple[Rule, ...] = (
    Rule("line_no", "int_pos"),
    Rule("sku"),
    Rule("qty", "int_pos"),
    Rule("unit_price", "amount"),
    Rule("discount", "amount"),
)
EVENT_RULES: tuple[Rule, ...] = (
    Rule("event_id"),
    Rule("order_id"),
    Rule("status", "enum", values=ORDER_STATUSES),
    Rule("occurred_at", "ts_offset"),
    Rule("source", "enum", values=("oms", "manual_import")),
    Rule("operator", required=False),
)

ORDER_COLUMNS = tuple(rule.name for rule in ORDER_RULES)
ORDER_LINE_COLUMNS = ("order_id",) + tuple(rule.name for rule in LINE_RULES)
EVENT_COLUMNS = tuple(rule.name for rule in EVENT_RULES)

RAW_TABLES: dict[str, dict[str, tuple[str, ...]]] = {
    "oms/orders": {"oms_orders": ORDER_COLUMNS, "oms_order_lines": ORDER_LINE_COLUMNS},
    "oms/order_events": {"oms_order_events": EVENT_COLUMNS},
}


def load_orders(con: duckdb.DuckDBPyConnection, path: Path, into: str | None = None) -> FileLoad:
    """Order snapshots file -> candidate rows of raw.oms_orders and raw.oms_order_lines, plus rejects.

    Each line is parsed once; `lines` is unnested with DuckDB and every element checked, so an
    order with one bad line is quarantined whole (reason named after the line field, e.g.
    `invalid_value:qty`). `lines` is kept as the JSON array text.
    """
    p = "_oms_orders"
    records = read_json_lines(con, path, f"{p}_text")
    # One parse per line: every field's JSON text, as a struct (NULL when not a JSON object).
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {p}_parsed AS
            SELECT record_no, raw_text, {json_object_fields_sql("raw_text", ORDER_COLUMNS)} AS j FROM {p}_text"""
    )
    # One row per element of a `lines` array: its JSON type and its fields' types and texts,
    # from one parse of the array for the element types and one for their fields.
    line_names = [rule.name for rule in LINE_RULES]
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {p}_elements AS
            SELECT record_no, position::INTEGER AS position, element_type, {json_field_columns_sql("e", line_names)}
            FROM (SELECT record_no, unnest(element_types) AS element_type, unnest(elements) AS e,
                         generate_subscripts(elements, 1) AS position
                  FROM (SELECT record_no, json_type(lines, '$[*]') AS element_types,
                               json_transform(lines, {json_struct_type(line_names, array=True)}) AS elements
                        FROM (SELECT record_no, j.lines::VARCHAR AS lines FROM {p}_parsed)
                        WHERE starts_with(lines, '[')))"""
    )
    element_reason = first_reason_sql(
        json_reason_sql(rule, f"t{i}", f"s{i}") for i, rule in enumerate(LINE_RULES, start=1))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {p}_line_reasons AS
            SELECT record_no, arg_min(reason, position) AS reason
            FROM (SELECT record_no, position,
                         CASE WHEN element_type <> 'OBJECT' THEN 'invalid_value:lines'
                              ELSE {element_reason} END AS reason
                  FROM {p}_elements)
            WHERE reason IS NOT NULL
            GROUP BY record_no"""
    )
    lines_pos = ORDER_COLUMNS.index("lines") + 1
    lines_type, lines_text = f"t{lines_pos}", f"s{lines_pos}"
    lines_reason = (
        f"CASE WHEN {lines_type} IS NULL OR {lines_type} = 'NULL' THEN 'missing_field:lines' "
        f"WHEN {lines_type} <> 'ARRAY' THEN 'invalid_value:lines' "
        f"WHEN {lines_text} = '[]' THEN 'missing_field:lines' "
        f"ELSE lr.reason END"
    )
    reasons = first_reason_sql(
        lines_reason if rule.name == "lines" else json_reason_sql(rule, f"t{i}", f"s{i}")
        for i, rule in enumerate(ORDER_RULES, start=1)
    )
    values = ", ".join(f"s{i} AS {quote_ident(name)}" for i, name in enumerate(ORDER_COLUMNS, start=1))
    out = Outputs(p, into)
    checked, line_rows = out.name("checked"), out.name("line_rows")
    checked_sql = f"""
            SELECT o.record_no, o.raw_text,
                   CASE WHEN NOT o.is_object THEN 'malformed_record' ELSE {reasons} END AS reason,
                   {values}
            FROM (SELECT record_no, raw_text, j IS NOT NULL AS is_object, {json_field_columns_sql("j", ORDER_COLUMNS)}
                  FROM {p}_parsed) AS o
            LEFT JOIN {p}_line_reasons AS lr USING (record_no)"""
    con.execute(f"{out.create} {checked} AS {with_record_hash(checked_sql)}")
    rows, rejects = split_checked(checked, ORDER_COLUMNS)
    line_values = ", ".join(f"e.s{i} AS {quote_ident(rule.name)}" for i, rule in enumerate(LINE_RULES, start=1))
    con.execute(
        f"""{out.create} {line_rows} AS
            SELECT c.order_id, {line_values}, c.record_no AS _record_no, c._record_hash
            FROM {checked} AS c JOIN {p}_elements AS e USING (record_no)
            WHERE c.reason IS NULL"""
    )
    temp = [f"{p}_{t}" for t in ("text", "parsed", "elements", "line_reasons")]
    return FileLoad(records, {"oms_orders": rows, "oms_order_lines": line_rows}, rejects, temp, [checked, line_rows])


def load_order_events(con: duckdb.DuckDBPyConnection, path: Path, into: str | None = None) -> FileLoad:
    """Order status events file -> candidate rows of raw.oms_order_events, plus rejects."""
    return load_json_lines_flat(con, path, EVENT_RULES, "oms_order_events", "_oms_events", into)
