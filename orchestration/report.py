"""The finance report: one static, self-contained HTML page per publish.

No JavaScript, no web fonts, no CDN: the page is rendered from Jinja2 templates
(``orchestration/templates/``, autoescape on) with inline CSS, and its charts are Vega-Lite
specs (Altair) rendered here to static SVG by vl-convert (``orchestration/charts.py``) and
inlined, so the file opens in any browser offline and can be mailed or archived as is. Data
comes from the *published* DuckDB file, opened read-only, so the report shows exactly what BI
tools see.

    write_report(published_db_path, out_dir) -> Path
        writes out_dir/reports/report-<as_of>-<run_id>.html (kept) and out_dir/report.html (latest)
    render_report(published_db_path) -> (html, info)

Sections: reconciliation exceptions, the exception queue (``marts.exception_queue``), the
exception lifecycle (``marts.exception_history``), bank and gateway auto-matching
(``marts.cash_matching_daily``), AR aging, the daily cash tie-out, gateway payouts, and the
publish itself. A section whose table is not in the published file says "not available".

Tolerant of the marts' optional columns: ``daily_cash_reconciliation`` is shown with every
column it has; columns whose name says difference (``diff``, ``variance``, ``delta``,
``unexplained``, ``gap``) are highlighted when not zero.
"""
from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from orchestration import charts

TEMPLATES = Path(__file__).with_name("templates")
TOP_CUSTOMERS = 20
TOP_EXCEPTIONS = 25
TOP_QUEUE = 20
MAX_CASH_ROWS = 500
MAX_MATCH_ROWS = 500
TOLERANCE = Decimal("0.005")  # a difference that rounds to a cent is a difference
BUCKET_ORDER = ("current", "1-30", "31-60", "61-90", "90+")
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
SEVERITY_COLORS = {"critical": "#7f1d1d", "high": "#dc2626", "medium": "#f59e0b", "low": "#3b82f6",
                   "info": "#94a3b8"}
OTHER_COLORS = ("#0d9488", "#7c3aed", "#db2777", "#65a30d", "#475569")
BUCKET_COLORS = {"current": "#16a34a", "1-30": "#84cc16", "31-60": "#f59e0b", "61-90": "#ea580c", "90+": "#b91c1c"}
SYSTEM_COLORS = {"bank": "#1d4ed8", "payments": "#0d9488"}
DIFF_PATTERN = re.compile(r"diff|variance|delta|unexplained|gap", re.IGNORECASE)
QUEUE_COLUMNS = ("priority_rank", "exception_id", "exception_type", "severity", "order_id",
                 "amount_at_risk_cny", "age_days", "owner")
HISTORY_REQUIRED = ("exception_id", "first_seen_as_of", "resolved_as_of")


# --------------------------------------------------------------------------------------------
# formatting helpers (also the templates' filters)


def _money(value: Any) -> str:
    if value is None:
        return ""
    return f"{Decimal(str(value)):,.2f}"


def _int(value: Any) -> str:
    return "" if value is None else f"{int(value):,}"


def _percent(value: Any) -> str:
    return "" if value is None else f"{100 * float(value):.1f}%"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (Decimal, float)):
        return _money(value)
    if isinstance(value, int):
        return _int(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _ordered(values, order) -> list:
    known = [v for v in order if v in values]
    return known + sorted((v for v in values if v not in order), key=lambda v: str(v))


def _severity_color(severity: str, others: dict[str, str]) -> str:
    key = str(severity).lower()
    if key in SEVERITY_COLORS:
        return SEVERITY_COLORS[key]
    return others.setdefault(key, OTHER_COLORS[len(others) % len(OTHER_COLORS)])


# --------------------------------------------------------------------------------------------
# tables: built here (what is numeric, which cell is off), drawn by the `table` macro


@dataclass
class Cell:
    text: str
    cls: str = ""


@dataclass
class Row:
    cells: list[Cell]
    cls: str = ""


@dataclass
class Table:
    headers: list[tuple[str, bool]]  # (name, numeric)
    rows: list[Row] = field(default_factory=list)
    scroll: bool = False


def _table(headers: list[str], rows: list[list[Any]], *, numeric: set[int] | None = None,
           cell_class: Callable[[int, Any], bool] | None = None,
           row_class: Callable[[list[Any]], str] | None = None,
           formats: dict[int, Callable[[Any], str]] | None = None, scroll: bool = False) -> Table:
    numeric = numeric if numeric is not None else {
        i for i in range(len(headers)) if rows and all(_is_number(r[i]) or r[i] is None for r in rows)}
    formats = formats or {}
    out = []
    for r in rows:
        cells = []
        for i, v in enumerate(r):
            classes = (["n"] if i in numeric else []) + (["off"] if cell_class and cell_class(i, v) else [])
            cells.append(Cell(formats.get(i, _cell)(v), " ".join(classes)))
        out.append(Row(cells, row_class(r) if row_class else ""))
    return Table([(h, i in numeric) for i, h in enumerate(headers)], out, scroll)


# --------------------------------------------------------------------------------------------
# data


@dataclass
class _Db:
    con: duckdb.DuckDBPyConnection

    def has(self, schema: str, table: str) -> bool:
        return bool(self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, table]).fetchone()[0])

    def columns(self, schema: str, table: str) -> list[tuple[str, str]]:
        return self.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position", [schema, table]).fetchall()

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()


def _publication(db: _Db) -> dict[str, Any]:
    if not db.has("meta", "publications"):
        return {}
    # the version this file holds: releases the guard held back are rows too (status 'held')
    published = "WHERE coalesce(status, 'published') = 'published'" if _has_status(db) else ""
    cur = db.con.execute(f"SELECT * FROM meta.publications {published} ORDER BY publication_id DESC LIMIT 1")
    row = cur.fetchone()
    if row is None:
        return {}
    pub = dict(zip([d[0] for d in cur.description], row))
    for key in ("row_counts", "check_summary"):
        try:
            pub[key] = json.loads(pub.get(key) or "{}")
        except (TypeError, ValueError):
            pub[key] = {}
    return pub


def _has_status(db: _Db) -> bool:
    return db.has("meta", "publications") and "status" in [c for c, _ in db.columns("meta", "publications")]


def _missing(table: str) -> dict[str, Any]:
    """A section whose table is not in this publish (the template says "not available")."""
    return {"missing": table}


def _min_match_rate() -> float:
    """The bank auto-match target the `warn` expectation uses (O2C_MIN_MATCH_RATE, default 0.80)."""
    try:
        from expectations.config import ExpectationSettings

        return ExpectationSettings.from_env().min_match_rate
    except ValueError:
        return ExpectationSettings().min_match_rate


# --------------------------------------------------------------------------------------------
# sections: each returns (template context, kpi)


def _section_exceptions(db: _Db) -> tuple[dict[str, Any], dict[str, Any]]:
    if not db.has("marts", "reconciliation_exceptions"):
        return _missing("marts.reconciliation_exceptions"), {}
    cols = {c for c, _ in db.columns("marts", "reconciliation_exceptions")}
    # amount_at_risk is in the exception's currency: never add up across currencies
    if "amount_at_risk_cny" in cols:
        amount_col, ccy_expr = "amount_at_risk_cny", "'CNY'"
    elif "currency" in cols:
        amount_col, ccy_expr = "amount_at_risk", "coalesce(currency, 'n/a')"
    else:
        amount_col, ccy_expr = "amount_at_risk", "''"
    by = db.rows(f"""
        SELECT exception_type, coalesce(severity, 'unset') AS severity, {ccy_expr} AS ccy, count(*) AS n,
               coalesce(sum({amount_col}), 0) AS amount
        FROM marts.reconciliation_exceptions GROUP BY ALL ORDER BY 1, 2, 3""")
    severities = _ordered({r[1] for r in by}, SEVERITY_ORDER)
    currencies = _ordered({r[2] for r in by}, ("CNY",))
    others: dict[str, str] = {}
    colors = {s: _severity_color(s, others) for s in severities}
    counts: dict[tuple[str, str], int] = {}
    amounts: dict[tuple[str, str, str], Decimal] = {}
    for t, s, c, n, amount in by:
        counts[(t, s)] = counts.get((t, s), 0) + n
        amounts[(t, s, c)] = Decimal(str(amount))
    types = sorted({t for t, _ in counts}, key=lambda t: (-sum(n for (tt, _), n in counts.items() if tt == t), t))
    total_n = sum(counts.values())

    def amount(t=None, s=None, c=None) -> Decimal:
        return sum((a for (tt, ss, cc), a in amounts.items()
                    if (t is None or tt == t) and (s is None or ss == s) and (c is None or cc == c)), Decimal(0))

    def label(c: str) -> str:
        return f"amount_at_risk {c}".strip()

    count_chart = charts.stacked_hbar(
        [(t, s, counts[(t, s)]) for t in types for s in severities if (t, s) in counts],
        labels=types, segments=severities, colors=[colors[s] for s in severities], legend="severity",
        value_title="exceptions")
    amount_charts = []
    for c in currencies:
        ranked = sorted((t for t in types if amount(t, c=c) > 0), key=lambda t: (-amount(t, c=c), t))
        amount_charts.append((c, charts.stacked_hbar(
            [(t, s, amount(t, s, c)) for t in ranked for s in severities if amount(t, s, c) > 0],
            labels=ranked, segments=severities, colors=[colors[s] for s in severities], legend="severity",
            value_title=f"amount at risk {c}".strip(), money=True)))

    matrix_rows = [[t] + [counts.get((t, s), 0) for s in severities]
                   + [sum(counts.get((t, s), 0) for s in severities)] + [amount(t, c=c) for c in currencies]
                   for t in types]
    matrix_rows.append(["Total"] + [sum(counts.get((t, s), 0) for t in types) for s in severities]
                       + [total_n] + [amount(c=c) for c in currencies])
    sev_rows = [[s, sum(counts.get((t, s), 0) for t in types)] + [amount(s=s, c=c) for c in currencies]
                for s in severities]

    top_cols = [c for c in ("exception_type", "severity", "order_id", "document_id", "amount_at_risk",
                            "currency", "amount_at_risk_cny") if c in cols]
    top = db.rows(f"""SELECT {", ".join(top_cols)} FROM marts.reconciliation_exceptions
                      WHERE {amount_col} IS NOT NULL AND {amount_col} <> 0
                      ORDER BY {amount_col} DESC, exception_type, order_id NULLS LAST, document_id NULLS LAST
                      LIMIT {TOP_EXCEPTIONS}""")
    at_risk = {c: amount(c=c) for c in currencies}
    at_risk_lines = [f"{c} {_money(a)}".strip() for c, a in at_risk.items()] or [_money(0)]
    kpi = {"exceptions": total_n, "amount_at_risk": at_risk, "types": len(types)}
    return {
        "missing": None, "total": total_n, "at_risk": Markup("<br>").join(at_risk_lines),
        "any_risk": any(a != 0 for a in at_risk.values()), "amount_col": amount_col,
        "per_currency": len(currencies) > 1, "types": len(types), "count_chart": count_chart,
        "amount_charts": amount_charts,
        "matrix": _table(["exception_type"] + severities + ["exceptions"] + [label(c) for c in currencies],
                         matrix_rows),
        "by_severity": _table(["severity", "exceptions"] + [label(c) for c in currencies], sev_rows),
        "top_n": TOP_EXCEPTIONS, "top": _table(top_cols, [list(r) for r in top]) if top else None,
    }, kpi


def _section_queue(db: _Db) -> tuple[dict[str, Any], dict[str, Any]]:
    """The open exceptions finance works through, in the queue's documented priority order."""
    if not db.has("marts", "exception_queue"):
        return _missing("marts.exception_queue"), {}
    cols = [c for c, _ in db.columns("marts", "exception_queue")]
    shown = [c for c in QUEUE_COLUMNS if c in cols]
    where = "WHERE status = 'open'" if "status" in cols else ""
    order = ("priority_rank NULLS LAST, " if "priority_rank" in cols else "") + (
        "exception_id" if "exception_id" in cols else "1")
    total = db.rows(f"SELECT count(*) FROM marts.exception_queue {where}")[0][0]
    rows = db.rows(f"SELECT {', '.join(shown)} FROM marts.exception_queue {where} ORDER BY {order} "
                   f"LIMIT {TOP_QUEUE}") if shown else []
    at_risk = (db.rows(f"SELECT coalesce(sum(amount_at_risk_cny), 0) FROM marts.exception_queue {where}")[0][0]
               if "amount_at_risk_cny" in cols else None)
    oldest = db.rows(f"SELECT max(age_days) FROM marts.exception_queue {where}")[0][0] if "age_days" in cols else None
    numeric = {i for i, c in enumerate(shown) if c in ("priority_rank", "amount_at_risk_cny", "age_days")}
    kpi = {"queue_open": total, "queue_amount_at_risk_cny": at_risk, "queue_oldest_age_days": oldest}
    return {
        "missing": None, "total": total, "at_risk": at_risk, "oldest": oldest, "top_n": TOP_QUEUE,
        "missing_columns": [c for c in QUEUE_COLUMNS if c not in cols],
        "table": _table(shown, [list(r) for r in rows], numeric=numeric) if rows else None,
    }, kpi


def _per_publish_from_log(db: _Db, waived: str) -> list[tuple]:
    """Exact, from the published exception log (history.exception_observations, one row per publish
    and exception): opened = listed now and not by the publish before, resolved = the reverse, so a
    resolve that was later reopened still counts. Currently waived exceptions are not counted open."""
    published = ("WHERE coalesce(status, 'published') = 'published'" if _has_status(db) else "")
    return db.rows(f"""
        WITH pubs AS (
            SELECT as_of, row_number() OVER (ORDER BY as_of) AS n FROM (
                SELECT DISTINCT CAST(as_of AS TIMESTAMP) AS as_of FROM history.exception_observations
                {"UNION SELECT CAST(as_of AS TIMESTAMP) FROM meta.publications " + published
                 if db.has("meta", "publications") else ""})),
             obs AS (SELECT DISTINCT o.exception_id, p.n FROM history.exception_observations o
                     JOIN pubs p ON CAST(o.as_of AS TIMESTAMP) = p.as_of),
             waived AS (SELECT exception_id FROM marts.exception_history WHERE {waived})
        SELECT p.as_of,
               (SELECT count(*) FROM obs c WHERE c.n = p.n AND NOT EXISTS
                   (SELECT 1 FROM obs b WHERE b.n = p.n - 1 AND b.exception_id = c.exception_id)) AS opened,
               (SELECT count(*) FROM obs b WHERE b.n = p.n - 1 AND NOT EXISTS
                   (SELECT 1 FROM obs c WHERE c.n = p.n AND c.exception_id = b.exception_id)) AS resolved,
               (SELECT count(*) FROM obs c WHERE c.n = p.n
                   AND c.exception_id NOT IN (SELECT exception_id FROM waived)) AS open
        FROM pubs p ORDER BY p.as_of""")


def _per_publish_from_history(db: _Db, waived: str) -> list[tuple]:
    """Without the log (an older published file): from first_seen / resolved_as_of alone, which
    miss a resolve that was later reopened."""
    publications = ("UNION SELECT CAST(as_of AS TIMESTAMP) FROM meta.publications"
                    if db.has("meta", "publications") else "")
    # open after a publish t: first seen at or before t and not resolved by t; waived exceptions
    # (no date recorded for the waiver) are left out of every point, like the queue leaves them out
    return db.rows(f"""
        WITH h AS (SELECT CAST(first_seen_as_of AS TIMESTAMP) AS f, CAST(resolved_as_of AS TIMESTAMP) AS r,
                          {waived} AS waived
                   FROM marts.exception_history),
             pts AS (SELECT f AS t FROM h UNION SELECT r FROM h {publications})
        SELECT t,
               (SELECT count(*) FROM h WHERE h.f = pts.t) AS opened,
               (SELECT count(*) FROM h WHERE h.r = pts.t) AS resolved,
               (SELECT count(*) FROM h WHERE h.f <= pts.t AND (h.r IS NULL OR h.r > pts.t) AND NOT h.waived) AS open
        FROM pts WHERE t IS NOT NULL AND t >= (SELECT min(f) FROM h) ORDER BY t""")


def _section_lifecycle(db: _Db) -> tuple[dict[str, Any], dict[str, Any]]:
    """Opened and resolved per publish, and how many were open after each publish."""
    if not db.has("marts", "exception_history"):
        return _missing("marts.exception_history"), {}
    cols = [c for c, _ in db.columns("marts", "exception_history")]
    lacking = [c for c in HISTORY_REQUIRED if c not in cols]
    if lacking:
        return {"missing": None, "lacking": lacking}, {}
    has_status = "status" in cols
    waived = "coalesce(status = 'waived', false)" if has_status else "false"
    if db.has("history", "exception_observations"):
        per_publish = _per_publish_from_log(db, waived)
    else:
        per_publish = _per_publish_from_history(db, waived)
    if has_status:
        status_expr = "status"
    else:
        status_expr = "CASE WHEN resolved_as_of IS NULL THEN 'open' ELSE 'resolved' END"
    by_status = dict(db.rows(f"SELECT {status_expr}, count(*) FROM marts.exception_history GROUP BY 1"))
    reopened = (db.rows("SELECT count(*) FROM marts.exception_history WHERE times_reopened > 0")[0][0]
                if "times_reopened" in cols else None)
    oldest = (db.rows(f"SELECT max(age_days) FROM marts.exception_history WHERE {status_expr} = 'open'")[0][0]
              if "age_days" in cols else None)
    latest = per_publish[-1] if per_publish else None
    x = [_cell(t) for t, *_ in per_publish]
    flow_chart = charts.grouped_bars(
        [(xi, "opened", o) for xi, (_, o, _r, _n) in zip(x, per_publish)]
        + [(xi, "resolved", r) for xi, (_, _o, r, _n) in zip(x, per_publish)],
        series=["opened", "resolved"], colors=["#dc2626", "#16a34a"], value_title="exceptions")
    open_chart = charts.lines([(xi, "open", n) for xi, (*_, n) in zip(x, per_publish)],
                              series=["open"], colors=["#b45309"], value_title="open exceptions")
    by_type = None
    if "exception_type" in cols:
        type_rows = db.rows(f"""
            SELECT exception_type, count(*) FILTER (WHERE {status_expr} = 'open'),
                   count(*) FILTER (WHERE {status_expr} = 'resolved'), count(*) FILTER (WHERE {status_expr} = 'waived'),
                   {"count(*) FILTER (WHERE times_reopened > 0)" if "times_reopened" in cols else "NULL"},
                   {"max(age_days) FILTER (WHERE " + status_expr + " = 'open')" if "age_days" in cols else "NULL"}
            FROM marts.exception_history GROUP BY 1 ORDER BY 2 DESC, 1""")
        by_type = _table(["exception_type", "open", "resolved", "waived", "reopened at least once",
                          "oldest open (days)"], [list(r) for r in type_rows], numeric={1, 2, 3, 4, 5})
    kpi = {"history_open": by_status.get("open", 0), "history_resolved": by_status.get("resolved", 0),
           "history_waived": by_status.get("waived", 0), "history_reopened": reopened,
           "history_publishes": len(per_publish),
           "opened_latest": latest[1] if latest else 0, "resolved_latest": latest[2] if latest else 0}
    return {
        "missing": None, "lacking": [], "kpi": kpi, "oldest": oldest, "latest": _cell(latest[0]) if latest else "",
        "flow_chart": flow_chart, "open_chart": open_chart, "by_type": by_type,
        "per_publish": _table(["as_of (UTC)", "opened", "resolved", "open after"],
                              [list(r) for r in reversed(per_publish)], numeric={1, 2, 3}, scroll=True),
    }, kpi


def _section_matching(db: _Db) -> tuple[dict[str, Any], dict[str, Any]]:
    """Auto-match rate per China-local value date and system (bank lines, gateway captures)."""
    table = "cash_matching_daily"
    if not db.has("marts", table):
        return _missing("marts." + table), {}
    cols = [c for c, _ in db.columns("marts", table)]
    if not {"value_date", "system", "lines_received", "lines_unmatched"} <= set(cols):
        return {"missing": None, "lacking": sorted({"value_date", "system", "lines_received", "lines_unmatched"}
                                                   - set(cols))}, {}
    target = _min_match_rate()
    rate = "CASE WHEN sum(lines_received) > 0 THEN 1 - sum(lines_unmatched) / sum(lines_received) END"
    per_day = db.rows(f"SELECT value_date, system, {rate} FROM marts.{table} GROUP BY 1, 2 ORDER BY 1, 2")
    systems = _ordered({s for _, s, _ in per_day}, ("bank", "payments"))
    others: dict[str, str] = {}
    colors = [SYSTEM_COLORS.get(s) or others.setdefault(s, OTHER_COLORS[len(others) % len(OTHER_COLORS)])
              for s in systems]
    chart = charts.lines([(_cell(d), s, r) for d, s, r in per_day], series=systems, colors=colors,
                         value_title="auto-match rate", legend="system", percent=True,
                         target=target, target_label=f"bank target {_percent(target)}")
    overall = {s: r for s, r in db.rows(f"SELECT system, {rate} FROM marts.{table} GROUP BY 1")}
    bank_days = [(d, r) for d, s, r in per_day if s == "bank" and r is not None]
    under = [d for d, r in bank_days if float(r) < target]
    shown = [c for c in ("value_date", "system", "lines_received", "lines_matched_payout", "lines_matched_remark",
                         "lines_matched_counterparty", "lines_matched_order", "lines_unmatched", "auto_match_rate",
                         "amount_received_cny", "amount_unmatched_cny") if c in cols]
    total_rows = db.rows(f"SELECT count(*) FROM marts.{table}")[0][0]
    rows = db.rows(f"SELECT {', '.join(shown)} FROM marts.{table} ORDER BY value_date DESC, system "
                   f"LIMIT {MAX_MATCH_ROWS}")
    rate_idx = shown.index("auto_match_rate") if "auto_match_rate" in shown else None
    sys_idx = shown.index("system")

    def below(r: list[Any]) -> str:
        return ("under" if rate_idx is not None and r[sys_idx] == "bank" and r[rate_idx] is not None
                and float(r[rate_idx]) < target else "")

    kpi = {"match_rate": {s: (float(r) if r is not None else None) for s, r in overall.items()},
           "match_days_under_target": len(under), "match_target": target,
           "match_latest_bank_rate": float(bank_days[-1][1]) if bank_days else None}
    return {
        "missing": None, "lacking": [], "chart": chart, "target": _percent(target),
        "overall": [(s, _percent(overall.get(s))) for s in systems],
        "latest_bank": (_cell(bank_days[-1][0]), _percent(bank_days[-1][1])) if bank_days else None,
        "under": [_cell(d) for d in under], "bank_days": len(bank_days),
        "shown_note": total_rows > MAX_MATCH_ROWS, "max_rows": MAX_MATCH_ROWS, "total_rows": total_rows,
        "table": _table(shown, [list(r) for r in rows], formats={rate_idx: _percent} if rate_idx is not None else None,
                        numeric={i for i, c in enumerate(shown) if c not in ("value_date", "system")},
                        row_class=below, scroll=True),
    }, kpi


def _section_aging(db: _Db) -> tuple[dict[str, Any], dict[str, Any]]:
    if not db.has("marts", "ar_aging"):
        return _missing("marts.ar_aging"), {}
    by_bucket = {b: (Decimal(str(a or 0)), int(n or 0)) for b, a, n in db.rows(
        "SELECT bucket, sum(amount_cny), sum(order_count) FROM marts.ar_aging GROUP BY bucket")}
    buckets = _ordered(set(by_bucket), BUCKET_ORDER)
    chart = charts.vbar([(b, by_bucket[b][0], BUCKET_COLORS.get(b, "#64748b")) for b in buckets],
                        value_title="open receivables (CNY)")
    total_cny = sum((v[0] for v in by_bucket.values()), Decimal(0))
    overdue_cny = sum((by_bucket[b][0] for b in buckets if b != "current"), Decimal(0))
    bucket_rows = [[b, by_bucket[b][1], by_bucket[b][0]] for b in buckets]
    bucket_rows.append(["Total", sum(v[1] for v in by_bucket.values()), total_cny])

    by_ccy = db.rows("SELECT currency, bucket, sum(amount) FROM marts.ar_aging GROUP BY ALL")
    currencies = sorted({r[0] for r in by_ccy if r[0] is not None})
    ccy_map = {(c, b): Decimal(str(a or 0)) for c, b, a in by_ccy}
    ccy_rows = [[c] + [ccy_map.get((c, b), Decimal(0)) for b in buckets]
                + [sum((ccy_map.get((c, b), Decimal(0)) for b in buckets), Decimal(0))] for c in currencies]

    top_customers = db.rows(f"""
        WITH t AS (SELECT customer_id, sum(amount_cny) AS total_cny FROM marts.ar_aging
                   GROUP BY customer_id ORDER BY total_cny DESC, customer_id LIMIT {TOP_CUSTOMERS})
        SELECT a.customer_id, a.currency, a.bucket, sum(a.amount) AS amount, sum(a.amount_cny) AS amount_cny,
               sum(a.order_count) AS orders, t.total_cny
        FROM marts.ar_aging a JOIN t USING (customer_id) GROUP BY ALL""")
    cust: dict[tuple, dict] = {}
    for customer, currency, bucket, amount, amount_cny, orders, total in top_customers:
        rec = cust.setdefault((customer, currency), {"total": Decimal(str(total or 0)), "b": {}, "cny": Decimal(0),
                                                      "amount": Decimal(0), "orders": 0})
        rec["b"][bucket] = Decimal(str(amount or 0))
        rec["cny"] += Decimal(str(amount_cny or 0))
        rec["amount"] += Decimal(str(amount or 0))
        rec["orders"] += int(orders or 0)
    cust_rows = [[k[0], k[1]] + [v["b"].get(b, Decimal(0)) for b in buckets] + [v["amount"], v["cny"], v["orders"]]
                 for k, v in sorted(cust.items(), key=lambda kv: (-kv[1]["total"], str(kv[0][0]), str(kv[0][1])))]
    kpi = {"ar_total_cny": total_cny, "ar_overdue_cny": overdue_cny}
    return {
        "missing": None, "total_cny": total_cny, "overdue_cny": overdue_cny, "chart": chart,
        "buckets": _table(["bucket", "order_count", "amount_cny"], bucket_rows),
        "by_currency": _table(["currency"] + buckets + ["total"], ccy_rows) if ccy_rows else None,
        "top_n": TOP_CUSTOMERS,
        "customers": _table(["customer_id", "currency"] + buckets + ["total", "total_cny", "order_count"], cust_rows)
        if cust_rows else None,
    }, kpi


def _pick_date_column(columns: list[tuple[str, str]]) -> str | None:
    names = [c for c, _ in columns]
    for preferred in ("cash_date", "local_date", "date", "business_date", "report_date"):
        if preferred in names:
            return preferred
    for name, dtype in columns:
        if dtype.upper() == "DATE":
            return name
    for name in names:
        if "date" in name.lower():
            return name
    return None


def _section_cash(db: _Db) -> tuple[dict[str, Any], dict[str, Any]]:
    table = "daily_cash_reconciliation"
    if not db.has("marts", table):
        return _missing("marts." + table), {}
    columns = db.columns("marts", table)
    names = [c for c, _ in columns]
    numeric_types = ("DECIMAL", "DOUBLE", "FLOAT", "REAL", "INTEGER", "BIGINT", "HUGEINT", "SMALLINT", "NUMERIC")
    numeric_cols = {c for c, t in columns if t.upper().startswith(numeric_types)}
    diff_cols = [c for c in names if DIFF_PATTERN.search(c) and c in numeric_cols]
    date_col = _pick_date_column(columns)
    order = ", ".join([f'"{date_col}" DESC'] if date_col else []) or "1"
    key_cols = [c for c in names if c in ("system", "method", "currency")]
    order_by = order + "".join(f', "{c}"' for c in key_cols)
    total_rows = db.rows(f"SELECT count(*) FROM marts.{table}")[0][0]
    rows = db.rows(f"SELECT * FROM marts.{table} ORDER BY {order_by} LIMIT {MAX_CASH_ROWS}")
    diff_idx = {names.index(c) for c in diff_cols}

    def off(value: Any) -> bool:
        return _is_number(value) and abs(Decimal(str(value))) > TOLERANCE

    kpi: dict[str, Any] = {"cash_rows": total_rows, "diff_columns": diff_cols}
    ctx: dict[str, Any] = {"missing": None, "total_rows": total_rows, "diff": None, "chart": None,
                           "shown_note": total_rows > MAX_CASH_ROWS, "max_rows": MAX_CASH_ROWS}
    if diff_cols:
        cond = " OR ".join(f'abs(coalesce("{c}", 0)) > {TOLERANCE}' for c in diff_cols)
        n_off = db.rows(f"SELECT count(*) FROM marts.{table} WHERE {cond}")[0][0]
        main_diff = diff_cols[0]
        abs_total = Decimal(str(db.rows(f'SELECT coalesce(sum(abs("{main_diff}")), 0) FROM marts.{table}')[0][0]))
        kpi.update(rows_with_difference=n_off, abs_difference=abs_total)
        ctx["diff"] = {"column": main_diff, "rows_off": n_off, "abs_total": abs_total}
        if date_col:
            per_day = db.rows(f'SELECT "{date_col}", sum("{main_diff}") FROM marts.{table} '
                              f'GROUP BY 1 ORDER BY 1')
            ctx["chart"] = charts.vbar([(_cell(d), v or 0, "#b91c1c" if off(v) else "#16a34a") for d, v in per_day],
                                       value_title=f"{main_diff} (CNY)")
    ctx["detail"] = _table(names, [list(r) for r in rows],
                           numeric={i for i, c in enumerate(names) if c in numeric_cols},
                           cell_class=lambda i, v: i in diff_idx and off(v),
                           row_class=lambda r: "off" if any(off(r[i]) for i in diff_idx) else "", scroll=True)
    return ctx, kpi


def _section_payouts(db: _Db) -> tuple[dict[str, Any], dict[str, Any]]:
    """Gateway payouts (docs/settlement.md): received vs awaiting, what the gateway still owes."""
    if not db.has("marts", "gateway_payouts"):
        return _missing("marts.gateway_payouts"), {}
    by_status = db.rows("""SELECT status, count(*), coalesce(sum(net_amount_cny), 0), coalesce(sum(received_amount_cny), 0),
                                  coalesce(sum(difference_cny), 0)
                           FROM marts.gateway_payouts GROUP BY 1 ORDER BY 1""")
    owed = (db.rows("""SELECT currency, sum(debit - credit), sum(debit_cny - credit_cny) FROM marts.ledger_entries
                       WHERE account = '1100' GROUP BY 1 ORDER BY 1""") if db.has("marts", "ledger_entries") else [])
    total = sum(r[1] for r in by_status)
    received = sum(r[1] for r in by_status if r[0] == "received")
    kpi = {"payouts": total, "payouts_received": received,
           "settlement_rate": round(received / total, 4) if total else None}
    return {
        "missing": None, "total": total, "received": received,
        "rate": f"{100 * received / total:.1f}%" if total else "n/a",
        "by_status": _table(["status", "payouts", "net (CNY)", "received (CNY)", "difference (CNY)"],
                            [list(r) for r in by_status], numeric={1, 2, 3, 4}) if by_status else None,
        "owed": _table(["currency", "owed by the gateway", "owed (CNY)"], [list(r) for r in owed], numeric={1, 2})
        if owed else None,
    }, kpi


def _section_publication(db: _Db, pub: dict[str, Any]) -> dict[str, Any]:
    counts = pub.get("row_counts") or {}
    checks = pub.get("check_summary") or {}
    status = "coalesce(status, 'published')" if _has_status(db) else "'published'"
    history = db.rows(f"SELECT publication_id, run_id, as_of, published_at, {status} FROM meta.publications "
                      "ORDER BY publication_id DESC LIMIT 10") if db.has("meta", "publications") else []
    unread = checks.get("unread_files") or []
    return {
        "unread": unread, "unread_table": _table(["file"], [[path] for path in unread]) if unread else None,
        "row_counts": _table(["table", "rows"], [[k, v] for k, v in sorted(counts.items())]) if counts else None,
        "checks": json.dumps(checks, indent=2, sort_keys=True, default=str),
        "history": _table(["publication_id", "run_id", "as_of (UTC)", "published_at (UTC)", "status"],
                          [list(h) for h in history]) if history else None,
    }


# --------------------------------------------------------------------------------------------
# entry point


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(money=_money, count=_int, cell=_cell, percent=_percent)
    return env


def render_report(published_db_path: str | os.PathLike) -> tuple[str, dict[str, Any]]:
    """The HTML text and its publication record (run_id, as_of, ...) with the report's figures."""
    con = duckdb.connect(str(published_db_path), read_only=True)
    try:
        db = _Db(con)
        pub = _publication(db)
        sections, kpi = {}, {}
        for name, build in (("exceptions", _section_exceptions), ("queue", _section_queue),
                            ("lifecycle", _section_lifecycle), ("matching", _section_matching),
                            ("aging", _section_aging), ("cash", _section_cash), ("payouts", _section_payouts)):
            sections[name], figures = build(db)
            kpi.update(figures)
        about = _section_publication(db, pub)
    finally:
        con.close()
    as_of = pub.get("as_of")
    page = _environment().get_template("report.html.j2").render(
        pub=pub, as_of=_cell(as_of) if as_of else "unknown", run_id=pub.get("run_id", "unknown"),
        about=about, **sections)
    return page, {**pub, **kpi}


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_report(published_db_path: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Render the report of the published file; returns out_dir/reports/report-<as_of>-<run_id>.html.

    Also replaces out_dir/report.html (the latest) atomically.
    """
    page, info = render_report(published_db_path)
    as_of = info.get("as_of")
    stamp = as_of.strftime("%Y%m%dT%H%M%SZ") if isinstance(as_of, datetime) else "unknown"
    run = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(info.get("run_id", "unknown")))[:80]
    out_dir = Path(out_dir)
    target = out_dir / "reports" / f"report-{stamp}-{run}.html"
    _atomic_write(target, page)
    _atomic_write(out_dir / "report.html", page)
    return target


if __name__ == "__main__":  # python -m orchestration.report [published.duckdb] [out_dir]
    from ingest import settings

    db_path = Path(sys.argv[1]) if len(sys.argv) > 1 else settings.publish_dir() / "o2c.duckdb"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else db_path.parent
    print(write_report(db_path, out))
