"""`make bench`: time and measure o2c at a given scale, side by side with its practical limits.

Each step runs in its own subprocess so its peak RSS is its own (os.wait4). Steps:
  simulate    generate (or reuse) the landing folder for SCALE orders
  bare_read   DuckDB reading the same files into tables with no validation (the practical limit)
  ingest      o2c's loaders: validation, quarantine, lineage, accounting
              (--repeat N runs these two N times, alternately, and keeps the median pair)
  dbt_build   `dbt build` (models + tests)
  plain_sql   the same compiled model SQL run as CREATE TABLE statements in one DuckDB connection
  validate    every expectation suite
  orchestrated_ingest  the same ingest as Dagster runs it in `make run` (bench/orchestrated.py),
              on its own warehouse file, next to `ingest` (target: within 1.2x)
  orchestrated         `make run` end to end (ingest, dbt, checks, publish, report), next to the
              sum of its bare steps ingest + dbt_build + validate (target: within 1.3x)
  spread_history       orchestrated_ingest on the same files re-laid over years (export dates 30
              days apart): a few dates over a long span must cost what the short span costs
Results go to bench/results/bench-<scale>.json and are appended to bench/results/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "bench" / "results"
PY = sys.executable
DBT = str(Path(sys.executable).with_name("dbt"))


def run_step(name: str, cmd: list[str], env: dict[str, str]) -> dict:
    """Run one step in a child process; return wall time and the child's own peak RSS."""
    print(f">> bench: {name}: {' '.join(cmd[:6])}{' …' if len(cmd) > 6 else ''}", flush=True)
    started = time.monotonic()
    process = subprocess.Popen(cmd, env=env, cwd=REPO_ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    exit_code = os.waitstatus_to_exitcode(status)
    if exit_code != 0:
        raise SystemExit(f"bench step {name} failed with exit code {exit_code}: {' '.join(cmd)}")
    result = {"seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}
    print(f"   {name}: {result['seconds']} s, peak RSS {result['peak_rss_mb']} MB", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=100_000, help="orders to simulate")
    parser.add_argument("--days", type=int, default=30, help="export days of the simulated span")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT / "data" / "bench")
    parser.add_argument("--steps", default="simulate,bare_read,ingest,dbt_build,plain_sql,validate,"
                                           "orchestrated_ingest,orchestrated,spread_history")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run bare_read and ingest this many times, alternately, and report the "
                             "median ratio (shared machines are noisy)")
    args = parser.parse_args(argv)

    steps = args.steps.split(",")
    workdir = args.workdir / f"scale-{args.scale}"
    landing = workdir / "landing"
    warehouse = workdir / "warehouse.duckdb"
    env = {**os.environ, "O2C_LANDING_DIR": str(landing), "O2C_WAREHOUSE": str(warehouse),
           "PYTHONPATH": str(REPO_ROOT)}
    results: dict[str, dict] = {}

    if "simulate" in steps:
        if (landing / "oms").is_dir():
            print(f">> bench: reusing landing data in {landing}")
        else:
            results["simulate"] = run_step("simulate", [
                PY, "-m", "ingest.simulate", "--orders", str(args.scale), "--days", str(args.days),
                "--seed", str(args.seed), "--out", str(landing),
                *(["--no-truth"] if args.scale > 100_000 else []),
            ], env)
    ingest_pairs: list[dict] = []
    for attempt in range(max(1, args.repeat)):
        label = f" #{attempt + 1}" if args.repeat > 1 else ""
        if "bare_read" in steps:
            results["bare_read"] = run_step(f"bare_read{label}", [
                PY, "-m", "bench.bare_read", "--landing", str(landing), "--warehouse", str(workdir / "bare.duckdb")], env)
        if "ingest" in steps:
            warehouse.unlink(missing_ok=True)
            results["ingest"] = run_step(f"ingest{label}", [
                PY, "-m", "ingest", "--landing", str(landing), "--warehouse", str(warehouse)], env)
        if "bare_read" in steps and "ingest" in steps:
            ingest_pairs.append({"bare_read": results["bare_read"], "ingest": results["ingest"],
                                 "ratio": round(results["ingest"]["seconds"] / results["bare_read"]["seconds"], 2)})
    if ingest_pairs:  # report the pair with the median ratio
        median = sorted(ingest_pairs, key=lambda pair: pair["ratio"])[(len(ingest_pairs) - 1) // 2]
        results["bare_read"], results["ingest"] = median["bare_read"], median["ingest"]
    if "dbt_build" in steps:
        results["dbt_build"] = run_step("dbt_build", [
            DBT, "build", "--project-dir", "dbt_project", "--profiles-dir", "dbt_project", "--quiet"], env)
    if "dbt_build" in steps:
        results["dbt_run"] = run_step("dbt_run (models only)", [
            DBT, "run", "--project-dir", "dbt_project", "--profiles-dir", "dbt_project", "--quiet"], env)
    if "plain_sql" in steps:
        run_step("dbt_compile (not compared)", [
            DBT, "compile", "--project-dir", "dbt_project", "--profiles-dir", "dbt_project", "--quiet"], env)
        results["plain_sql"] = run_step("plain_sql", [
            PY, "-m", "bench.plain_sql", "--warehouse", str(warehouse)], env)
    if "validate" in steps:
        results["validate"] = run_step("validate", [
            PY, "-m", "expectations.validate", "--warehouse", str(warehouse), "--no-docs"], env)

    if {"orchestrated_ingest", "orchestrated", "spread_history"} & set(steps):
        import shutil

        orchestrated_wh = workdir / "orchestrated.duckdb"
        orchestrated_env = {**env, "O2C_WAREHOUSE": str(orchestrated_wh),
                            "O2C_PUBLISH_DIR": str(workdir / "published"),
                            "DAGSTER_HOME": str(workdir / "dagster_home")}
        if "orchestrated_ingest" in steps:
            orchestrated_wh.unlink(missing_ok=True)
            results["orchestrated_ingest"] = run_step("orchestrated_ingest", [PY, "-m", "bench.orchestrated", "ingest"],
                                                      orchestrated_env)
        if "orchestrated" in steps:
            orchestrated_wh.unlink(missing_ok=True)
            shutil.rmtree(workdir / "dagster_home", ignore_errors=True)
            (workdir / "dagster_home").mkdir(parents=True)
            results["orchestrated"] = run_step("orchestrated (make run)", [PY, "-m", "orchestration.run_pipeline"],
                                               orchestrated_env)
        if "spread_history" in steps:
            spread_landing = workdir / "landing-spread"
            if not (spread_landing / "oms").is_dir():
                run_step("spread (hard links)", [PY, "-m", "bench.orchestrated", "spread", str(landing),
                                                 str(spread_landing)], env)
            spread_wh = workdir / "spread.duckdb"
            spread_wh.unlink(missing_ok=True)
            results["spread_history"] = run_step("spread_history", [PY, "-m", "bench.orchestrated", "ingest"],
                                                 {**orchestrated_env, "O2C_LANDING_DIR": str(spread_landing),
                                                  "O2C_WAREHOUSE": str(spread_wh)})

    ratios = {}
    if "orchestrated_ingest" in results and "ingest" in results:
        ratios["orchestrated_ingest_vs_cli_ingest"] = round(
            results["orchestrated_ingest"]["seconds"] / results["ingest"]["seconds"], 2)
    if "orchestrated" in results and all(k in results for k in ("ingest", "dbt_build", "validate")):
        bare = sum(results[k]["seconds"] for k in ("ingest", "dbt_build", "validate"))
        ratios["orchestrated_vs_bare_steps"] = round(results["orchestrated"]["seconds"] / bare, 2)
    if "spread_history" in results and "orchestrated_ingest" in results:
        ratios["spread_history_vs_short_span"] = round(
            results["spread_history"]["seconds"] / results["orchestrated_ingest"]["seconds"], 2)
    if "ingest" in results and "bare_read" in results:
        ratios["ingest_vs_bare_read"] = round(results["ingest"]["seconds"] / results["bare_read"]["seconds"], 2)
    if "dbt_build" in results and "plain_sql" in results:
        ratios["dbt_build_vs_plain_sql"] = round(results["dbt_build"]["seconds"] / results["plain_sql"]["seconds"], 2)
        ratios["dbt_run_vs_plain_sql"] = round(results["dbt_run"]["seconds"] / results["plain_sql"]["seconds"], 2)
    if "validate" in results and "dbt_build" in results:
        ratios["validate_vs_dbt_build"] = round(results["validate"]["seconds"] / results["dbt_build"]["seconds"], 2)
    counts = _record_counts(warehouse) if warehouse.exists() else {}
    if counts.get("records_loaded") and "ingest" in results:
        ratios["ingest_records_per_second"] = round(counts["records_loaded"] / results["ingest"]["seconds"])

    # Steps not re-run keep their earlier measurement (e.g. the landing data's generation) and
    # its date, but every ratio above compares steps measured side by side in this run only.
    measured_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for result in results.values():
        result["measured_at"] = measured_at
    out = RESULTS_DIR / f"bench-{args.scale}.json"
    earlier = json.loads(out.read_text()) if out.exists() else {"steps": {}, "ratios": {}}
    results = {**earlier["steps"], **results}
    ratios = {**earlier.get("ratios", {}), **ratios}
    report = {"scale": args.scale, "days": args.days, "seed": args.seed, "measured_at": measured_at,
              "machine": f"{os.cpu_count()} cores", "steps": results, "measured_in_this_run": steps, "ratios": ratios, "counts": counts}
    if ingest_pairs:
        report["ingest_vs_bare_read_runs"] = [pair["ratio"] for pair in ingest_pairs]
    elif "ingest_vs_bare_read_runs" in earlier:
        report["ingest_vs_bare_read_runs"] = earlier["ingest_vs_bare_read_runs"]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print(f">> bench: results written to {out.relative_to(REPO_ROOT)}")
    return 0


def _record_counts(warehouse: Path) -> dict:
    import duckdb

    try:
        with duckdb.connect(str(warehouse)) as con:
            row = con.execute(
                "select sum(records_read), sum(records_loaded), sum(records_quarantined) from ingest.files"
            ).fetchone()
    except duckdb.Error:
        return {}
    return {"records_read": int(row[0] or 0), "records_loaded": int(row[1] or 0),
            "records_quarantined": int(row[2] or 0)}


if __name__ == "__main__":
    sys.exit(main())
