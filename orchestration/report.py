"""The finance report: one static, self-contained HTML page per publish.

No JavaScript, no web fonts, no CDN: inline CSS and SVG charts drawn here, so the file opens in
any browser offline and can be mailed or archived as is. Data comes from the *published* DuckDB
file, opened read-only, so the report shows exactly what BI tools see.

    write_report(published_db_path, out_dir) -> Path
        writes out_dir/reports/report-<as_of>-<run_id>.html (kept) and out_dir/report.html (latest)

Tolerant of the marts' optional columns: ``daily_cash_reconciliation`` is shown with every
column it has; columns whose name says difference (``diff``, ``variance``, ``delta``,
``unexplained``, ``gap``) are highlighted when not zero.
"""
from __future__ import annotations

import html
import json
import os
import re
import sys
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

TOP_CUSTOMERS = 20
TOP_EXCEPTIONS = 25
MAX_CASH_ROWS = 500
TOLERANCE = Decimal("0.005")  # a difference that rounds to a cent is a difference
BUCKET_ORDER = ("current", "1-30", "31-60", "61-90", "90+")
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
SEVERITY_COLORS = {"critical": "#7f1d1d", "high": "#dc2626", "medium": "#f59e0b", "low": "#3b82f6",
                   "info": "#94a3b8"}
OTHER_COLORS = ("#0d9488", "#7c3aed", "#db2777", "#65a30d", "#475569")
BUCKET_COLORS = {"current": "#16a34a", "1-30": "#84cc16", "31-60": "#f59e0b", "61-90": "#ea580c", "90+": "#b91c1c"}
DIFF_PATTERN = re.compile(r"diff|variance|delta|unexplained|gap", re.IGNORECASE)

CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans CJK SC",sans-serif;
 margin:0;color:#0f172a;background:#f8fafc;font-size:14px}
main{max-width:1180px;margin:0 auto;padding:24px}
header{background:#0f172a;color:#f8fafc;padding:18px 24px}
header h1{margin:0 0 6px 0;font-size:22px}
header .meta{font-size:13px;color:#cbd5e1}
header .meta b{color:#f8fafc}
section{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:16px 20px;margin:18px 0}
h2{font-size:18px;margin:0 0 12px 0}
h3{font-size:15px;margin:18px 0 8px 0}
.kpis{display:flex;flex-wrap:wrap;gap:12px}
.kpi{flex:1 1 160px;border:1px solid #e2e8f0;border-radius:6px;padding:10px 12px;background:#f8fafc}
.kpi .v{font-size:20px;font-weight:600}
.kpi .l{font-size:12px;color:#475569}
.kpi.bad .v{color:#b91c1c}
.kpi.ok .v{color:#15803d}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:4px 8px;border-bottom:1px solid #e2e8f0;text-align:left;white-space:nowrap}
th{background:#f1f5f9;position:sticky;top:0}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.off td{background:#fef2f2}
td.off{background:#fecaca !important;color:#7f1d1d;font-weight:600}
.scroll{max-height:520px;overflow:auto;border:1px solid #e2e8f0}
.note{color:#475569;font-size:12px}
.missing{color:#b45309}
.legend span{display:inline-block;margin-right:14px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
svg text{font-family:inherit}
@media print{body{background:#fff}.scroll{max-height:none;overflow:visible}section{break-inside:avoid}}
"""


# --------------------------------------------------------------------------------------------
# formatting helpers


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _money(value: Any) -> str:
    if value is None:
        return ""
    return f"{Decimal(str(value)):,.2f}"


def _int(value: Any) -> str:
    return "" if value is None else f"{int(value):,}"


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
# SVG charts


def _stacked_hbar(rows: list[tuple[str, list[tuple[str, float, str]]]], *, unit: str = "",
                  width: int = 760, label_width: int = 260, bar_height: int = 20) -> str:
    """Horizontal stacked bars. rows: (label, [(segment name, value, color), ...])."""
    if not rows:
        return '<p class="note">nothing to chart</p>'
    gap = 6
    top = 4
    chart_w = width - label_width - 90
    total_max = max(sum(v for _, v, _ in segs) for _, segs in rows) or 1
    height = top + len(rows) * (bar_height + gap) + 4
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img">']
    for i, (label, segs) in enumerate(rows):
        y = top + i * (bar_height + gap)
        parts.append(f'<text x="{label_width - 8}" y="{y + bar_height * 0.72:.1f}" font-size="12" '
                     f'text-anchor="end" fill="#0f172a">{_e(label)}</text>')
        x = float(label_width)
        for name, value, color in segs:
            w = chart_w * float(value) / float(total_max)
            if w <= 0:
                continue
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{max(w, 1):.1f}" height="{bar_height}" '
                         f'fill="{color}"><title>{_e(label)} / {_e(name)}: {_e(_fmt_num(value))}{_e(unit)}</title></rect>')
            x += w
        total = sum(v for _, v, _ in segs)
        parts.append(f'<text x="{x + 6:.1f}" y="{y + bar_height * 0.72:.1f}" font-size="12" '
                     f'fill="#334155">{_e(_fmt_num(total))}{_e(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _vbar(rows: list[tuple[str, float, str]], *, width: int = 760, height: int = 240, unit: str = "") -> str:
    """Vertical bars (label, value, color); negative values hang below the zero line."""
    if not rows:
        return '<p class="note">nothing to chart</p>'
    rotate = len(rows) > 12
    # rotated date labels hang down-left from their anchor: room below and on the left
    pad_l, pad_r, pad_t, pad_b = (46, 10, 22, 74) if rotate else (10, 10, 22, 46)
    height += 28 if rotate else 0
    vmax = max(max(float(v) for _, v, _ in rows), 0.0)
    vmin = min(min(float(v) for _, v, _ in rows), 0.0)
    span = (vmax - vmin) or 1.0
    plot_h = height - pad_t - pad_b
    zero_y = pad_t + plot_h * vmax / span
    slot = (width - pad_l - pad_r) / len(rows)
    bar_w = max(min(slot * 0.7, 80), 2)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img">',
             f'<line x1="{pad_l}" x2="{width - pad_r}" y1="{zero_y:.1f}" y2="{zero_y:.1f}" stroke="#94a3b8"/>']
    for i, (label, value, color) in enumerate(rows):
        v = float(value)
        h = plot_h * abs(v) / span
        x = pad_l + i * slot + (slot - bar_w) / 2
        y = zero_y - h if v >= 0 else zero_y
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{max(h, 0.5):.1f}" fill="{color}">'
                     f'<title>{_e(label)}: {_e(_fmt_num(value))}{_e(unit)}</title></rect>')
        if not rotate:
            ty = (y - 4) if v >= 0 else (zero_y - 4)  # negative: label above the zero line
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{ty:.1f}" font-size="11" text-anchor="middle" '
                         f'fill="#334155">{_e(_fmt_num(value))}</text>')
        lx, ly = x + bar_w / 2, height - pad_b + 14
        if rotate:
            parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="10" text-anchor="end" '
                         f'transform="rotate(-45 {lx:.1f} {ly:.1f})" fill="#0f172a">{_e(label)}</text>')
        else:
            parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="12" text-anchor="middle" '
                         f'fill="#0f172a">{_e(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _fmt_num(value: Any) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return _money(value)


def _table(headers: list[str], rows: list[list[Any]], *, numeric: set[int] | None = None,
           cell_class=None, row_class=None, scroll: bool = False) -> str:
    numeric = numeric if numeric is not None else {
        i for i in range(len(headers)) if rows and all(_is_number(r[i]) or r[i] is None for r in rows)}
    out = ["<table><thead><tr>"]
    out += [f'<th class="n">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>" for i, h in enumerate(headers)]
    out.append("</tr></thead><tbody>")
    for r in rows:
        rc = row_class(r) if row_class else ""
        out.append(f'<tr class="{rc}">' if rc else "<tr>")
        for i, v in enumerate(r):
            classes = ["n"] if i in numeric else []
            if cell_class and cell_class(i, v):
                classes.append("off")
            cls = f' class="{" ".join(classes)}"' if classes else ""
            out.append(f"<td{cls}>{_e(_cell(v))}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    body = "".join(out)
    return f'<div class="scroll">{body}</div>' if scroll else body


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
    cur = db.con.execute("SELECT * FROM meta.publications ORDER BY publication_id DESC LIMIT 1")
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


def _missing(table: str) -> str:
    return f'<p class="missing">Table <code>{_e(table)}</code> is not in this publish.</p>'


# --------------------------------------------------------------------------------------------
# sections


def _section_exceptions(db: _Db) -> tuple[str, dict[str, Any]]:
    if not db.has("marts", "reconciliation_exceptions"):
        return "<section id=\"exceptions\"><h2>Reconciliation exceptions</h2>" + _missing(
            "marts.reconciliation_exceptions") + "</section>", {}
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

    count_chart = _stacked_hbar([(t, [(s, counts[(t, s)], colors[s]) for s in severities if (t, s) in counts])
                                 for t in types])
    amount_charts = ""
    for c in currencies:
        ranked = sorted((t for t in types if amount(t, c=c) > 0), key=lambda t: (-amount(t, c=c), t))
        amount_charts += (f"<h3>Amount at risk by type and severity{(' — ' + _e(c)) if c else ''}</h3>"
                          + _stacked_hbar([(t, [(s, float(amount(t, s, c)), colors[s]) for s in severities
                                                if amount(t, s, c) > 0]) for t in ranked]))
    legend = '<p class="legend">' + "".join(
        f'<span><i style="background:{colors[s]}"></i>{_e(s)}</span>' for s in severities) + "</p>"

    matrix_rows = [[t] + [counts.get((t, s), 0) for s in severities]
                   + [sum(counts.get((t, s), 0) for s in severities)] + [amount(t, c=c) for c in currencies]
                   for t in types]
    matrix_rows.append(["Total"] + [sum(counts.get((t, s), 0) for t in types) for s in severities]
                       + [total_n] + [amount(c=c) for c in currencies])
    matrix = _table(["exception_type"] + severities + ["exceptions"] + [label(c) for c in currencies], matrix_rows)
    sev_rows = [[s, sum(counts.get((t, s), 0) for t in types)] + [amount(s=s, c=c) for c in currencies]
                for s in severities]
    sev_table = _table(["severity", "exceptions"] + [label(c) for c in currencies], sev_rows)

    top_cols = [c for c in ("exception_type", "severity", "order_id", "document_id", "amount_at_risk",
                            "currency", "amount_at_risk_cny") if c in cols]
    top = db.rows(f"""SELECT {", ".join(top_cols)} FROM marts.reconciliation_exceptions
                      WHERE {amount_col} IS NOT NULL AND {amount_col} <> 0
                      ORDER BY {amount_col} DESC, exception_type, order_id NULLS LAST, document_id NULLS LAST
                      LIMIT {TOP_EXCEPTIONS}""")
    at_risk = {c: amount(c=c) for c in currencies}
    at_risk_html = "<br>".join(f"{_e(c)} {_money(a)}".strip() for c, a in at_risk.items()) or _money(0)
    any_risk = any(a != 0 for a in at_risk.values())
    kpi = {"exceptions": total_n, "amount_at_risk": at_risk, "types": len(types)}
    body = f"""
<section id="exceptions"><h2>Reconciliation exceptions</h2>
<div class="kpis">
 <div class="kpi {'bad' if total_n else 'ok'}"><div class="v">{_int(total_n)}</div><div class="l">exceptions</div></div>
 <div class="kpi {'bad' if any_risk else 'ok'}"><div class="v">{at_risk_html}</div><div class="l">amount at risk (sum of {_e(amount_col)}{', per currency' if len(currencies) > 1 else ''})</div></div>
 <div class="kpi"><div class="v">{len(types)}</div><div class="l">exception types present</div></div>
</div>
<h3>Exceptions by type and severity (count)</h3>{legend}{count_chart}
{amount_charts}
<h3>Type × severity</h3>{matrix}
<h3>By severity</h3>{sev_table}
<h3>Largest amounts at risk (top {TOP_EXCEPTIONS})</h3>
{_table(top_cols, [list(r) for r in top]) if top else '<p class="note">no exception carries an amount at risk</p>'}
</section>"""
    return body, kpi


def _section_aging(db: _Db) -> tuple[str, dict[str, Any]]:
    if not db.has("marts", "ar_aging"):
        return '<section id="ar-aging"><h2>AR aging</h2>' + _missing("marts.ar_aging") + "</section>", {}
    by_bucket = {b: (Decimal(str(a or 0)), int(n or 0)) for b, a, n in db.rows(
        "SELECT bucket, sum(amount_cny), sum(order_count) FROM marts.ar_aging GROUP BY bucket")}
    buckets = _ordered(set(by_bucket), BUCKET_ORDER)
    chart = _vbar([(b, float(by_bucket[b][0]), BUCKET_COLORS.get(b, "#64748b")) for b in buckets], unit=" CNY")
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
    body = f"""
<section id="ar-aging"><h2>AR aging</h2>
<div class="kpis">
 <div class="kpi"><div class="v">{_money(total_cny)}</div><div class="l">open receivables, CNY</div></div>
 <div class="kpi {'bad' if overdue_cny > 0 else 'ok'}"><div class="v">{_money(overdue_cny)}</div><div class="l">past due (not current), CNY</div></div>
</div>
<h3>Open receivables by bucket (CNY)</h3>{chart}
{_table(["bucket", "order_count", "amount_cny"], bucket_rows)}
<h3>By currency (original currency)</h3>
{_table(["currency"] + buckets + ["total"], ccy_rows) if ccy_rows else '<p class="note">no open receivable</p>'}
<h3>Top {TOP_CUSTOMERS} customers by open receivables (CNY)</h3>
{_table(["customer_id", "currency"] + buckets + ["total", "total_cny", "order_count"], cust_rows) if cust_rows else '<p class="note">no open receivable</p>'}
<p class="note">Negative amounts are prepayments (ar_outstanding &lt; 0). Age counts days past first_invoiced_at + 30 days for net30 orders.</p>
</section>"""
    return body, kpi


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


def _section_cash(db: _Db) -> tuple[str, dict[str, Any]]:
    table = "daily_cash_reconciliation"
    if not db.has("marts", table):
        return '<section id="cash"><h2>Daily cash tie-out</h2>' + _missing("marts." + table) + "</section>", {}
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
    summary = ""
    chart = ""
    if diff_cols:
        cond = " OR ".join(f'abs(coalesce("{c}", 0)) > {TOLERANCE}' for c in diff_cols)
        n_off = db.rows(f"SELECT count(*) FROM marts.{table} WHERE {cond}")[0][0]
        main_diff = diff_cols[0]
        abs_total = db.rows(f'SELECT coalesce(sum(abs("{main_diff}")), 0) FROM marts.{table}')[0][0]
        kpi.update(rows_with_difference=n_off, abs_difference=Decimal(str(abs_total)))
        summary = f"""<div class="kpis">
 <div class="kpi"><div class="v">{_int(total_rows)}</div><div class="l">date × system × method rows</div></div>
 <div class="kpi {'bad' if n_off else 'ok'}"><div class="v">{_int(n_off)}</div><div class="l">rows that do not tie (|difference| &gt; 0.00)</div></div>
 <div class="kpi {'bad' if abs_total else 'ok'}"><div class="v">{_money(abs_total)}</div><div class="l">Σ |{_e(main_diff)}|</div></div>
</div>"""
        if date_col:
            per_day = db.rows(f'SELECT "{date_col}", sum("{main_diff}") FROM marts.{table} '
                              f'GROUP BY 1 ORDER BY 1')
            chart = ("<h3>Difference per day (" + _e(main_diff) + ", summed over systems and methods)</h3>"
                     + _vbar([(_cell(d), float(v or 0), "#b91c1c" if off(v) else "#16a34a") for d, v in per_day]))
    else:
        summary = (f'<p class="note">{_int(total_rows)} rows; no difference column found '
                   f'(looked for names containing diff, variance, delta, unexplained, gap).</p>')
    shown = "" if total_rows <= MAX_CASH_ROWS else f'<p class="note">latest {MAX_CASH_ROWS} of {total_rows} rows shown.</p>'
    detail = _table(names, [list(r) for r in rows], numeric={i for i, c in enumerate(names) if c in numeric_cols},
                    cell_class=lambda i, v: i in diff_idx and off(v),
                    row_class=lambda r: "off" if any(off(r[i]) for i in diff_idx) else "", scroll=True)
    body = f"""
<section id="cash"><h2>Daily cash tie-out</h2>
{summary}{chart}
<h3>Tie-out by China-local date, system and method</h3>{shown}
{detail}
<p class="note">Rows whose difference is not zero are shaded; the difference cells are marked.</p>
</section>"""
    return body, kpi


def _section_payouts(db: _Db) -> tuple[str, dict[str, Any]]:
    """Gateway payouts (docs/settlement.md): received vs awaiting, what the gateway still owes."""
    if not db.has("marts", "gateway_payouts"):
        return '<section id="payouts"><h2>Gateway payouts</h2>' + _missing("marts.gateway_payouts") + "</section>", {}
    by_status = db.rows("""SELECT status, count(*), coalesce(sum(net_amount_cny), 0), coalesce(sum(received_amount_cny), 0),
                                  coalesce(sum(difference_cny), 0)
                           FROM marts.gateway_payouts GROUP BY 1 ORDER BY 1""")
    owed = (db.rows("""SELECT currency, sum(debit - credit), sum(debit_cny - credit_cny) FROM marts.ledger_entries
                       WHERE account = '1100' GROUP BY 1 ORDER BY 1""") if db.has("marts", "ledger_entries") else [])
    total = sum(r[1] for r in by_status)
    received = sum(r[1] for r in by_status if r[0] == "received")
    kpi = {"payouts": total, "payouts_received": received,
           "settlement_rate": round(received / total, 4) if total else None}
    rate = f"{100 * received / total:.1f}%" if total else "n/a"
    body = f"""
<section id="payouts"><h2>Gateway payouts</h2>
<div class="kpis">
 <div class="kpi"><div class="v">{_int(total)}</div><div class="l">payouts reported by the gateway</div></div>
 <div class="kpi {'ok' if total and received == total else 'bad' if total else ''}"><div class="v">{rate}</div><div class="l">received in full (settlement rate)</div></div>
</div>
<h3>By status</h3>{_table(["status", "payouts", "net (CNY)", "received (CNY)", "difference (CNY)"],
                          [list(r) for r in by_status], numeric={1, 2, 3, 4}) if by_status
                   else '<p class="note">no settlement report in the landing folder.</p>'}
<h3>Gateway money outstanding (account 1100)</h3>{_table(["currency", "owed by the gateway", "owed (CNY)"],
                                                        [list(r) for r in owed], numeric={1, 2}) if owed else ''}
<p class="note">awaiting: within 3 days of the payout date; not_received and mismatch are exceptions.</p>
</section>"""
    return body, kpi


def _section_publication(db: _Db, pub: dict[str, Any]) -> str:
    counts = pub.get("row_counts") or {}
    rows = [[k, v] for k, v in sorted(counts.items())]
    checks = pub.get("check_summary") or {}
    history = db.rows("SELECT publication_id, run_id, as_of, published_at FROM meta.publications "
                      "ORDER BY publication_id DESC LIMIT 10") if db.has("meta", "publications") else []
    unread = checks.get("unread_files") or []
    unread_html = (f'<p class="note">These files are in the landing folder but no loader reads them (a misspelled '
                   f'folder, a folder that is not a date, a hidden file): move or rename them.</p>'
                   f'{_table(["file"], [[path] for path in unread])}' if unread
                   else '<p class="note">none: every file in the landing folder was read.</p>')
    return f"""
<section id="publication"><h2>About this publish</h2>
<h3 id="unread-files">Files no loader reads ({len(unread)})</h3>{unread_html}
<h3>Row counts</h3>{_table(["table", "rows"], rows) if rows else '<p class="note">not recorded</p>'}
<h3>Check summary</h3><pre>{_e(json.dumps(checks, indent=2, sort_keys=True, default=str))}</pre>
<h3>Recent publishes</h3>{_table(["publication_id", "run_id", "as_of (UTC)", "published_at (UTC)"], [list(h) for h in history]) if history else ''}
</section>"""


# --------------------------------------------------------------------------------------------
# entry point


def render_report(published_db_path: str | os.PathLike) -> tuple[str, dict[str, Any]]:
    """The HTML text and its publication record (run_id, as_of, ...)."""
    con = duckdb.connect(str(published_db_path), read_only=True)
    try:
        db = _Db(con)
        pub = _publication(db)
        exceptions, k1 = _section_exceptions(db)
        aging, k2 = _section_aging(db)
        cash, k3 = _section_cash(db)
        payouts, k4 = _section_payouts(db)
        about = _section_publication(db, pub)
    finally:
        con.close()
    as_of = pub.get("as_of")
    run_id = pub.get("run_id", "unknown")
    title = f"o2c finance report — as of {_cell(as_of) if as_of else 'unknown'} UTC"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title><style>{CSS}</style></head>
<body>
<header><h1>{_e(title)}</h1>
<div class="meta">as_of <b id="as-of">{_e(_cell(as_of) if as_of else 'unknown')} UTC</b> · run <b id="run-id">{_e(run_id)}</b>
 · publication <b>{_e(pub.get('publication_id', '?'))}</b> · published <b>{_e(_cell(pub.get('published_at')))} UTC</b></div>
</header>
<main>
<p class="note">Sections: <a href="#exceptions">exceptions</a> · <a href="#ar-aging">AR aging</a> ·
<a href="#cash">daily cash tie-out</a> · <a href="#payouts">gateway payouts</a> · <a href="#publication">about this publish</a>.
All figures come from the published read-only warehouse (o2c.duckdb) of this run.</p>
{exceptions}{aging}{cash}{payouts}{about}
</main></body></html>
"""
    return page, {**pub, **k1, **k2, **k3, **k4}


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
