"""Release guard (issue 12): before a candidate build replaces the published version, compare them
and hold the release when too much changed that nothing explains.

A change is explained by a **new source record** (a raw row from a file the published version had
not ingested) touching the order or document, or, for an exception that appeared, by the **clock**:
its type starts to hold as time passes (an SLA ran out) and as_of moved forward. What is left is
unexplained: an order whose `order_total`, `invoiced_amount`, `net_paid_amount` or `ar_outstanding`
changed (or that vanished) with no new record touching it, and an exception that appeared or
disappeared the same way: the signature of a model change that rewrites history. When unexplained
orders + unexplained exceptions exceed `O2C_MAX_UNEXPLAINED_CHANGE` (default 0.02) of the published
orders, the release is held: the published version stays, `meta.publications` records a `held` row
with the reason, and an alert goes out. `O2C_RELEASE_OVERRIDE="<why>"` publishes anyway (a reviewed
fix that is meant to change history) and records why.

A landing folder that is not a continuation of the published one (files the published version
ingested are gone, or as_of went back) is not a release at all: it is held with the way to start
over (docs/exceptions-workbench.md, "Starting over").

`python -m orchestration.release diff [--old PATH] [--new PATH]` (make diff) prints the comparison
for a person: PATH is a DuckDB file (published or working) or a published Parquet folder.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingest import settings
from ingest.common import has_table

MAX_UNEXPLAINED_ENV = "O2C_MAX_UNEXPLAINED_CHANGE"
OVERRIDE_ENV = "O2C_RELEASE_OVERRIDE"
DEFAULT_MAX_UNEXPLAINED = 0.02
HELD_PREFIX = "release held"
GUARDED_FIELDS: tuple[str, ...] = ("order_total", "invoiced_amount", "net_paid_amount", "ar_outstanding")
# Exception types that start to hold as time passes (an SLA window of docs/contract/clauses.md runs
# out): their appearance is explained by as_of moving forward.
CLOCK_TYPES: frozenset[str] = frozenset({
    "STUCK_AWAITING_APPROVAL", "STUCK_AWAITING_SHIPMENT", "CANCELLED_BUT_CAPTURED",
    "SHIPMENT_NOT_REFLECTED_IN_OMS", "SHIPPED_NOT_INVOICED", "REFUND_WITHOUT_CREDIT_NOTE",
    "AR_OVERDUE", "PAYOUT_NOT_RECEIVED", "UNSETTLED_TRANSACTION",
})
# raw table -> (columns naming an order, columns naming a document) of its delivered records
RAW_REFERENCES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "oms_orders": (("order_id",), ()),
    "oms_order_events": (("order_id",), ("event_id",)),
    "oms_order_lines": (("order_id",), ()),
    "wms_shipments": (("order_id",), ("shipment_id",)),
    "wms_shipment_items": ((), ("shipment_id",)),
    "wms_tracking_events": ((), ("shipment_id",)),
    "erp_invoices": ((), ("InvoiceId", "OriginalInvoiceId")),
    "erp_invoice_lines": (("OrderId",), ("InvoiceId",)),
    "payments_gateway_transactions": (("order_id",), ("txn_id",)),
    "payments_bank_statement_lines": ((), ("交易流水号",)),
    "payments_payouts": ((), ("payout_id", "txn_id")),
}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(value: str | os.PathLike) -> str:
    return "'" + str(value).replace("'", "''") + "'"


@dataclass
class Comparison:
    """What differs between the published version (`old`) and a candidate (`new`)."""

    old_as_of: object
    new_as_of: object
    published_orders: int
    row_counts: dict[str, tuple[int | None, int | None]]
    changed_orders: list[tuple]            # (order_id, field, old, new, explained)
    appeared: list[tuple]                  # (exception_id, type, order_id, document_id, explained_by)
    disappeared: list[tuple]
    explained_known: bool                  # False when `new` has no raw records (two published versions)
    missing_files: list[str] = field(default_factory=list)

    @property
    def unexplained_orders(self) -> set[str]:
        return {row[0] for row in self.changed_orders if row[4] is False}

    @property
    def unexplained_exceptions(self) -> list[tuple]:
        return [row for row in self.appeared + self.disappeared if row[4] is None and self.explained_known]

    @property
    def unexplained_share(self) -> float:
        unexplained = len(self.unexplained_orders) + len(self.unexplained_exceptions)
        return unexplained / max(1, self.published_orders)

    @property
    def is_continuation(self) -> bool:
        went_back = (self.old_as_of is not None and self.new_as_of is not None and self.new_as_of < self.old_as_of)
        return not self.missing_files and not went_back


def max_unexplained_change() -> float:
    raw = os.environ.get(MAX_UNEXPLAINED_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_UNEXPLAINED
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{MAX_UNEXPLAINED_ENV}={raw!r} is not a number (a share such as 0.02)") from exc
    if not 0 <= value <= 1:
        raise ValueError(f"{MAX_UNEXPLAINED_ENV}={raw!r} must be a share between 0 and 1")
    return value


# ---------------------------------------------------------------- opening versions

def attach_version(con: duckdb.DuckDBPyConnection, path: Path, alias: str) -> None:
    """A DuckDB file (attached read-only) or a published Parquet folder (views over its files)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.parquet"))
        if not files:
            raise FileNotFoundError(f"{path} holds no .parquet file: not a published Parquet folder")
        con.execute(f"ATTACH ':memory:' AS {alias}")
        con.execute(f"CREATE SCHEMA {alias}.marts")
        for file in files:
            con.execute(f"CREATE VIEW {alias}.marts.{_ident(file.stem)} AS SELECT * FROM read_parquet({_sql_str(file)})")
    elif path.is_file():
        con.execute(f"ATTACH {_sql_str(path)} AS {alias} (READ_ONLY)")
    else:
        raise FileNotFoundError(f"{path} does not exist (expected a DuckDB file or a published Parquet folder)")


# ---------------------------------------------------------------- the comparison

def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> set[str]:
    return {row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = 'marts'",
        [catalog]).fetchall()}


def _as_of(con: duckdb.DuckDBPyConnection, catalog: str):
    if not has_table(con, catalog, "marts", "reconciliation_exceptions"):
        return None
    row = con.execute(f"SELECT max(as_of) FROM {catalog}.marts.reconciliation_exceptions").fetchone()
    if row[0] is None and has_table(con, catalog, "intermediate", "int_as_of_resolved"):
        row = con.execute(f"SELECT as_of FROM {catalog}.intermediate.int_as_of_resolved").fetchone()
    return row[0]


def _build_touched(con: duckdb.DuckDBPyConnection, old: str, new: str) -> None:
    """Temp tables `_touched_orders(id)` and `_touched_keys(id)` (orders and documents) of the
    raw records that came with files the old version had not ingested."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _new_files AS
        SELECT DISTINCT file_sha256 FROM {new}.ingest.files
        EXCEPT SELECT file_sha256 FROM {old}.ingest.files""")
    order_refs, document_refs = [], []
    for table, (order_columns, document_columns) in RAW_REFERENCES.items():
        if not has_table(con, new, "raw", table):
            continue
        for column, target in [(c, order_refs) for c in order_columns] + [(c, document_refs) for c in document_columns]:
            target.append(f"SELECT {_ident(column)} AS id FROM {new}.raw.{table} "
                          f"WHERE _file_sha256 IN (SELECT file_sha256 FROM _new_files) AND {_ident(column)} IS NOT NULL")
    con.execute("CREATE OR REPLACE TEMP TABLE _touched_documents AS "
                + (" UNION ".join(document_refs + order_refs) if document_refs else "SELECT NULL::VARCHAR AS id WHERE false"))
    links = []  # (order, document) pairs of both versions: a new record of a document touches its orders
    for catalog in (old, new):
        links.append(f"SELECT order_id, document_id FROM {catalog}.marts.order_events")
        links.append(f"SELECT order_id, source_document_id FROM {catalog}.marts.ledger_entries")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _links AS SELECT * FROM ({' UNION '.join(links)}) WHERE order_id IS NOT NULL")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _touched_orders AS
        {' UNION '.join(order_refs) if order_refs else 'SELECT NULL::VARCHAR AS id WHERE false'}
        UNION SELECT order_id FROM _links WHERE document_id IN (SELECT id FROM _touched_documents)""")
    # documents of touched orders (an unapplied bank line now matched to a new order, a payment
    # whose order arrived) and the gateway transactions naming them
    gateway = (f"UNION SELECT txn_id FROM {new}.raw.payments_gateway_transactions "
               f"WHERE order_id IN (SELECT id FROM _touched_orders)"
               if has_table(con, new, "raw", "payments_gateway_transactions") else "")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _touched_keys AS
        SELECT id FROM _touched_documents UNION SELECT id FROM _touched_orders
        UNION SELECT document_id FROM _links WHERE order_id IN (SELECT id FROM _touched_orders) {gateway}""")


def compare(con: duckdb.DuckDBPyConnection, old: str, new: str) -> Comparison:
    """Compare two versions attached as catalogs `old` (the published one) and `new`."""
    old_tables, new_tables = _tables(con, old), _tables(con, new)
    row_counts = {}
    for table in sorted(old_tables | new_tables):
        counts = [con.execute(f"SELECT count(*) FROM {catalog}.marts.{_ident(table)}").fetchone()[0]
                  if table in tables else None for catalog, tables in ((old, old_tables), (new, new_tables))]
        row_counts[f"marts.{table}"] = tuple(counts)
    explained_known = (has_table(con, new, "raw", "oms_orders") and has_table(con, old, "ingest", "files")
                       and has_table(con, new, "ingest", "files"))
    missing_files: list[str] = []
    if explained_known:
        _build_touched(con, old, new)
        missing_files = [row[0] for row in con.execute(
            f"SELECT file_path FROM {old}.ingest.files EXCEPT SELECT file_path FROM {new}.ingest.files ORDER BY 1"
        ).fetchall()]
    touched = "order_id IN (SELECT id FROM _touched_orders)" if explained_known else "NULL"
    differs = " OR ".join(f"o.{f} IS DISTINCT FROM n.{f}" for f in GUARDED_FIELDS)
    changed = con.execute(f"""
        WITH joined AS (
            SELECT coalesce(o.order_id, n.order_id) AS order_id,
                   {", ".join(f"o.{f} AS old_{f}, n.{f} AS new_{f}" for f in GUARDED_FIELDS)}
            FROM {old}.marts.order_ledger o FULL JOIN {new}.marts.order_ledger n ON o.order_id = n.order_id
            WHERE o.order_id IS NULL OR n.order_id IS NULL OR {differs}
        )
        SELECT order_id, field, old_value, new_value, {touched} AS explained FROM (
            {" UNION ALL ".join(f"SELECT order_id, '{f}' AS field, old_{f} AS old_value, new_{f} AS new_value FROM joined WHERE old_{f} IS DISTINCT FROM new_{f}" for f in GUARDED_FIELDS)}
        ) ORDER BY order_id, field""").fetchall()
    old_as_of, new_as_of = _as_of(con, old), _as_of(con, new)
    clock_moved = old_as_of is not None and new_as_of is not None and new_as_of > old_as_of
    appeared = _exception_delta(con, new, old, explained_known, clock_moved)
    disappeared = _exception_delta(con, old, new, explained_known, False)
    published_orders = con.execute(f"SELECT count(*) FROM {old}.marts.order_ledger").fetchone()[0]
    return Comparison(old_as_of, new_as_of, published_orders, row_counts, changed, appeared, disappeared,
                      explained_known, missing_files)


def _exception_delta(con: duckdb.DuckDBPyConnection, present: str, absent: str, explained_known: bool,
                     clock_moved: bool) -> list[tuple]:
    """Exceptions of `present` that `absent` does not list, with what explains them."""
    clock = (f"WHEN p.exception_type IN ({', '.join(_sql_str(t) for t in sorted(CLOCK_TYPES))}) THEN 'as_of moved'"
             if clock_moved else "")
    records = ("WHEN p.order_id IN (SELECT id FROM _touched_keys) OR p.document_id IN (SELECT id FROM _touched_keys) "
               "THEN 'new records'" if explained_known else "")
    explained_by = f"CASE {records} {clock} END" if (records or clock) else "NULL"
    return con.execute(f"""
        SELECT p.exception_id, p.exception_type, p.order_id, p.document_id, {explained_by} AS explained_by
        FROM {present}.marts.reconciliation_exceptions p
        WHERE p.exception_id NOT IN (SELECT exception_id FROM {absent}.marts.reconciliation_exceptions)
        ORDER BY p.exception_type, p.exception_id""").fetchall()


# ---------------------------------------------------------------- the decision

@dataclass(frozen=True)
class Decision:
    release: bool
    reason: str | None            # why it is held (None when released)
    comparison: Comparison
    override: str | None = None   # O2C_RELEASE_OVERRIDE when it let a release through

    def summary(self) -> dict[str, object]:
        c = self.comparison
        return {
            "unexplained_orders": len(c.unexplained_orders),
            "unexplained_exceptions": len(c.unexplained_exceptions),
            "published_orders": c.published_orders,
            "unexplained_share": round(c.unexplained_share, 6),
            "limit": max_unexplained_change(),
            "changed_orders": len({row[0] for row in c.changed_orders}),
            "exceptions_appeared": len(c.appeared),
            "exceptions_disappeared": len(c.disappeared),
            "override": self.override,
        }


def decide(comparison: Comparison, publish_dir: Path) -> Decision:
    limit = max_unexplained_change()
    override = os.environ.get(OVERRIDE_ENV, "").strip() or None
    if not comparison.is_continuation:
        what = (f"{len(comparison.missing_files)} file(s) the published version ingested are not in this "
                f"landing folder (e.g. {comparison.missing_files[0]})" if comparison.missing_files
                else f"as_of went back from {comparison.old_as_of} to {comparison.new_as_of}")
        return Decision(False, f"{HELD_PREFIX}: the landing folder is not a continuation of the published "
                               f"version: {what}. To start over with this folder, move {publish_dir} aside "
                               f"(it keeps the old history) and run again.", comparison)
    share = comparison.unexplained_share
    if share > limit and not override:
        c = comparison
        examples = sorted(c.unexplained_orders)[:3] + [row[0] for row in c.unexplained_exceptions[:3]]
        return Decision(False, f"{HELD_PREFIX}: {len(c.unexplained_orders)} order(s) changed and "
                               f"{len(c.unexplained_exceptions)} exception(s) appeared or disappeared that no new "
                               f"record or the clock explains: {share:.2%} of {c.published_orders} published orders "
                               f"(limit {limit:.2%}, {MAX_UNEXPLAINED_ENV}); e.g. {', '.join(examples)}. Inspect with "
                               f"`make diff`; if the change is intended, run again with {OVERRIDE_ENV}=\"<why>\".",
                        comparison)
    return Decision(True, None, comparison, override if share > limit else None)


def guard(warehouse_path: Path, published_file: Path, publish_dir: Path) -> Decision | None:
    """Compare the working warehouse with the published file; None when nothing is published yet."""
    if not Path(published_file).exists():
        return None
    con = duckdb.connect(str(warehouse_path))  # same configuration as every other component
    try:
        attach_version(con, Path(published_file), "published")
        new = con.execute("SELECT current_database()").fetchone()[0]
        return decide(compare(con, "published", new), publish_dir)
    finally:
        con.close()


# ---------------------------------------------------------------- for a person

def render(comparison: Comparison, limit: float | None = None, examples: int = 10) -> str:
    c = comparison
    lines = [f"as_of: {c.old_as_of} -> {c.new_as_of}", "", f"{'table':<36} {'old':>10} {'new':>10} {'change':>9}"]
    for table, (old, new) in c.row_counts.items():
        change = "" if old is None or new is None else f"{new - old:+d}"
        lines.append(f"{table:<36} {'-' if old is None else old:>10} {'-' if new is None else new:>10} {change:>9}")
    orders = sorted({row[0] for row in c.changed_orders})
    lines += ["", f"orders whose {', '.join(GUARDED_FIELDS)} changed: {len(orders)}"]
    if c.explained_known:
        lines.append(f"  explained by new records: {len(orders) - len(c.unexplained_orders)}, "
                     f"unexplained: {len(c.unexplained_orders)}")
    for order_id, fname, old, new, explained in [r for r in c.changed_orders if r[4] is not True][:examples]:
        lines.append(f"  {order_id:<16} {fname:<16} {old!s:>14} -> {new!s:<14}"
                     f"{'' if explained is None else '  (unexplained)'}")
    for label, rows in (("appeared", c.appeared), ("disappeared", c.disappeared)):
        by_type: dict[str, list[int]] = {}
        for _, etype, _, _, why in rows:
            counts = by_type.setdefault(etype, [0, 0, 0])
            counts[0 if why == "new records" else 1 if why == "as_of moved" else 2] += 1
        lines += ["", f"exceptions {label}: {len(rows)}"]
        for etype, (records, clock, none) in sorted(by_type.items()):
            explained = f"  (new records {records}, as_of moved {clock}, unexplained {none})" if c.explained_known else ""
            lines.append(f"  {etype:<32} {records + clock + none:>6}{explained}")
    if c.explained_known:
        if c.missing_files:
            lines += ["", f"NOT a continuation: {len(c.missing_files)} published file(s) missing, e.g. {c.missing_files[0]}"]
        lines += ["", f"unexplained changes: {len(c.unexplained_orders)} orders + {len(c.unexplained_exceptions)} "
                      f"exceptions = {c.unexplained_share:.2%} of {c.published_orders} published orders"
                      + (f" (limit {limit:.2%})" if limit is not None else "")]
    else:
        lines += ["", "(no raw records on the new side: what explains each change is not known; "
                      "compare the published file with the working warehouse to see it)"]
    return "\n".join(lines)


def diff(old: Path, new: Path) -> Comparison:
    con = duckdb.connect()
    try:
        attach_version(con, old, "old")
        attach_version(con, new, "new")
        return compare(con, "old", "new")
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.release", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("diff", help="compare two versions (default: the published file and the working warehouse)")
    d.add_argument("--old", type=Path, default=None, help="DuckDB file or published Parquet folder (default: published file)")
    d.add_argument("--new", type=Path, default=None, help="DuckDB file or Parquet folder (default: working warehouse)")
    args = parser.parse_args(argv)
    old = args.old or settings.published_file()
    new = args.new or settings.warehouse_path()
    try:
        comparison = diff(old, new)
    except (FileNotFoundError, duckdb.Error) as exc:
        print(f"o2c diff: {exc}", file=sys.stderr)
        return 2
    print(f"o2c diff: old {old}\n          new {new}\n")
    print(render(comparison, max_unexplained_change()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
