"""The dbt CLI resource, without two start-up costs that o2c does not use.

dagster-dbt's `DbtCliResource.cli` does two things before it starts `dbt build`:
- it runs `dbt --version` in a subprocess to learn the version (about 3 s here: it imports dbt);
- it builds a dbt adapter inside the run process (about 2 s: it imports dbt and dbt-duckdb),
  which serves only `fetch_row_counts()` and `fetch_column_metadata()`.

o2c runs the dbt of its own virtualenv (orchestration/prepare.py: `dbt_executable`), whose
version the installed dbt-core package states, and fetches no row counts or column metadata
through Dagster (the expectation checks and `meta.publication_tables` count rows). So this
resource answers the version from the package metadata and builds no adapter: about 5 s less
per `make run`, the same dbt invocation. Both hooks are private to dagster-dbt (pinned in
requirements.lock); tests/orchestration/test_dbt_cli.py fails if an upgrade renames them.
"""
from __future__ import annotations

from functools import cached_property
from importlib.metadata import version as installed_version

from dagster_dbt import DbtCliResource
from packaging import version


class O2cDbtCliResource(DbtCliResource):
    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):  # noqa: ARG002 - the signature dagster-dbt calls
        return None
