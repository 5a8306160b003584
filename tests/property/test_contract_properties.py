"""Properties that hold for ANY contract-valid landing folder (docs/contract/sources.md), on folders
Hypothesis generates to vary every freedom the contract allows (tests/property/landing.py):
every record is loaded or quarantined with a reason (and a valid folder quarantines nothing),
every dbt test passes, the journal balances, and mart keys are unique."""
from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings

from ingest import runner
from tests.dbt.conftest import build_warehouse, query
from tests.property.landing import landings

FAST = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
# each example runs a real dbt build (about 15 s here): few, fixed examples
SLOW = settings(max_examples=5, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(landings())
def test_every_record_of_a_valid_folder_is_loaded_and_accounted(landing):
    with tempfile.TemporaryDirectory() as tmp:
        root = landing.write(Path(tmp) / "landing")
        with duckdb.connect() as con:
            runner.ingest_all(con, root, progress=False)
            rejects = con.execute("select file_path, record_no, reason from ingest.rejects").fetchall()
            assert rejects == [], f"a contract-valid folder was quarantined: {rejects[:5]}"
            unbalanced = con.execute("""
                select file_path from ingest.files
                where records_read <> records_loaded + records_quarantined + repeats_skipped""").fetchall()
            assert unbalanced == []
            delivered = {p for p in landing.files}
            recorded = {r[0] for r in con.execute("select file_path from ingest.files").fetchall()}
            assert recorded == delivered, "every delivered file is accounted for"
            partitions = {r[0] for r in con.execute(
                "select distinct cast(export_date as varchar) from ingest.files where export_date is not null").fetchall()}
            assert partitions <= set(landing.export_dates)


MART_KEYS = {
    "marts.order_ledger": "order_id",
    "marts.ledger_entries": "entry_id || '#' || line_no",
    "marts.order_events": "order_event_id",
    "marts.reconciliation_exceptions": "exception_id",
    "marts.gateway_payouts": "payout_id",
    "marts.cash_matching_daily": "cast(value_date as varchar) || system",
}


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory) -> Path:
    """One work folder for every example's build: the same warehouse path each time lets dbt
    reuse its parse state (target/partial_parse.msgpack) instead of parsing the project again."""
    return tmp_path_factory.mktemp("property_builds")


@pytest.mark.slow
@SLOW
@given(landing=landings())
def test_a_valid_folder_builds_balances_and_keeps_keys_unique(build_dir, landing):
    for leftover in ("warehouse.duckdb", "warehouse.duckdb.wal"):  # each example starts from nothing
        (build_dir / leftover).unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = landing.write(Path(tmp) / "landing")
        warehouse, run = build_warehouse(root, build_dir)
        assert run.returncode == 0, run.output[-5000:]
        assert query(warehouse, """
            select entry_id from marts.ledger_entries group by entry_id
            having sum(debit) <> sum(credit) or sum(debit_cny) <> sum(credit_cny)""") == []
        assert query(warehouse, "select sum(debit) - sum(credit) from marts.ledger_entries") in ([(0,)], [(None,)])
        for table, key in MART_KEYS.items():
            duplicated = query(warehouse, f"select {key} from {table} group by all having count(*) > 1")
            assert duplicated == [], (table, duplicated[:5])
        assert query(warehouse, "select count(*) from marts.order_ledger")[0][0] >= 1
