"""`python -m expectations.validate` (`make validate`): run every suite against the warehouse.

Prints one line per expectation (suite, expectation, severity, unexpected count, pass/fail),
writes the results as one self-contained HTML page that opens offline
(<docs-dir>/validation_results.html, printed) next to the Great Expectations Data Docs (static
HTML that loads its CSS and scripts from CDNs) and exits
  0  no blocking expectation failed (warnings may have been reported),
  1  a blocking expectation failed (the message names it, with sample keys),
  2  the warehouse could not be opened / bad arguments.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

DEFAULT_DOCS_DIR = Path("data/validation_docs")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m expectations.validate", description=__doc__.splitlines()[0])
    p.add_argument("--warehouse", type=Path, default=None,
                   help="DuckDB warehouse file (default: O2C_WAREHOUSE or data/warehouse.duckdb)")
    p.add_argument("--docs-dir", type=Path, default=DEFAULT_DOCS_DIR,
                   help=f"where to write the results page and the Data Docs site (default: {DEFAULT_DOCS_DIR})")
    p.add_argument("--no-docs", action="store_true", help="do not write the results page nor Data Docs (benchmarks)")
    p.add_argument("--suite", action="append", default=None, metavar="NAME",
                   help="only this suite / kind / guarded table (repeatable); default: all")
    p.add_argument("--all-keys", action="store_true", help="print every sample key of failures (up to 20 each)")
    return p


def format_table(results) -> str:
    headers = ("suite", "expectation", "severity", "unexpected", "result")
    rows = [(r.suite, r.expectation_id, r.severity,
             "n/a" if r.unexpected_count < 0 else str(r.unexpected_count), r.status) for r in results]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(out)


def _describe(r, all_keys: bool) -> str:
    keys = r.sample_keys if all_keys else r.sample_keys[:5]
    more = "" if all_keys or len(r.sample_keys) <= 5 else ", ..."
    what = f"error: {r.error}" if r.error else f"{r.unexpected_count} unexpected"
    sample = f"; sample keys: {', '.join(keys)}{more}" if keys else ""
    return f"  - {r.suite} / {r.expectation_id} [{r.table}] ({what}{sample})\n      {r.description}"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from expectations import ExpectationSettings, blocking_failures, run_suites
    from ingest import settings as ingest_settings

    warehouse = (args.warehouse or ingest_settings.warehouse_path()).resolve()
    docs_dir = None if args.no_docs else args.docs_dir.resolve()
    try:
        expectation_settings = ExpectationSettings.from_env()
    except ValueError as exc:
        print(f"expectations: {exc}", file=sys.stderr)
        return 2
    print(f">> validating {warehouse}", flush=True)
    started = time.monotonic()
    try:
        results = run_suites(warehouse, args.suite, settings=expectation_settings, docs_dir=docs_dir)
    except (FileNotFoundError, ValueError) as exc:
        print(f"expectations: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # duckdb.IOException (locked file), ...
        print(f"expectations: could not validate {warehouse}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    elapsed = time.monotonic() - started

    print(format_table(results))
    failed = blocking_failures(results)
    warned = [r for r in results if not r.success and not r.blocks_publishing]
    passed = sum(r.success for r in results)
    print(f"\n{passed} of {len(results)} expectations passed, {len(warned)} warning(s), "
          f"{len(failed)} blocking failure(s) in {elapsed:.1f}s")
    if docs_dir is not None:
        from expectations.html import RESULTS_PAGE

        print(f">> Validation results (self-contained, opens offline): {docs_dir / RESULTS_PAGE}")
        print(f">> Great Expectations Data Docs (need internet for their styles): {docs_dir / 'index.html'}")
    if warned:
        print("\nwarnings (reported, not blocking):")
        print("\n".join(_describe(r, args.all_keys) for r in warned))
    if failed:
        print("\nBLOCKING failures (publishing is blocked):", file=sys.stderr)
        print("\n".join(_describe(r, args.all_keys) for r in failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: with Great Expectations loaded, DuckDB's nanobind bindings print
    # spurious "leaked instance" warnings at exit. Everything is written and closed by now.
    os._exit(code)
