"""The dbt CLI resource skips dagster-dbt's two start-up costs (orchestration/dbt_cli.py), and
the dbt asset keeps only the newest invocation folders."""
from __future__ import annotations

import os
import time
from importlib.metadata import version

import pytest
from dagster_dbt import DbtCliResource

from orchestration.assets.dbt import BUILD_ARGS, keep_parse_state, prune_invocation_folders
from orchestration.dbt_cli import O2cDbtCliResource
from orchestration.prepare import DBT_PROJECT_DIR, dbt_executable


@pytest.mark.parametrize("hook", ["_cli_version", "_initialize_dbt_core_adapter"])
def test_the_hooks_overridden_still_exist_in_dagster_dbt(hook):
    # private to dagster-dbt: an upgrade that renames one would silently bring the cost back
    assert hook in vars(DbtCliResource), f"dagster-dbt no longer has DbtCliResource.{hook}"


def test_version_comes_from_the_installed_package_and_no_adapter_is_built():
    resource = O2cDbtCliResource(project_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable())
    assert str(resource._cli_version) == version("dbt-core")
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def test_production_builds_leave_unit_tests_to_ci():
    assert BUILD_ARGS[0] == "build" and BUILD_ARGS[BUILD_ARGS.index("--exclude-resource-type") + 1] == "unit_test"


def test_only_the_newest_invocation_folders_are_kept(tmp_path):
    now = time.time()
    for n in range(7):
        folder = tmp_path / f"o2c_dbt_models-run{n}-abc"
        folder.mkdir()
        (folder / "run_results.json").write_text("{}")
        os.utime(folder, (now - 100 + n, now - 100 + n))
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "other_op-run0-abc").mkdir()
    removed = prune_invocation_folders(tmp_path, "o2c_dbt_models", keep=5)
    assert sorted(p.name for p in removed) == ["o2c_dbt_models-run0-abc", "o2c_dbt_models-run1-abc"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "manifest.json", *(f"o2c_dbt_models-run{n}-abc" for n in range(2, 7)), "other_op-run0-abc"]


def test_a_builds_parse_state_becomes_the_projects(tmp_path):
    invocation = tmp_path / "o2c_dbt_models-run1-abc"
    invocation.mkdir()
    assert keep_parse_state(invocation, tmp_path) is False  # a failed build may write none
    (tmp_path / "partial_parse.msgpack").write_bytes(b"old")
    (invocation / "partial_parse.msgpack").write_bytes(b"new")
    assert keep_parse_state(invocation, tmp_path) is True
    assert (tmp_path / "partial_parse.msgpack").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o2c_dbt_models-run1-abc", "partial_parse.msgpack"]
