"""`make manifest` parses the dbt project only when something it is parsed from changed."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from orchestration import prepare


def test_the_manifest_is_parsed_once_until_an_input_changes(tmp_path, monkeypatch):
    project = tmp_path / "dbt_project"
    shutil.copytree(prepare.DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns(*prepare.NOT_PARSE_INPUTS))
    monkeypatch.setenv("O2C_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    assert prepare.prepare_manifest(project_dir=project) is True
    assert (project / "target" / "manifest.json").exists()
    assert prepare.prepare_manifest(project_dir=project) is False  # nothing changed: no dbt parse

    before = prepare.parse_inputs(project)
    (project / "target" / "run_results.json").write_text("{}")      # dbt's output is no input
    assert prepare.parse_inputs(project) == before
    monkeypatch.setenv("O2C_WAREHOUSE", str(tmp_path / "other.duckdb"))
    assert prepare.parse_inputs(project) != before                  # the catalog name would change
    monkeypatch.setenv("O2C_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    model = next((project / "models").rglob("*.sql"))
    model.write_text(model.read_text() + "\n-- changed\n")
    assert prepare.parse_inputs(project) != before

    model.write_text(model.read_text().removesuffix("\n-- changed\n"))
    (project / "target" / "manifest.json").write_text("{}")         # another dbt command wrote target/
    assert prepare.prepare_manifest(project_dir=project) is True


def test_parse_state_from_a_dbt_command_run_elsewhere_is_replaced(tmp_path, monkeypatch):
    # docs/warehouse.md once said `dbt build --project-dir dbt_project` from the repository root:
    # dbt's partial parsing then kept the relative path for every later parse, and Dagster's dbt
    # (run inside the project) found no seed file
    project = tmp_path / "dbt_project"
    shutil.copytree(prepare.DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns(*prepare.NOT_PARSE_INPUTS))
    monkeypatch.setenv("O2C_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    subprocess.run([prepare.dbt_executable(), "parse", "--project-dir", "dbt_project", "--profiles-dir", "dbt_project",
                    "--quiet"], cwd=tmp_path, check=True)
    manifest = project / "target" / "manifest.json"
    assert prepare.foreign_roots(manifest, project) == {"dbt_project"}

    assert prepare.prepare_manifest(project_dir=project) is True
    assert prepare.foreign_roots(manifest, project) == set()
    seed = json.loads(manifest.read_text())["nodes"]["seed.o2c.exception_owners"]
    assert (Path(seed["root_path"]) / seed["original_file_path"]).is_file()
