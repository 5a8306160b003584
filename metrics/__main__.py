"""`python -m metrics "net_revenue_cny by channel by month"` (or `make metrics Q="..."`)."""
from __future__ import annotations

import argparse
import sys

from metrics.query import DIMENSION_ALIASES, MetricQueryError, parse_question, run_query


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m metrics",
        description="Query a finance metric on the published warehouse (definitions: docs/metrics.md).",
        epilog=f"group-by words: {', '.join(DIMENSION_ALIASES)}")
    parser.add_argument("question", help="e.g. 'net_revenue_cny by channel by month'")
    parser.add_argument("--published", help="published DuckDB file (default data/published/o2c.duckdb)")
    args = parser.parse_args(argv)
    try:
        query = parse_question(args.question)
        print(f">> MetricFlow: mf {' '.join(query.mf_args())}", file=sys.stderr)
        rows = run_query(query, args.published)
    except MetricQueryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not rows:
        print("(no rows)")
        return 0
    columns = list(rows[0])
    widths = [max(len(c), *(len(r[c]) for r in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(row[c].rjust(w) if _numeric(row[c]) else row[c].ljust(w) for c, w in zip(columns, widths)))
    return 0


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
