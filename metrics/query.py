"""Run a metric question ("net_revenue_cny by channel by month") through MetricFlow's own CLI
(`mf query`) against the published, read-only DuckDB file.

Why a wrapper at all: `mf query` needs the dbt profile's read-only `published` target, the
catalog name the semantic manifest was parsed with, and MetricFlow's qualified names
(`order__channel`, `metric_time__month`). A person asks in words; this maps the words.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
SEMANTIC_MANIFEST = DBT_PROJECT_DIR / "target" / "semantic_manifest.json"
DEFAULT_PUBLISHED_FILE = REPO_ROOT / "data" / "published" / "o2c.duckdb"

# Words a person uses -> MetricFlow group-by names. Anything containing `__` passes through.
DIMENSION_ALIASES = {
    "channel": "order__channel",
    "customer": "order__customer",
    "order_currency": "order__currency",
    "payment_terms": "order__payment_terms",
    "lifecycle_state": "order__lifecycle_state",
    "account": "ledger_line__account",
    "entry_type": "ledger_line__entry_type",
    "currency": "ledger_line__currency",
    "exception_type": "exception__exception_type",
    "severity": "exception__severity",
    "system": "cash_matching_day__system",
    **{grain: f"metric_time__{grain}" for grain in ("day", "week", "month", "quarter", "year")},
}


class MetricQueryError(Exception):
    """A question that cannot be asked, or a query MetricFlow refused (its message included)."""


@dataclass(frozen=True)
class MetricQuery:
    metrics: tuple[str, ...]
    group_by: tuple[str, ...]

    def mf_args(self) -> list[str]:
        args = ["query", "--metrics", ",".join(self.metrics)]
        if self.group_by:
            args += ["--group-by", ",".join(self.group_by), "--order", ",".join(self.group_by)]
        return args


def parse_question(question: str) -> MetricQuery:
    """`net_revenue_cny, exception_rate by channel by month` -> metrics and group-bys."""
    parts = [p.strip() for p in question.replace(" BY ", " by ").split(" by ")]
    metrics = tuple(m.strip() for m in parts[0].split(",") if m.strip())
    if not metrics:
        raise MetricQueryError(f"no metric named in {question!r}; e.g. 'net_revenue_cny by channel by month'")
    group_by = []
    for word in (w.strip() for part in parts[1:] for w in part.split(",")):
        if not word:
            raise MetricQueryError(f"empty group-by in {question!r}")
        if "__" in word:
            group_by.append(word)
        elif word in DIMENSION_ALIASES:
            group_by.append(DIMENSION_ALIASES[word])
        else:
            raise MetricQueryError(
                f"unknown group-by {word!r} in {question!r}; known: {', '.join(sorted(DIMENSION_ALIASES))} "
                "(or a MetricFlow name such as order__channel)")
    return MetricQuery(metrics, tuple(group_by))


def _warehouse_catalog() -> str:
    """The catalog name relations carry in the semantic manifest (the working warehouse's file stem)."""
    if not SEMANTIC_MANIFEST.exists():
        raise MetricQueryError(f"{SEMANTIC_MANIFEST} is missing: run `make manifest` first")
    manifest = json.loads(SEMANTIC_MANIFEST.read_text())
    return manifest["semantic_models"][0]["node_relation"]["database"]


def run_query(query: MetricQuery, published_file: Path | None = None) -> list[dict[str, str]]:
    """The rows MetricFlow returns, as dicts of text (CSV), for the published file."""
    published = Path(published_file or os.environ.get("O2C_PUBLISHED_FILE") or DEFAULT_PUBLISHED_FILE).resolve()
    if not published.exists():
        raise MetricQueryError(f"no published warehouse at {published}: run `make run` first")
    env = {**os.environ, "O2C_DBT_TARGET": "published", "O2C_PUBLISHED_FILE": str(published),
           "O2C_WAREHOUSE_CATALOG": _warehouse_catalog(), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.csv"
        mf = str(Path(sys.executable).with_name("mf"))
        done = subprocess.run([mf, *query.mf_args(), "--csv", str(out)], cwd=DBT_PROJECT_DIR, env=env,
                              capture_output=True, text=True)
        if done.returncode != 0 or not out.exists():
            detail = (done.stderr or done.stdout).strip().splitlines()
            raise MetricQueryError(f"MetricFlow refused {query.mf_args()[1:]} on {published}: "
                                   + "\n".join(detail[-15:]))
        with out.open(newline="") as f:
            return list(csv.DictReader(f))
