"""The report's charts: Vega-Lite specs built with Altair, rendered to static SVG by vl-convert.

vl-convert embeds the Vega renderer (no browser, no network), so the SVG is computed here, once,
and inlined into the page: the report needs no JavaScript and no CDN to show its charts.

Every function takes plain rows (numbers may be Decimal) and returns SVG markup as
``markupsafe.Markup`` (safe to insert with Jinja's autoescape on), or ``None`` when there is
nothing to draw (the template then says so).
"""
from __future__ import annotations

import itertools
import re
from decimal import Decimal
from typing import Any, Iterable, Sequence

import altair as alt
import vl_convert as vlc
from markupsafe import Markup

WIDTH = 700
FONT = "-apple-system, Segoe UI, Roboto, Helvetica Neue, Arial, Noto Sans CJK SC, sans-serif"
MONEY = ",.2f"
MONEY_AXIS = ",.0f"
COUNT = ",d"
_IDS = itertools.count(1)
_ID_ATTR = re.compile(r'\bid="([^"]+)"')


def _num(value: Any) -> float:
    if value is None:
        return 0.0
    return float(value) if isinstance(value, (Decimal, int, float)) else float(str(value))


def _count_axis(max_value: float, **kw) -> alt.Axis:
    """Whole numbers only: Vega would put ticks at 0.5 for small counts (and this Vega ignores
    tickMinStep), so the number of ticks is capped by the largest count."""
    return alt.Axis(format="d", tickCount=max(1, min(int(max_value), 10)), **kw)


def _config(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (chart.configure(font=FONT, background="white")
            .configure_view(stroke=None)
            .configure_axis(labelFontSize=11, titleFontSize=11, labelColor="#0f172a", titleColor="#334155",
                            gridColor="#e2e8f0", domainColor="#94a3b8", tickColor="#94a3b8")
            .configure_legend(labelFontSize=11, titleFontSize=11, orient="top"))


def to_svg(chart: alt.TopLevelMixin) -> Markup:
    """Render an Altair chart to one inline ``<svg>``; ids (clip paths, gradients) are made
    unique per chart so several charts can live in one HTML document."""
    svg = vlc.vegalite_to_svg(_config(chart).to_dict())
    ids = set(_ID_ATTR.findall(svg))
    if ids:
        prefix = f"o2c-chart{next(_IDS)}-"
        for name in sorted(ids, key=len, reverse=True):
            svg = (svg.replace(f'id="{name}"', f'id="{prefix}{name}"')
                   .replace(f"url(#{name})", f"url(#{prefix}{name})")
                   .replace(f'href="#{name}"', f'href="#{prefix}{name}"'))
    svg = svg.replace("<svg ", '<svg role="img" ', 1)
    return Markup(svg)


def stacked_hbar(rows: Iterable[tuple[str, str, Any]], *, labels: Sequence[str], segments: Sequence[str],
                 colors: Sequence[str], legend: str, value_title: str, money: bool = False) -> Markup | None:
    """Horizontal stacked bars, one per label (in the given order), segments stacked in the given
    order and colors; the total is written at the end of each bar."""
    values = [{"label": str(label), "segment": str(seg), "value": _num(v), "order": list(segments).index(seg)}
              for label, seg, v in rows if _num(v) > 0]
    if not values:
        return None
    totals: dict[str, float] = {}
    for v in values:
        totals[v["label"]] = totals.get(v["label"], 0.0) + v["value"]
    fmt = MONEY if money else COUNT
    data = alt.Data(values=values)
    y = alt.Y("label:N", sort=list(labels), title=None, axis=alt.Axis(labelLimit=260))
    # layers share the x axis: both carry the same one, else Vega-Lite merges a default into it
    x_axis = alt.Axis(format=MONEY_AXIS) if money else _count_axis(max(totals.values()))
    bars = alt.Chart(data).mark_bar().encode(
        y=y,
        x=alt.X("sum(value):Q", title=value_title, axis=x_axis),
        color=alt.Color("segment:N", title=legend, sort=list(segments),
                        scale=alt.Scale(domain=list(segments), range=list(colors))),
        order=alt.Order("order:Q"),
    )
    text = alt.Chart(alt.Data(values=[{"label": k, "total": t} for k, t in totals.items()])).mark_text(
        align="left", dx=4, fontSize=11, color="#334155").encode(
        y=alt.Y("label:N", sort=list(labels)), x=alt.X("total:Q", title=value_title, axis=x_axis), text=alt.Text("total:Q", format=fmt))
    height = max(22 * len(totals), 40)
    return to_svg(alt.layer(bars, text).properties(width=WIDTH - 300, height=height))


def vbar(rows: Iterable[tuple[str, Any, str]], *, value_title: str, money: bool = True,
         label_title: str | None = None) -> Markup | None:
    """Vertical bars (label, value, color) in the given order; negative values hang below zero.
    With few bars each carries its value."""
    values = [{"label": str(label), "value": _num(v), "color": color, "i": i}
              for i, (label, v, color) in enumerate(rows)]
    if not values:
        return None
    fmt = MONEY if money else COUNT
    order = [v["label"] for v in values]
    many = len(values) > 12
    x = alt.X("label:N", sort=order, title=label_title,
              axis=alt.Axis(labelAngle=-45 if many else 0, labelLimit=120))
    y_axis = alt.Axis(format=MONEY_AXIS) if money else _count_axis(max(abs(v["value"]) for v in values))
    bars = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        x=x, y=alt.Y("value:Q", title=value_title, axis=y_axis),
        color=alt.Color("color:N", scale=None, legend=None))
    layers = [bars]
    if not many:
        layers.append(alt.Chart(alt.Data(values=values)).mark_text(dy=-6, fontSize=11, color="#334155").encode(
            x=alt.X("label:N", sort=order), y=alt.Y("value:Q", title=value_title, axis=y_axis), text=alt.Text("value:Q", format=fmt)))
    zero = alt.Chart(alt.Data(values=[{"z": 0}])).mark_rule(color="#94a3b8").encode(
        y=alt.Y("z:Q", title=value_title, axis=y_axis))
    layers.append(zero)
    # a few bars stay narrow (as wide as about 90 px each), many share the full width
    return to_svg(alt.layer(*layers).properties(width=min(WIDTH, max(200, 90 * len(values))), height=220))


def lines(rows: Iterable[tuple[str, str, Any]], *, series: Sequence[str], colors: Sequence[str],
          value_title: str, legend: str | None = None, percent: bool = False,
          target: float | None = None, target_label: str = "") -> Markup | None:
    """One line per series over an ordinal x (ISO dates or timestamps sort as text); an optional
    horizontal target rule."""
    values = [{"x": str(x), "series": str(s), "value": _num(v)} for x, s, v in rows if v is not None]
    if not values:
        return None
    xs = sorted({v["x"] for v in values})
    axis_y = alt.Axis(format=".0%") if percent else _count_axis(max(v["value"] for v in values))
    scale_y = alt.Scale(domain=[0, 1]) if percent else alt.Scale(zero=True)
    base = alt.Chart(alt.Data(values=values)).encode(
        x=alt.X("x:O", sort=xs, title=None, axis=alt.Axis(labelAngle=-45 if len(xs) > 8 else 0, labelLimit=140)),
        y=alt.Y("value:Q", title=value_title, axis=axis_y, scale=scale_y),
        color=alt.Color("series:N", title=legend, sort=list(series),
                        scale=alt.Scale(domain=list(series), range=list(colors))),
    )
    layers = [base.mark_line(strokeWidth=2), base.mark_point(filled=True, size=30)]
    if target is not None:
        rule = alt.Chart(alt.Data(values=[{"y": target, "label": target_label}]))
        layers.append(rule.mark_rule(color="#b91c1c", strokeDash=[4, 3]).encode(
            y=alt.Y("y:Q", title=value_title, axis=axis_y, scale=scale_y)))
        if target_label:
            layers.append(rule.mark_text(align="left", baseline="bottom", dx=2, dy=-2, color="#b91c1c",
                                         fontSize=11).encode(
                y=alt.Y("y:Q", title=value_title, axis=axis_y, scale=scale_y), x=alt.value(0), text="label:N"))
    return to_svg(alt.layer(*layers).properties(width=WIDTH, height=220))


def grouped_bars(rows: Iterable[tuple[str, str, Any]], *, series: Sequence[str], colors: Sequence[str],
                 value_title: str) -> Markup | None:
    """Side-by-side bars per x (ordinal, sorted as text), one bar per series."""
    values = [{"x": str(x), "series": str(s), "value": _num(v)} for x, s, v in rows]
    if not values:
        return None
    xs = sorted({v["x"] for v in values})
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        x=alt.X("x:O", sort=xs, title=None, axis=alt.Axis(labelAngle=-45 if len(xs) > 8 else 0, labelLimit=140)),
        xOffset=alt.XOffset("series:N", sort=list(series)),
        y=alt.Y("value:Q", title=value_title, axis=_count_axis(max(v["value"] for v in values))),
        color=alt.Color("series:N", title=None, sort=list(series),
                        scale=alt.Scale(domain=list(series), range=list(colors))),
    )
    return to_svg(chart.properties(width=WIDTH, height=220))
