"""The whole chain on simulated data: simulate -> ingest_all -> dbt build, then
marts.reconciliation_exceptions must equal the simulator's ground truth exactly
(precision and recall 1.0 for every exception type)."""
from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from tests.dbt.conftest import query


def read_truth(landing: Path) -> set[tuple[str, str]]:
    with open(landing / "_ground_truth" / "exceptions.csv", newline="", encoding="utf-8") as handle:
        return {(row["exception_type"], row["key"]) for row in csv.DictReader(handle)}


def compare(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> tuple[bool, str]:
    """Per-type precision / recall, with sample keys of every miss and false alarm."""
    types = sorted({t for t, _ in found | truth})
    by_type_found, by_type_truth = defaultdict(set), defaultdict(set)
    for t, k in found:
        by_type_found[t].add(k)
    for t, k in truth:
        by_type_truth[t].add(k)
    lines, perfect = [], True
    for t in types:
        f, g = by_type_found[t], by_type_truth[t]
        tp = len(f & g)
        precision = tp / len(f) if f else 1.0
        recall = tp / len(g) if g else 1.0
        line = f"{t:<32} truth={len(g):>4} found={len(f):>4} precision={precision:.3f} recall={recall:.3f}"
        if precision < 1.0 or recall < 1.0:
            perfect = False
            line += f"  missed={sorted(g - f)[:5]} false_alarms={sorted(f - g)[:5]}"
        lines.append(line)
    return perfect, "\n".join(lines)


@pytest.mark.slow
def test_simulated_dbt_build_passes(simulated_build):
    _, _, run = simulated_build
    assert run.returncode == 0, run.output[-8000:]


@pytest.mark.slow
def test_simulated_exceptions_match_ground_truth(simulated_build):
    landing, warehouse, run = simulated_build
    assert run.returncode == 0, run.output[-8000:]
    truth = read_truth(landing)
    found = set(query(warehouse, "select exception_type, exception_key from marts.reconciliation_exceptions"))
    perfect, report = compare(found, truth)
    print(report)
    assert truth, "the simulator's ground truth is empty"
    assert perfect, "exceptions differ from the ground truth:\n" + report


@pytest.mark.slow
def test_simulated_journal_balances(simulated_build):
    _, warehouse, _ = simulated_build
    assert query(warehouse, """
        select entry_id from marts.ledger_entries group by entry_id
        having sum(debit) <> sum(credit) or sum(debit_cny) <> sum(credit_cny)""") == []


@pytest.mark.slow
def test_clean_simulation_yields_no_exception(clean_simulated_build):
    _, warehouse, run = clean_simulated_build
    assert run.returncode == 0, run.output[-8000:]
    rows = query(warehouse, "select exception_type, exception_key from marts.reconciliation_exceptions limit 20")
    assert rows == [], rows


@pytest.mark.slow
def test_sla_windows_are_dbt_vars(simulated_build, tmp_path):
    """Widening a window through --vars removes the exceptions it governs; the defaults are the spec's."""
    import shutil

    from tests.dbt.conftest import run_dbt

    _, warehouse, _ = simulated_build
    baseline = query(warehouse, "select count(*) from marts.reconciliation_exceptions where exception_type = 'STUCK_AWAITING_APPROVAL'")[0][0]
    assert baseline > 0
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    run = run_dbt(copy, ["run", "--select", "int_exceptions_detected+", "--vars", "{sla_approval_hours: 100000}"], tmp_path)
    assert run.returncode == 0, run.output[-4000:]
    assert query(copy, "select count(*) from marts.reconciliation_exceptions where exception_type = 'STUCK_AWAITING_APPROVAL'")[0][0] == 0
