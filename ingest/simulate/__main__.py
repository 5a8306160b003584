"""`python -m ingest.simulate --orders N --days D --seed S --out DIR [--clean] [--start YYYY-MM-DD]`"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from .simulation import SimConfig, simulate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest.simulate", description=__doc__)
    parser.add_argument("--orders", type=int, default=2000, help="orders in total (backlog included)")
    parser.add_argument("--days", type=int, default=14, help="export days in the span")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True, help="landing folder to (re)create")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 11, 1), help="first export date")
    parser.add_argument("--clean", action="store_true", help="no anomaly, no invalid record: zero exceptions")
    parser.add_argument("--no-truth", dest="truth", action="store_false",
                        help="skip the oracle (exceptions.csv) for large benchmark runs")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.orders < 1 or args.days < 1:
        parser.error("--orders and --days must be positive")
    if args.orders / args.days >= 900_000:
        # order ids carry 6 digits per day, and 9xxxxx is kept for references to no order
        parser.error("at most 899,999 orders per day: raise --days")
    started = time.perf_counter()
    summary = simulate(SimConfig(orders=args.orders, days=args.days, seed=args.seed, out=args.out, clean=args.clean,
                                 start=args.start, truth=args.truth, progress=not args.quiet))
    elapsed = time.perf_counter() - started
    print(f"wrote {summary['files_written']} files for {args.orders} orders to {args.out} in {elapsed:.1f}s; "
          f"as_of={summary['as_of']}; exceptions={summary.get('exceptions_total', 'skipped')}; "
          f"invalid records={sum(summary['invalid_records'].values())}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
