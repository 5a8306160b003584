"""The practical limit for ingest: read every landing file into DuckDB tables, nothing else.

JSON Lines and UTF-8 CSV go through DuckDB's own readers. DuckDB cannot read GBK here, so the
bank files are decoded by Python and handed to DuckDB; DuckDB has no XML reader, so invoices are
parsed with lxml. Those two are the cheapest possible path for their formats, not a handicap.
"""
from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

import duckdb
import pandas as pd
from lxml import etree


def _files(landing: Path, source: str, pattern: str) -> list[str]:
    return sorted(str(p) for p in (landing / source).glob(f"*/{pattern}"))


def bare_read(landing: Path, warehouse: Path) -> dict[str, int]:
    warehouse.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    with duckdb.connect(str(warehouse)) as con:
        for table, source in [("orders", "oms/orders"), ("order_events", "oms/order_events"),
                              ("tracking", "wms/tracking")]:
            files = _files(landing, source, "*.jsonl")
            if files:
                con.execute(f"create table {table} as select * from read_json(?, format='newline_delimited', "
                            "ignore_errors=true, union_by_name=true)", [files])
        for table, source in [("gateway", "payments/gateway"), ("shipments", "wms/shipments")]:
            files = _files(landing, source, "*.csv")
            if files:
                con.execute(f"create table {table} as select * from read_csv(?, all_varchar=true, "
                            "ignore_errors=true, union_by_name=true)", [files])
        bank_rows = []
        for path in _files(landing, "payments/bank", "*.csv"):
            try:
                text = Path(path).read_bytes().decode("gbk")
            except UnicodeDecodeError:
                continue
            bank_rows.extend(csv.reader(io.StringIO(text)))
        if bank_rows:
            bank = pd.DataFrame(bank_rows[1:])
            con.execute("create table bank as select * from bank")
        invoices = []
        for path in _files(landing, "erp/invoices", "*.xml"):
            try:
                for _, element in etree.iterparse(path, tag="Invoice"):
                    invoices.append({child.tag: child.text for child in element if len(child) == 0})
                    element.clear()
            except etree.XMLSyntaxError:
                continue
        if invoices:
            invoice_frame = pd.DataFrame(invoices)
            con.execute("create table invoices as select * from invoice_frame")
        for (table,) in con.execute("select table_name from information_schema.tables").fetchall():
            counts[table] = con.execute(f"select count(*) from {table}").fetchone()[0]
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--warehouse", type=Path, required=True)
    args = parser.parse_args()
    print(bare_read(args.landing, args.warehouse))


if __name__ == "__main__":
    main()
