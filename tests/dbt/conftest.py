"""Shared setup of the dbt tests: ingest a landing folder with the real loaders, then run
`dbt build` in a subprocess against a temporary warehouse file. Expensive steps are
session-scoped so each warehouse is built once per test run."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from orchestration.prepare import WITHOUT_UNIT_TESTS
from tests.fixtures import EXAMPLES_DIR

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
SPEC_EXAMPLES = EXAMPLES_DIR


def dbt_executable() -> str:
    """The dbt of the project's virtualenv (the one running pytest)."""
    for candidate in (Path(sys.executable).parent / "dbt", REPO / ".venv" / "bin" / "dbt"):
        if candidate.exists():
            return str(candidate)
    return "dbt"


@dataclass
class DbtRun:
    returncode: int
    output: str


def run_dbt(warehouse: Path, args: list[str], work_dir: Path, as_of: str | None = None,
            extra_env: dict[str, str] | None = None) -> DbtRun:
    """Run dbt with O2C_WAREHOUSE=warehouse; target/logs go to work_dir so parallel runs never collide."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_")}
    env["O2C_WAREHOUSE"] = str(warehouse.resolve())
    env.pop("O2C_AS_OF", None)
    if as_of is not None:
        env["O2C_AS_OF"] = as_of
    env.update(extra_env or {})
    command = [
        dbt_executable(), *args,
        "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
        "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs"),
    ]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    return DbtRun(result.returncode, result.stdout + result.stderr)


def ingest_landing(landing: Path, warehouse: Path) -> None:
    """Load a landing folder into warehouse with the project's loaders (ingest.runner.ingest_all)."""
    from ingest import runner

    con = duckdb.connect(str(warehouse))
    try:
        runner.ingest_all(con, landing, progress=False)
    finally:
        con.close()


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# dbt unit tests run on fixed rows, whatever the landing folder: one build of the suite runs
# them (examples_build); the other builds leave them out, as `make run` does (WITHOUT_UNIT_TESTS).


def build_warehouse(landing: Path, work_dir: Path, as_of: str | None = None,
                    unit_tests: bool = False) -> tuple[Path, DbtRun]:
    work_dir.mkdir(parents=True, exist_ok=True)
    warehouse = work_dir / "warehouse.duckdb"
    ingest_landing(landing, warehouse)
    run = run_dbt(warehouse, ["build", *([] if unit_tests else WITHOUT_UNIT_TESTS)], work_dir, as_of=as_of)
    return warehouse, run


@pytest.fixture(scope="session")
def examples_build(tmp_path_factory) -> tuple[Path, DbtRun]:
    """The spec's examples/ folder ingested and built (data-derived as_of), the dbt unit tests included."""
    assert SPEC_EXAMPLES.is_dir(), f"spec examples not found at {SPEC_EXAMPLES}"
    return build_warehouse(SPEC_EXAMPLES, tmp_path_factory.mktemp("dbt_examples"), unit_tests=True)
