"""Fixtures shared across test folders."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def pipeline_env(tmp: Path) -> dict[str, str]:
    """Environment that points every o2c setting into `tmp`."""
    return {
        **os.environ,
        "O2C_LANDING_DIR": str(tmp / "landing"),
        "O2C_WAREHOUSE": str(tmp / "warehouse.duckdb"),
        "O2C_PUBLISH_DIR": str(tmp / "published"),
        "DAGSTER_HOME": str(tmp / "dagster_home"),
        "PYTHONPATH": str(REPO_ROOT),
    }


def run_pipeline(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`python -m orchestration.run_pipeline` — what `make run` executes — in a child process."""
    return subprocess.run([sys.executable, "-m", "orchestration.run_pipeline", *args], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="session")
def pipeline_workspace(tmp_path_factory):
    """A simulated landing folder (400 orders, 6 days) after one full Dagster run of o2c_job.

    Shared by the pipeline tests (which re-run, reload and kill runs, always ending on a good
    run) and the cookbook tests (which only read the published file).
    """
    tmp = tmp_path_factory.mktemp("pipeline")
    env = pipeline_env(tmp)
    (tmp / "dagster_home").mkdir()
    subprocess.run([sys.executable, "-m", "ingest.simulate", "--orders", "400", "--days", "6", "--seed", "11",
                    "--out", str(tmp / "landing")], env=env, cwd=REPO_ROOT, check=True, capture_output=True)
    first = run_pipeline(env)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    return tmp, env, first


# One anomalous and one clean simulation, each ingested and built once (dbt unit tests left out,
# tests/dbt runs them) for every test folder that checks a simulated warehouse against the
# simulator's ground truth: tests/dbt (exceptions) and tests/expectations (suites).
SIM_ORDERS = int(os.environ.get("O2C_TEST_SIM_ORDERS", "1500"))
SIM_DAYS = int(os.environ.get("O2C_TEST_SIM_DAYS", "21"))
SIM_SEED = int(os.environ.get("O2C_TEST_SIM_SEED", "7"))


def simulate(out: Path, *extra: str, orders: int = SIM_ORDERS, days: int = SIM_DAYS) -> None:
    command = [sys.executable, "-m", "ingest.simulate", "--orders", str(orders), "--days", str(days),
               "--seed", str(SIM_SEED), "--out", str(out), *extra]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="session")
def simulated_build(tmp_path_factory):
    """(landing, warehouse, dbt run) of the simulator's default, anomalous sample."""
    from tests.dbt.conftest import build_warehouse

    work = tmp_path_factory.mktemp("simulated")
    simulate(work / "landing")
    warehouse, run = build_warehouse(work / "landing", work / "build")
    return work / "landing", warehouse, run


@pytest.fixture(scope="session")
def clean_simulated_build(tmp_path_factory):
    """(landing, warehouse, dbt run) of a simulation with no anomaly injected."""
    from tests.dbt.conftest import build_warehouse

    work = tmp_path_factory.mktemp("simulated_clean")
    simulate(work / "landing", "--clean", orders=max(100, SIM_ORDERS // 3), days=14)
    warehouse, run = build_warehouse(work / "landing", work / "build")
    return work / "landing", warehouse, run


def pytest_collection_modifyitems(session, config, items):
    """Start the Spark parity builds (tests/spark) as soon as they are selected: the JVM's couple
    of minutes then run beside the rest of the suite (mostly one busy core: pytest and one
    subprocess), and the parity fixture only waits for what is left."""
    if config.option.collectonly or not any(item.get_closest_marker("spark") for item in items):
        return
    from tests.spark.parity import PARITY_BUILDS, start_parity_builds

    print("\n>> starting the Spark parity builds in the background (tests/spark)", flush=True)
    config.stash[PARITY_BUILDS] = start_parity_builds(config._tmp_path_factory.mktemp("spark_parity"))


def pytest_unconfigure(config):
    from tests.spark.parity import PARITY_BUILDS, stop_parity_builds

    if PARITY_BUILDS in config.stash:
        stop_parity_builds(config.stash[PARITY_BUILDS])
