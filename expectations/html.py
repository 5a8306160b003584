"""The validation results as one self-contained HTML page that opens offline.

Great Expectations' Data Docs load their CSS and scripts from CDNs: opened without internet they
are unstyled and their result lists stay empty. This page is rendered from a Jinja2 template
(``expectations/templates/validation.html.j2``, autoescape on) with inline CSS and no script or
external URL at all: every suite, every expectation with its result, observed value (the number
of unexpected rows), sample of offending keys, description and SQL.

    write_validation_page(results, path, *, as_of=None, warehouse=None, queries=None) -> Path

`run_suites(..., docs_dir=D)` writes it as ``D/validation_results.html`` next to the Data Docs
(``D/index.html``); ``make validate`` prints its path.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Mapping

from expectations.model import ExpectationResult

RESULTS_PAGE = "validation_results.html"
TEMPLATES = Path(__file__).with_name("templates")
_STATUS_CLASS = {"pass": "pass", "FAIL": "fail", "warn": "warn", "error": "fail"}


def _suites(results: Iterable[ExpectationResult]) -> list[dict]:
    suites: dict[str, dict] = {}
    for r in results:
        suite = suites.setdefault(r.suite, {"name": r.suite, "kind": r.kind, "table": r.table, "results": [],
                                            "anchor": "suite-" + r.suite.replace(".", "-")})
        suite["results"].append(r)
    for suite in suites.values():
        rs = suite["results"]
        suite["passed"] = sum(r.success for r in rs)
        suite["blocking_failed"] = sum(r.blocks_publishing for r in rs)
        suite["warned"] = sum(not r.success and not r.blocks_publishing for r in rs)
        suite["status"] = "fail" if suite["blocking_failed"] else "warn" if suite["warned"] else "pass"
    return list(suites.values())


def render_validation_page(results: list[ExpectationResult], *, as_of: datetime | None = None,
                           warehouse: str | os.PathLike | None = None,
                           queries: Mapping[str, str] | None = None,
                           data_docs: str | None = "index.html") -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    failed = [r for r in results if r.blocks_publishing]
    warned = [r for r in results if not r.success and not r.blocks_publishing]
    return env.get_template("validation.html.j2").render(
        results=results, suites=_suites(results), failed=failed, warned=warned,
        passed=sum(r.success for r in results), status_class=_STATUS_CLASS, queries=dict(queries or {}),
        as_of=as_of.strftime("%Y-%m-%d %H:%M:%S") if as_of else "unknown",
        warehouse=str(warehouse) if warehouse else "", data_docs=data_docs,
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"))


def write_validation_page(results: list[ExpectationResult], path: str | os.PathLike, **kwargs) -> Path:
    """Render the page and replace `path` atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(render_validation_page(results, **kwargs), encoding="utf-8")
    os.replace(tmp, path)
    return path
