"""`make manifest` parses the dbt project only when something it is parsed from changed."""
from __future__ import annotations

import shutil

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
