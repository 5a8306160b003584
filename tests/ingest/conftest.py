"""Fixtures for the loader tests: a fresh in-memory warehouse and an empty landing folder."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    return folder


