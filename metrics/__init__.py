"""Finance metrics for a person: one question in, one table out, computed by MetricFlow from the
metric definitions in dbt_project/models/semantic/ against the published file (docs/metrics.md)."""
from metrics.query import DIMENSION_ALIASES, MetricQuery, parse_question, run_query

__all__ = ["DIMENSION_ALIASES", "MetricQuery", "parse_question", "run_query"]
