"""`make bench`: time and measure o2c at a given scale, side by side with its practical limits.

Each step runs in its own subprocess so its peak RSS is its own (os.wait4). Steps:
  simulate    generate (or reuse) the landing folder for SCALE orders
  bare_read   DuckDB reading the same files into tables with no validation (the practical limit)
  ingest      o2c's loaders: validation, quarantine, lineage, accounting
  dbt_build   `dbt build` (models + tests)
  plain_sql   the same compiled model SQL run as CREATE TABLE statements in one DuckDB connection
  validate    every expectation suite
  orchestrated_ingest  the ingest assets alone, materialized by Dagster in a process of their own
              (bench/orchestrated.py): Dagster's start-up included, a stricter figure than make
              run's ingest phase below
  orchestrated         `make run` end to end (its manifest step, then ingest, dbt, checks, publish,
              report), next to the sum of its bare steps ingest + dbt_build + validate (target:
              within 1.3x); its phases, read from the run's Dagster events, give make run's
              ingest phase next to `ingest` (target: within 1.2x)
  spread_history       orchestrated_ingest on the same files re-laid over years (export dates 30
              days apart): a few dates over a long span must cost what the short span costs
Every ratio pairs two steps measured one after the other. `--repeat N` (make bench REPEAT=N)
measures every step N times in turn and reports each ratio's median, with every attempt's ratio
in `ratio_runs`: on a shared machine one measurement can be 15 % off.
Results go to bench/results/bench-<scale>.json.

`--engine spark` (make bench ENGINE=spark) compares the engines instead (docs/spark.md): on
the same ingested warehouse, the DuckDB build and validation next to the Spark path (raw ->
Parquet export, dbt build on Spark local[*], loading Spark's tables into DuckDB, validation
there), each with the peak memory of its process tree, the JVM's own (bench/proctree.py).
Results: bench/results/bench-<scale>-spark.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

# absolute project path: a relative one would leak into dbt's parse state (docs/warehouse.md)
from orchestration.prepare import DBT_PROJECT_DIR as DBT_PROJECT, dbt_executable

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT = dbt_executable()
RESULTS_DIR = REPO_ROOT / "bench" / "results"
PY = sys.executable


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
                        help="measure every step this many times, in turn, and report each ratio's "
                             "median (shared machines are noisy)")
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                        help="spark: compare the Spark build with the DuckDB build, stage by stage")
    args = parser.parse_args(argv)
    if args.engine == "spark":
        return compare_engines(args)

    steps = args.steps.split(",")
    workdir = args.workdir / f"scale-{args.scale}"
    landing = workdir / "landing"
    warehouse = workdir / "warehouse.duckdb"
    # One environment for the bare steps and make run: the manifest make run prepares is the one
    # the bare dbt build parses against, so neither pays a full parse a repeated run would not.
    env = {**os.environ, "O2C_LANDING_DIR": str(landing), "O2C_WAREHOUSE": str(warehouse),
           "O2C_PUBLISH_DIR": str(workdir / "published"), "DAGSTER_HOME": str(workdir / "dagster_home"),
           "PYTHONPATH": str(REPO_ROOT)}
    simulated: dict[str, dict] = {}
    if "simulate" in steps:
        if (landing / "oms").is_dir():
            print(f">> bench: reusing landing data in {landing}")
        else:
            simulated["simulate"] = run_step("simulate", [
                PY, "-m", "ingest.simulate", "--orders", str(args.scale), "--days", str(args.days),
                "--seed", str(args.seed), "--out", str(landing),
                *(["--no-truth"] if args.scale > 100_000 else []),
            ], env)
    if "spread_history" in steps and not (workdir / "landing-spread" / "oms").is_dir():
        run_step("spread (hard links)", [PY, "-m", "bench.orchestrated", "spread", str(landing),
                                         str(workdir / "landing-spread")], env)

    # Every step runs once per attempt, so each ratio pairs steps measured next to each other;
    # with --repeat N the median of each ratio over the attempts is reported (a noisy machine).
    attempts = [measure_attempt(steps, workdir, env, f" #{n + 1}" if args.repeat > 1 else "")
                for n in range(max(1, args.repeat))]
    per_attempt = [attempt_ratios(results) for results in attempts]
    ratio_runs = {key: [r[key] for r in per_attempt if key in r] for key in dict.fromkeys(k for r in per_attempt for k in r)}
    ratios = {key: statistics.median(values) for key, values in ratio_runs.items()}
    results = {**simulated, **median_steps(attempts)}
    counts = _record_counts(warehouse) if warehouse.exists() else {}
    if counts.get("records_loaded") and "ingest" in results:
        ratios["ingest_records_per_second"] = round(counts["records_loaded"] / results["ingest"]["seconds"])

    # Steps not re-run keep their earlier measurement (e.g. the landing data's generation) and
    # its date; `ratios` compares steps measured side by side in this run only, and ratios of
    # earlier runs go to `earlier_ratios` with their date.
    measured_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for result in results.values():
        result["measured_at"] = measured_at
    out = RESULTS_DIR / f"bench-{args.scale}.json"
    earlier = json.loads(out.read_text()) if out.exists() else {"steps": {}, "ratios": {}}
    report = {"scale": args.scale, "days": args.days, "seed": args.seed, "measured_at": measured_at,
              "machine": f"{os.cpu_count()} cores", "load_average_at_end": os.getloadavg(),
              "steps": {**earlier["steps"], **results}, "measured_in_this_run": steps, "attempts": len(attempts),
              "ratios": ratios, "ratio_runs": ratio_runs,
              "earlier_ratios": earlier_ratios(earlier, keep_out=ratios.keys()), "counts": counts}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print(f">> bench: results written to {out.relative_to(REPO_ROOT)}")
    return 0


def earlier_ratios(earlier: dict, keep_out) -> dict[str, dict]:
    """Ratios of earlier runs that this run did not measure, each with the date of its run: kept
    apart from this run's, never mixed with them."""
    kept = {**earlier.get("earlier_ratios", {}),
            **{key: {"value": value, "measured_at": earlier.get("measured_at")}
               for key, value in earlier.get("ratios", {}).items()}}
    return {key: value for key, value in kept.items() if key not in keep_out}


def measure_attempt(steps: list[str], workdir: Path, env: dict[str, str], label: str) -> dict[str, dict]:
    """One measurement of each selected step (but simulate), in a fixed order."""
    landing, warehouse = Path(env["O2C_LANDING_DIR"]), Path(env["O2C_WAREHOUSE"])
    # The bare dbt commands write their own target folder, starting from the project's parse
    # state as dagster-dbt's invocations do: dbt_project/target stays make run's, so its make
    # manifest step skips the parse as it does when make run is run again.
    bare_target = workdir / "bare-target"
    bare_target.mkdir(parents=True, exist_ok=True)
    if (DBT_PROJECT / "target" / "partial_parse.msgpack").exists():
        shutil.copy(DBT_PROJECT / "target" / "partial_parse.msgpack", bare_target / "partial_parse.msgpack")
    dbt_args = ["--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT), "--quiet",
                "--target-path", str(bare_target)]
    results: dict[str, dict] = {}
    if "bare_read" in steps:
        results["bare_read"] = run_step(f"bare_read{label}", [
            PY, "-m", "bench.bare_read", "--landing", str(landing), "--warehouse", str(workdir / "bare.duckdb")], env)
    if "ingest" in steps:
        warehouse.unlink(missing_ok=True)
        results["ingest"] = run_step(f"ingest{label}", [
            PY, "-m", "ingest", "--landing", str(landing), "--warehouse", str(warehouse)], env)
    if "dbt_build" in steps:
        results["dbt_build"] = run_step(f"dbt_build{label}", [DBT, "build", *dbt_args], env)
        results["dbt_run"] = run_step(f"dbt_run (models only){label}", [DBT, "run", *dbt_args], env)
    if "plain_sql" in steps:
        run_step("dbt_compile (not compared)", [DBT, "compile", *dbt_args], env)
        results["plain_sql"] = run_step(f"plain_sql{label}", [
            PY, "-m", "bench.plain_sql", "--warehouse", str(warehouse), "--manifest",
            str(bare_target / "manifest.json")], env)
    if "validate" in steps:
        results["validate"] = run_step(f"validate{label}", [
            PY, "-m", "expectations.validate", "--warehouse", str(warehouse), "--no-docs"], env)
    if "orchestrated_ingest" in steps:
        warehouse.unlink(missing_ok=True)
        results["orchestrated_ingest"] = run_step(f"orchestrated_ingest{label}",
                                                  [PY, "-m", "bench.orchestrated", "ingest"], env)
    if "spread_history" in steps:
        spread_wh = workdir / "spread.duckdb"
        spread_wh.unlink(missing_ok=True)
        results["spread_history"] = run_step(f"spread_history{label}", [PY, "-m", "bench.orchestrated", "ingest"],
                                             {**env, "O2C_LANDING_DIR": str(workdir / "landing-spread"),
                                              "O2C_WAREHOUSE": str(spread_wh)})
    if "orchestrated" in steps:
        warehouse.unlink(missing_ok=True)
        dagster_home = Path(env["DAGSTER_HOME"])
        shutil.rmtree(dagster_home, ignore_errors=True)
        dagster_home.mkdir(parents=True)
        # as make run's $(DAGSTER_HOME)/dagster.yaml rule does (one run at a time, no telemetry)
        shutil.copy(REPO_ROOT / "orchestration" / "dagster.yaml", dagster_home / "dagster.yaml")
        # what `make run` runs: make manifest (a dbt parse only when the project or the environment
        # changed), then the Dagster run
        prepared = run_step(f"orchestrated: make manifest{label}", [PY, "-m", "orchestration.prepare"], env)
        ran = run_step(f"orchestrated: the Dagster run{label}", [PY, "-m", "orchestration.run_pipeline"], env)
        results["orchestrated"] = {"seconds": round(prepared["seconds"] + ran["seconds"], 2),
                                   "peak_rss_mb": max(prepared["peak_rss_mb"], ran["peak_rss_mb"]),
                                   "manifest_seconds": prepared["seconds"]}
        phase = subprocess.run([PY, "-m", "bench.orchestrated", "phases"], env=env, cwd=REPO_ROOT,
                               capture_output=True, text=True, check=True)
        results["make_run_phases"] = json.loads(phase.stdout)
        print(f"   make run's phases: {results['make_run_phases']}", flush=True)
    return results


def attempt_ratios(results: dict[str, dict]) -> dict[str, float]:
    """The ratios of one attempt: each pairs two steps measured one after the other."""
    def seconds(step: str) -> float:
        return results[step]["seconds"]

    ratios = {}
    if {"orchestrated_ingest", "ingest"} <= results.keys():
        ratios["orchestrated_ingest_vs_cli_ingest"] = round(seconds("orchestrated_ingest") / seconds("ingest"), 2)
    if {"make_run_phases", "ingest"} <= results.keys():
        ratios["make_run_ingest_phase_vs_cli_ingest"] = round(results["make_run_phases"]["ingest"] / seconds("ingest"), 2)
    if {"orchestrated", "ingest", "dbt_build", "validate"} <= results.keys():
        bare = sum(seconds(k) for k in ("ingest", "dbt_build", "validate"))
        ratios["orchestrated_vs_bare_steps"] = round(seconds("orchestrated") / bare, 2)
    if {"spread_history", "orchestrated_ingest"} <= results.keys():
        ratios["spread_history_vs_short_span"] = round(seconds("spread_history") / seconds("orchestrated_ingest"), 2)
    if {"ingest", "bare_read"} <= results.keys():
        ratios["ingest_vs_bare_read"] = round(seconds("ingest") / seconds("bare_read"), 2)
    if {"dbt_build", "plain_sql"} <= results.keys():
        ratios["dbt_build_vs_plain_sql"] = round(seconds("dbt_build") / seconds("plain_sql"), 2)
        ratios["dbt_run_vs_plain_sql"] = round(seconds("dbt_run") / seconds("plain_sql"), 2)
    if {"validate", "dbt_build"} <= results.keys():
        ratios["validate_vs_dbt_build"] = round(seconds("validate") / seconds("dbt_build"), 2)
    return ratios


def median_steps(attempts: list[dict[str, dict]]) -> dict[str, dict]:
    """Per step, its median time over the attempts and its highest peak RSS; make run's phases
    from the attempt whose run took the median time."""
    steps: dict[str, dict] = {}
    for step in dict.fromkeys(k for results in attempts for k in results if k != "make_run_phases"):
        measured = [results[step] for results in attempts if step in results]
        steps[step] = {**measured[0], "seconds": statistics.median(m["seconds"] for m in measured),
                       "peak_rss_mb": max(m["peak_rss_mb"] for m in measured)}
        if len(measured) > 1:
            steps[step]["runs_seconds"] = [m["seconds"] for m in measured]
    runs = sorted((results for results in attempts if "make_run_phases" in results),
                  key=lambda results: results["orchestrated"]["seconds"])
    if runs:
        steps["make_run_phases"] = runs[(len(runs) - 1) // 2]["make_run_phases"]
    return steps


def compare_engines(args: argparse.Namespace) -> int:
    """DuckDB and Spark, stage by stage, on the same ingested landing folder (docs/spark.md)."""
    from bench.proctree import run_measured
    from orchestration import engines

    workdir = args.workdir / f"scale-{args.scale}"
    landing, warehouse = workdir / "landing", workdir / "warehouse.duckdb"
    spark_wh, spark_dir = workdir / "spark" / "warehouse.duckdb", workdir / "spark" / "spark"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("O2C_")},
           "O2C_LANDING_DIR": str(landing), "O2C_WAREHOUSE": str(warehouse), "PYTHONPATH": str(REPO_ROOT)}
    spark_env = {**env, "O2C_WAREHOUSE": str(spark_wh), **engines.spark_env(spark_dir)}
    dbt_args = ["--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT), "--quiet"]
    results: dict[str, dict] = {}

    def step(name: str, cmd: list[str], step_env: dict[str, str]) -> None:
        print(f">> bench: {name}: {' '.join(cmd[:6])}{' …' if len(cmd) > 6 else ''}", flush=True)
        code, seconds, peaks = run_measured(cmd, step_env, REPO_ROOT)
        # validate exits 1 when a blocking expectation fails: still a measurement (compared below)
        if code != 0 and not (name.endswith("_validate") and code == 1):
            raise SystemExit(f"bench step {name} failed with exit code {code}: {' '.join(cmd)}")
        results[name] = {"seconds": round(seconds, 2), **peaks}
        print(f"   {name}: {results[name]}", flush=True)

    if not (landing / "oms").is_dir():
        step("simulate", [PY, "-m", "ingest.simulate", "--orders", str(args.scale), "--days", str(args.days),
                          "--seed", str(args.seed), "--out", str(landing), "--quiet",
                          *(["--no-truth"] if args.scale > 100_000 else [])], env)
    warehouse.unlink(missing_ok=True)
    step("ingest", [PY, "-m", "ingest", "--landing", str(landing), "--warehouse", str(warehouse), "--no-progress"], env)
    shutil.rmtree(spark_wh.parent, ignore_errors=True)
    spark_wh.parent.mkdir(parents=True)
    shutil.copy(warehouse, spark_wh)  # both engines start from the same raw tables
    step("duckdb_dbt_build", [DBT, "build", *dbt_args], env)
    step("duckdb_validate", [PY, "-m", "expectations.validate", "--warehouse", str(warehouse), "--no-docs"], env)
    step("spark_export", [PY, "-m", "ingest.parquet_export", "--warehouse", str(spark_wh), "--out", str(spark_dir)], spark_env)
    step("spark_dbt_build", [DBT, "build", *dbt_args, "--target-path", str(spark_dir / "target")], spark_env)
    step("spark_load", [PY, "-c", "import sys; from pathlib import Path; from orchestration import engines; "
                        "engines.load_spark_build(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))",
                        str(spark_wh), str(spark_dir), str(spark_dir / "target" / "manifest.json")], spark_env)
    step("spark_validate", [PY, "-m", "expectations.validate", "--warehouse", str(spark_wh), "--no-docs"], spark_env)

    from tests.spark.parity import compare_marts

    differences = {t: d for t, d in compare_marts(warehouse, spark_wh).items() if d}
    measured_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    rows = [("ingest (shared, DuckDB)", "ingest", "ingest"), ("raw -> Parquet", None, "spark_export"),
            ("dbt build (models + tests)", "duckdb_dbt_build", "spark_dbt_build"),
            ("Spark tables -> DuckDB", None, "spark_load"), ("validate (every suite)", "duckdb_validate", "spark_validate")]

    def cell(key: str | None) -> str:
        if key is None:
            return "-"
        r = results[key]
        jvm = f", JVM {r['peak_jvm_rss_mb']:.0f}" if r["peak_jvm_rss_mb"] else ""
        return f"{r['seconds']:.1f} s / {r['peak_tree_rss_mb']:.0f} MB{jvm}"

    print(f"\n{'stage':<28} {'duckdb':<24} {'spark':<36}")
    for label, duck_key, spark_key in rows:
        print(f"{label:<28} {cell(duck_key):<24} {cell(spark_key):<36}")
    totals = {"duckdb": sum(results[k]["seconds"] for k in ("ingest", "duckdb_dbt_build", "duckdb_validate")),
              "spark": sum(results[k]["seconds"] for k in ("ingest", "spark_export", "spark_dbt_build", "spark_load",
                                                             "spark_validate"))}
    print(f"{'total':<28} {totals['duckdb']:<24.1f} {totals['spark']:<36.1f}")
    print(f"marts identical: {not differences}" + (f" (differences in {sorted(differences)})" if differences else ""))
    report = {"scale": args.scale, "days": args.days, "seed": args.seed, "measured_at": measured_at,
              "machine": f"{os.cpu_count()} cores", "load_average_at_end": os.getloadavg(),
              "steps": results, "totals_seconds": {k: round(v, 2) for k, v in totals.items()},
              "marts_identical": not differences, "counts": _record_counts(warehouse)}
    out = RESULTS_DIR / f"bench-{args.scale}-spark.json"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f">> bench: results written to {out.relative_to(REPO_ROOT)}")
    return 0 if not differences else 1


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
