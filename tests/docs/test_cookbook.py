"""Every query of docs/cookbook.md runs against a freshly published warehouse."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

COOKBOOK = Path(__file__).resolve().parents[2] / "docs" / "cookbook.md"
EXAMPLE_ORDER = "SO20261101000001"
# Queries whose right answer on a healthy warehouse is no row at all.
EXPECTED_EMPTY = {"Does the journal balance?"}


def cookbook_queries() -> list[tuple[str, str]]:
    """(section title, SQL) for every ```sql block, numbered when a section holds several."""
    queries, title = [], ""
    for block in re.split(r"^(## .*)$", COOKBOOK.read_text(), flags=re.M):
        if block.startswith("## "):
            title = block[3:].strip()
            continue
        sqls = re.findall(r"```sql\n(.*?)```", block, flags=re.S)
        for i, sql in enumerate(sqls, 1):
            queries.append((title if len(sqls) == 1 else f"{title} ({i})", sql))
    return queries


def test_the_cookbook_has_the_queries_finance_asked_for():
    titles = " | ".join(t for t, _ in cookbook_queries()).lower()
    for topic in ("open receivables", "shipped but not invoiced", "unapplied cash", "cash tie-out",
                  "history of one order", "revenue by channel", "gateway payouts", "gateway money outstanding",
                  "auto-matching"):
        assert topic in titles


@pytest.mark.slow
@pytest.mark.parametrize("title, sql", cookbook_queries(), ids=[t for t, _ in cookbook_queries()])
def test_cookbook_query_runs_on_the_published_warehouse(pipeline_workspace, title, sql):
    tmp, _, _ = pipeline_workspace
    with duckdb.connect(str(tmp / "published" / "o2c.duckdb"), read_only=True) as con:
        if EXAMPLE_ORDER in sql:  # the example id may not exist in this sample: use a real one
            real = con.execute("select min(order_id) from marts.order_ledger where shipped_at is not null").fetchone()[0]
            sql = sql.replace(EXAMPLE_ORDER, real)
        rows = con.execute(sql).fetchall()
    if title in EXPECTED_EMPTY:
        assert rows == [], f"{title}: {rows[:5]}"
    else:
        assert rows, f"{title} returned no row on the simulated sample"
