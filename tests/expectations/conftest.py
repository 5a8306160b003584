from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from expectations import ExpectationSettings
from tests.expectations.warehouse_fixture import build_warehouse


@pytest.fixture(scope="session")
def default_settings() -> ExpectationSettings:
    """The documented defaults, independent of the environment the tests run in."""
    return ExpectationSettings()


@pytest.fixture(scope="session")
def clean_warehouse_template(tmp_path_factory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("wh") / "clean.duckdb")


@pytest.fixture
def warehouse(clean_warehouse_template, tmp_path) -> Path:
    """A private copy of the clean hand-made warehouse (mutate it freely)."""
    target = tmp_path / "warehouse.duckdb"
    shutil.copyfile(clean_warehouse_template, target)
    return target
