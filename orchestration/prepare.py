"""Write dbt_project/target/manifest.json, which dagster-dbt needs at import time.

`dbt_project.prepare_if_dev()` only does this under `dagster dev`; make targets, tests and CI
run this module instead (`python -m orchestration.prepare`).

`dbt parse` costs 5-11 s here (dbt's start-up, and a full parse whenever the warehouse path
differs from the last parse's), and `make run` and `make test` ask for the manifest every time.
So the manifest is parsed again only when what it is parsed from changed: the project's files,
the O2C_ and DBT_ environment (the warehouse path names the relations' catalog), the dbt
version, or the manifest itself (another dbt command wrote `target/` since). A manifest that
names the project by another path (a dbt command run from another folder) is parsed afresh.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from ingest import settings

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
NOT_PARSE_INPUTS = {"target", "logs", "dbt_packages"}
# dbt unit tests check model logic on fixed rows, so their result cannot change with the data:
# they run in `make test` and CI (tests/dbt), not in every production build, as dbt Labs
# advises; they were 8 of 16 s of a small build's node time. Here, not in the dbt asset's
# module, so that tests and tools can use it without importing dagster-dbt.
WITHOUT_UNIT_TESTS = ["--exclude-resource-type", "unit_test"]


def dbt_executable() -> str:
    return str(Path(sys.executable).with_name("dbt"))


def parse_inputs(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """A digest of everything the manifest is parsed from."""
    digest = hashlib.sha256(version("dbt-core").encode())
    for path in sorted(project_dir.rglob("*")):
        relative = path.relative_to(project_dir)
        if relative.parts[0] in NOT_PARSE_INPUTS or not path.is_file():
            continue
        digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    environment = {k: v for k, v in os.environ.items() if k.startswith(("O2C_", "DBT_"))}
    environment["O2C_WAREHOUSE"] = str(settings.warehouse_path())
    digest.update(json.dumps(sorted(environment.items())).encode())
    return digest.hexdigest()


def _stamp(manifest: Path, inputs: str) -> str:
    stat = manifest.stat()
    return json.dumps({"inputs": inputs, "manifest_size": stat.st_size, "manifest_mtime_ns": stat.st_mtime_ns})


def foreign_roots(manifest: Path, project_dir: Path) -> set[str]:
    """Project paths in the manifest other than this project's absolute path."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    return {node["root_path"] for node in nodes if node.get("root_path", str(project_dir)) != str(project_dir)}


def _parse(project_dir: Path, *flags: str) -> None:
    env = {**os.environ, "O2C_WAREHOUSE": str(settings.warehouse_path())}
    cmd = [dbt_executable(), "parse", "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
           "--quiet", *flags]
    completed = subprocess.run(cmd, env=env, cwd=project_dir)
    if completed.returncode != 0:
        raise SystemExit(f"dbt parse failed (exit {completed.returncode}) in {project_dir}")


def prepare_manifest(force: bool = False, project_dir: Path = DBT_PROJECT_DIR) -> bool:
    """Parse the project unless the manifest is already the one its inputs give; True if parsed."""
    manifest = project_dir / "target" / "manifest.json"
    stamp = project_dir / "target" / ".o2c_parse_inputs.json"
    inputs = parse_inputs(project_dir)
    if not force and manifest.exists() and stamp.exists() and stamp.read_text() == _stamp(manifest, inputs):
        print(f">> dbt manifest up to date: {manifest} (nothing it is parsed from changed)")
        return False
    _parse(project_dir)
    foreign = foreign_roots(manifest, project_dir)
    if foreign:
        # dbt's partial parsing keeps each node's project path from the parse that first read it:
        # after `dbt build --project-dir dbt_project` from the repository root, seeds are loaded
        # from `dbt_project/seeds/...`, a path that does not exist from where Dagster runs dbt
        print(f">> dbt parse state came from a dbt command run elsewhere (project path {sorted(foreign)[0]!r}): "
              "parsing the whole project again")
        _parse(project_dir, "--no-partial-parse")
    stamp.write_text(_stamp(manifest, inputs))
    print(f">> dbt manifest ready: {manifest}")
    return True


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="parse even if nothing changed")
    prepare_manifest(force=parser.parse_args().force)
