"""The runner: later order, accounting identity, idempotent re-runs, re-delivered files,
exact repeats across files, malformed files in the middle of a run, the spec's examples."""
from __future__ import annotations

import shutil
import threading

import duckdb
import pytest

from ingest import runner
from ingest.__main__ import main as cli_main
from tests.ingest.helpers import EXAMPLES_DIR, assert_identity, count, ingest, rejects, write

ORDER_LINE = ('{"order_id": "%s", "channel": "web", "customer_id": "C1", "customer_name": "n", '
              '"payment_terms": "prepaid", "currency": "CNY", "entry_source": "api", "status": "%s", '
              '"created_at": "2026-11-01T09:00:00+08:00", "updated_at": "%s", '
              '"lines": [{"line_no": 1, "sku": "S", "qty": 1, "unit_price": "1.00", "discount": "0.00"}], '
              '"shipping_fee": "0.00", "coupon_amount": "0.00", "points_amount": "0.00", "tax_rate": "0.13"}')


def order(order_id: str, status: str = "created", updated_at: str = "2026-11-01T09:00:00+08:00") -> str:
    return ORDER_LINE % (order_id, status, updated_at)


ALL_TABLES = ["ingest.files", "ingest.rejects"] + [
    f"raw.{table}" for tables in runner.RAW_TABLES.values() for table in tables]


def table_counts(con) -> dict[str, int]:
    return {table: count(con, table) for table in ALL_TABLES}


def test_spec_examples_load_with_zero_rejects(con):
    summaries = runner.ingest_all(con, EXAMPLES_DIR, progress=False)
    assert rejects(con) == []
    assert all(f.status == "loaded" for s in summaries.values() for f in s.files)
    assert {t: n for t, n in table_counts(con).items() if t.startswith("raw.")} == {
        "raw.oms_orders": 4, "raw.oms_order_lines": 6, "raw.oms_order_events": 9,
        "raw.payments_gateway_transactions": 2, "raw.payments_bank_statement_lines": 3, "raw.payments_payouts": 1,
        "raw.wms_shipments": 2, "raw.wms_shipment_items": 3, "raw.wms_tracking_events": 5,
        "raw.erp_invoices": 2, "raw.erp_invoice_lines": 2, "raw.reference_fx_rates": 2,
        "raw.finance_resolutions": 0,  # the contract examples hold no finance decision
    }
    assert count(con, "ingest.files") == 9
    assert_identity(con)


def test_rerun_on_unchanged_landing_changes_nothing(con, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(EXAMPLES_DIR, landing)
    write(landing, "oms/orders/2026-11-02/bad.jsonl", "not json\n" + order("SO9") + "\n")
    runner.ingest_all(con, landing, progress=False)
    before = table_counts(con)
    snapshot = con.execute("SELECT * FROM ingest.files ORDER BY file_path").fetchall()

    again = runner.ingest_all(con, landing, progress=False)

    assert table_counts(con) == before
    assert con.execute("SELECT * FROM ingest.files ORDER BY file_path").fetchall() == snapshot
    assert {f.status for s in again.values() for f in s.files} == {"unchanged"}
    assert sum(s.records_read for s in again.values()) == 0


def test_redelivered_file_under_another_name_or_day_is_skipped_whole(con, landing):
    content = order("SO1") + "\n" + order("SO2") + "\nbroken\n"
    write(landing, "oms/orders/2026-11-01/orders_0001.jsonl", content)
    write(landing, "oms/orders/2026-11-01/orders_0001_copy.jsonl", content)
    write(landing, "oms/orders/2026-11-03/resent.jsonl", content)
    summary = ingest(con, landing, "oms/orders")

    assert [(f.status, f.records_read, f.records_loaded, f.records_quarantined, f.repeats_skipped)
            for f in summary.files] == [("loaded", 3, 2, 1, 0), ("duplicate_file", 3, 0, 0, 3), ("duplicate_file", 3, 0, 0, 3)]
    assert con.execute("SELECT DISTINCT duplicate_of FROM ingest.files WHERE status = 'duplicate_file'").fetchall() == [
        ("oms/orders/2026-11-01/orders_0001.jsonl",)]
    assert count(con, "raw.oms_orders") == 2
    assert len(rejects(con)) == 1
    assert_identity(con)


def test_exact_repeats_are_skipped_changed_versions_kept_in_later_order(con, landing):
    first = order("SO1")
    update = order("SO1", "approved", "2026-11-02T10:00:00+08:00")
    write(landing, "oms/orders/2026-11-02/b.jsonl", update + "\n" + first + "\n")  # later day, written first
    write(landing, "oms/orders/2026-11-01/b.jsonl", first + "\n")
    write(landing, "oms/orders/2026-11-01/a.jsonl", first + "\n" + order("SO2") + "\n")
    summary = ingest(con, landing, "oms/orders")

    assert [(f.file_path, f.records_loaded, f.repeats_skipped) for f in summary.files] == [
        ("oms/orders/2026-11-01/a.jsonl", 2, 0),
        ("oms/orders/2026-11-01/b.jsonl", 0, 1),
        ("oms/orders/2026-11-02/b.jsonl", 1, 1),
    ]
    versions = con.execute(
        """SELECT order_id, status, _export_date::VARCHAR, _file_path, _record_no FROM raw.oms_orders
           ORDER BY _export_date, _file_path, _record_no"""
    ).fetchall()
    assert versions == [
        ("SO1", "created", "2026-11-01", "oms/orders/2026-11-01/a.jsonl", 1),
        ("SO2", "created", "2026-11-01", "oms/orders/2026-11-01/a.jsonl", 2),
        ("SO1", "approved", "2026-11-02", "oms/orders/2026-11-02/b.jsonl", 1),
    ]
    lineage = con.execute(
        """SELECT count(*) FROM raw.oms_orders WHERE _system = 'oms' AND _source = 'oms/orders'
           AND length(_file_sha256) = 64 AND _record_hash IS NOT NULL AND _loaded_at IS NOT NULL"""
    ).fetchone()[0]
    assert lineage == 3
    assert_identity(con)


def test_malformed_file_does_not_stop_the_run(con, landing):
    write(landing, "erp/invoices/2026-11-01/a.xml", "<InvoiceBatch><Invoice>")
    write(landing, "oms/orders/2026-11-01/a.jsonl", b"\xff" + order("SO1").encode() + b"\n")
    write(landing, "oms/orders/2026-11-01/b.jsonl", order("SO2") + "\n")
    shutil.copytree(EXAMPLES_DIR / "erp", landing / "erp", dirs_exist_ok=True)
    summaries = runner.ingest_all(con, landing, progress=False)

    assert [r[:3] for r in rejects(con)] == [("erp/invoices/2026-11-01/a.xml", 0, "malformed_file"),
                                            ("oms/orders/2026-11-01/a.jsonl", 0, "malformed_file")]
    assert [m.split(":")[0] for m in summaries["erp/invoices"].malformed_files] == ["erp/invoices/2026-11-01/a.xml"]
    assert count(con, "raw.erp_invoices") == 2
    assert count(con, "raw.oms_orders") == 1
    assert runner.summary_metadata(summaries["oms/orders"])["files_malformed"] == 1
    assert_identity(con)


def test_export_dates_filter_and_forget_for_reload(con, landing):
    write(landing, "oms/orders/2026-11-01/a.jsonl", order("SO1") + "\n")
    write(landing, "oms/orders/2026-11-02/a.jsonl", order("SO2") + "\nbad\n")
    write(landing, "oms/orders/not-a-date/a.jsonl", order("SO3") + "\n")
    ingest(con, landing, "oms/orders", export_dates=["2026-11-02"])
    assert con.execute("SELECT order_id FROM raw.oms_orders").fetchall() == [("SO2",)]

    runner.forget_export_dates(con, "oms/orders", ["2026-11-02"])
    assert count(con, "raw.oms_orders") == 0 and rejects(con) == [] and count(con, "ingest.files") == 0

    summary = ingest(con, landing, "oms/orders")
    assert [f.status for f in summary.files] == ["loaded", "loaded"]  # the not-a-date folder is no export
    assert sorted(con.execute("SELECT order_id FROM raw.oms_orders").fetchall()) == [("SO1",), ("SO2",)]
    assert_identity(con)


def test_empty_landing_still_creates_every_raw_table(con, landing):
    summaries = runner.ingest_all(con, landing, progress=False)
    assert all(not s.files for s in summaries.values())
    assert set(table_counts(con)) == set(ALL_TABLES)


def test_cli_ingests_a_landing_folder_and_releases_the_file(tmp_path, capsys):
    warehouse = tmp_path / "warehouse.duckdb"
    assert cli_main(["--landing", str(EXAMPLES_DIR), "--warehouse", str(warehouse), "--no-progress"]) == 0
    assert "oms/orders" in capsys.readouterr().out
    with duckdb.connect(str(warehouse)) as con:  # the CLI closed its connection
        assert count(con, "raw.oms_orders") == 4
        assert count(con, "ingest.rejects") == 0


def test_loader_crash_stops_the_run_without_partial_files(con, landing, monkeypatch):
    for day in ("01", "02", "03"):
        write(landing, f"oms/orders/2026-11-{day}/a.jsonl", order(f"SO{day}") + "\n")
    real_loader = runner.LOADERS["oms/orders"]

    def crash_on_second_day(cursor, path, into=None):
        if "2026-11-02" in str(path):
            raise RuntimeError("loader bug")
        return real_loader(cursor, path, into=into)

    monkeypatch.setitem(runner.LOADERS, "oms/orders", crash_on_second_day)
    with pytest.raises(RuntimeError) as raised:
        ingest(con, landing, "oms/orders")
    assert str(raised.value) == "loader bug"
    assert con.execute("SELECT file_path FROM ingest.files").fetchall() == [("oms/orders/2026-11-01/a.jsonl",)]
    assert con.execute("SELECT order_id FROM raw.oms_orders").fetchall() == [("SO01",)]

    monkeypatch.setitem(runner.LOADERS, "oms/orders", real_loader)
    summary = ingest(con, landing, "oms/orders")  # the next run picks up where it stopped
    assert [f.status for f in summary.files] == ["unchanged", "loaded", "loaded"]
    assert_identity(con)


def test_one_worker_and_two_workers_give_the_same_result(tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(EXAMPLES_DIR, landing)
    first = EXAMPLES_DIR / "oms/orders/2026-11-01/orders_0001.jsonl"
    write(landing, "oms/orders/2026-11-01/orders_0002.jsonl", first.read_bytes())  # same bytes, concurrent
    write(landing, "oms/orders/2026-11-02/orders_0001.jsonl", first.read_text().splitlines()[0] + "\n")
    results = []
    for workers in (1, 2):
        with duckdb.connect() as con:
            runner.ingest_all(con, landing, progress=False, workers=workers)
            results.append((
                con.execute("SELECT file_path, status, records_read, records_loaded, records_quarantined, "
                            "repeats_skipped, duplicate_of FROM ingest.files ORDER BY file_path").fetchall(),
                con.execute("SELECT order_id, status, _file_path, _record_no FROM raw.oms_orders ORDER BY ALL").fetchall(),
            ))
    assert results[0] == results[1]
    files = {row[0]: row for row in results[0][0]}
    assert files["oms/orders/2026-11-01/orders_0002.jsonl"][1] == "duplicate_file"
    assert files["oms/orders/2026-11-02/orders_0001.jsonl"][3:6] == (0, 0, 1)  # an exact repeat


@pytest.mark.parametrize("batch_bytes", [1, 1 << 30], ids=["one_file_per_batch", "one_batch"])
def test_repeats_are_found_the_same_within_a_batch_and_across_batches(con, landing, monkeypatch, batch_bytes):
    monkeypatch.setattr(runner, "BATCH_BYTES", batch_bytes)
    first, update = order("SO1"), order("SO1", "approved", "2026-11-02T10:00:00+08:00")
    write(landing, "oms/orders/2026-11-01/a.jsonl", f"{first}\n{first}\n{order('SO2')}\n")  # repeat in the file
    write(landing, "oms/orders/2026-11-01/b.jsonl", f"{order('SO2')}\n{update}\nbroken\n")  # from file a
    write(landing, "oms/orders/2026-11-02/a.jsonl", f"{update}\n{first}\n{order('SO3')}\n")  # from a and b
    summary = ingest(con, landing, "oms/orders")

    assert [(f.file_path, f.records_loaded, f.records_quarantined, f.repeats_skipped) for f in summary.files] == [
        ("oms/orders/2026-11-01/a.jsonl", 2, 0, 1),
        ("oms/orders/2026-11-01/b.jsonl", 1, 1, 1),
        ("oms/orders/2026-11-02/a.jsonl", 1, 0, 2),
    ]
    assert con.execute("SELECT _file_path, _record_no FROM raw.oms_order_lines ORDER BY ALL").fetchall() == [
        ("oms/orders/2026-11-01/a.jsonl", 1), ("oms/orders/2026-11-01/a.jsonl", 3),
        ("oms/orders/2026-11-01/b.jsonl", 2), ("oms/orders/2026-11-02/a.jsonl", 3),
    ]
    assert_identity(con)


def test_copy_of_a_file_earlier_in_the_same_run_is_not_loaded_again(con, landing, monkeypatch):
    content = order("SO1") + "\nbroken\n"
    for name in ("2026-11-01/a.jsonl", "2026-11-01/b.jsonl", "2026-11-02/a.jsonl"):
        write(landing, f"oms/orders/{name}", content)
    loaded_paths = []
    real_loader = runner.LOADERS["oms/orders"]

    def counting_loader(cursor, path, into=None):
        loaded_paths.append(path.relative_to(landing).as_posix())
        return real_loader(cursor, path, into=into)

    monkeypatch.setitem(runner.LOADERS, "oms/orders", counting_loader)
    summary = ingest(con, landing, "oms/orders", workers=2)

    assert loaded_paths == ["oms/orders/2026-11-01/a.jsonl"]
    assert [(f.status, f.records_read, f.records_loaded, f.records_quarantined, f.repeats_skipped)
            for f in summary.files] == [("loaded", 2, 1, 1, 0), ("duplicate_file", 2, 0, 0, 2), ("duplicate_file", 2, 0, 0, 2)]
    assert_identity(con)


def test_all_sources_at_once_equal_one_source_after_another(tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(EXAMPLES_DIR, landing)
    write(landing, "oms/orders/2026-11-02/orders_0001.jsonl", order("SO9") + "\nbroken\n")
    results = []
    for overlapping in (True, False):
        with duckdb.connect() as con:
            if overlapping:
                runner.ingest_all(con, landing, progress=False)
            else:
                for source in runner.LOADERS:
                    runner.ingest_source(con, landing, source, progress=False)
            results.append({table: con.execute(f"SELECT * EXCLUDE (_loaded_at) FROM {table} ORDER BY ALL").fetchall()
                            for table in ALL_TABLES if table.startswith("raw.")})
            results[-1]["files"] = con.execute(
                "SELECT * EXCLUDE (loaded_at) FROM ingest.files ORDER BY file_path").fetchall()
    assert results[0] == results[1]
    assert len(results[0]["files"]) == 10  # the 9 example files (revision 2: a payout report) and the extra orders file


def test_a_source_that_fails_to_load_stops_the_run_before_the_next_source(con, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    shutil.copytree(EXAMPLES_DIR, landing)

    def crash(cursor, path, into=None):
        raise RuntimeError("loader bug")

    monkeypatch.setitem(runner.LOADERS, "oms/order_events", crash)  # the second largest source: run second
    with pytest.raises(RuntimeError) as raised:
        runner.ingest_all(con, landing, progress=False)
    assert str(raised.value) == "loader bug"
    assert con.execute("SELECT DISTINCT source FROM ingest.files").fetchall() == [("oms/orders",)]
    assert count(con, "raw.oms_orders") == 4  # the first source is written whole


def test_sources_run_largest_first_and_are_reported_in_spec_order(con, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    shutil.copytree(EXAMPLES_DIR, landing)
    big = (EXAMPLES_DIR / "wms/tracking/2026-11-02/tracking_0001.jsonl").read_text() * 10
    write(landing, "wms/tracking/2026-11-03/tracking_0001.jsonl", big)  # now the largest source
    started = []
    for source, loader in list(runner.LOADERS.items()):
        def recording_loader(cursor, path, into=None, source=source, loader=loader):
            if source not in started:
                started.append(source)
            return loader(cursor, path, into=into)
        monkeypatch.setitem(runner.LOADERS, source, recording_loader)

    summaries = runner.ingest_all(con, landing, progress=False)

    def source_bytes(source):
        return sum(p.stat().st_size for p in (landing / source).rglob("*") if p.is_file())

    assert started[0] == "wms/tracking"
    assert started == sorted(started, key=source_bytes, reverse=True)
    assert list(summaries) == list(runner.LOADERS)  # SOURCES order
    assert_identity(con)


def test_a_source_is_written_while_the_next_one_loads(con, tmp_path, monkeypatch):
    # Once every file of a source is loaded, its writer starts on the last batch at once (the
    # only batch here) instead of when the next source is done loading.
    landing = tmp_path / "landing"
    shutil.copytree(EXAMPLES_DIR, landing)
    orders_written = threading.Event()
    real_write_file = runner._write_file

    def signalling_write_file(cursor, source, *args):
        real_write_file(cursor, source, *args)
        if source == "oms/orders":
            orders_written.set()

    seen_while_loading = []
    real_events_loader = runner.LOADERS["oms/order_events"]  # runs right after oms/orders

    def waiting_events_loader(cursor, path, into=None):
        seen_while_loading.append(orders_written.wait(timeout=20))
        return real_events_loader(cursor, path, into=into)

    monkeypatch.setattr(runner, "_write_file", signalling_write_file)
    monkeypatch.setitem(runner.LOADERS, "oms/order_events", waiting_events_loader)
    runner.ingest_all(con, landing, progress=False)

    assert seen_while_loading == [True]
    assert count(con, "raw.oms_order_events") == 9
    assert_identity(con)


def test_a_failed_write_of_a_source_still_finishes_the_next_one(con, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    shutil.copytree(EXAMPLES_DIR, landing)
    real_persist = runner._persist

    def fail_for_orders(cursor, source, *args):
        if source == "oms/orders":
            raise RuntimeError("write failed")
        return real_persist(cursor, source, *args)

    monkeypatch.setattr(runner, "_persist", fail_for_orders)
    with pytest.raises(RuntimeError) as raised:
        runner.ingest_all(con, landing, progress=False)
    assert str(raised.value) == "write failed"
    # the next source, already loading when the failure came, was finished: no scratch is left
    assert con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name LIKE '_ingest_scratch%'"
                       ).fetchone()[0] == 0
    assert count(con, "raw.oms_orders") == 0

    monkeypatch.setattr(runner, "_persist", real_persist)
    runner.ingest_all(con, landing, progress=False)
    assert count(con, "raw.oms_orders") == 4
    assert_identity(con)


def test_write_failure_in_a_batch_commits_the_files_before_it(con, landing, monkeypatch):
    for day in ("01", "02", "03"):
        write(landing, f"oms/orders/2026-11-{day}/a.jsonl", order(f"SO{day}") + "\n")
    real_persist = runner._persist

    def fail_on_second_day(cursor, source, staged, lineage, *repeats):
        if "2026-11-02" in lineage[2]:
            raise RuntimeError("write failed")
        return real_persist(cursor, source, staged, lineage, *repeats)

    monkeypatch.setattr(runner, "_persist", fail_on_second_day)
    with pytest.raises(RuntimeError) as raised:
        ingest(con, landing, "oms/orders")
    assert str(raised.value) == "write failed"
    assert con.execute("SELECT file_path FROM ingest.files").fetchall() == [("oms/orders/2026-11-01/a.jsonl",)]
    assert con.execute("SELECT order_id FROM raw.oms_orders").fetchall() == [("SO01",)]
    assert count(con, "ingest.rejects") == 0

    monkeypatch.setattr(runner, "_persist", real_persist)
    summary = ingest(con, landing, "oms/orders")
    assert [f.status for f in summary.files] == ["unchanged", "loaded", "loaded"]
    assert_identity(con)


def test_run_restores_the_thread_setting(con, tmp_path):
    before = con.execute("SELECT current_setting('threads')").fetchone()[0]
    runner.ingest_all(con, EXAMPLES_DIR, progress=False, workers=2)
    assert con.execute("SELECT current_setting('threads')").fetchone()[0] == before


def test_record_hash_stored_as_hex_text_by_an_earlier_version_is_migrated(con, landing):
    # An earlier version kept _record_hash as md5 hex text; the next run converts it in place,
    # so a record loaded back then is still recognised as an exact repeat.
    text = order("SO1")
    columns = runner.RAW_TABLES["oms/orders"]["oms_orders"]
    con.execute("CREATE SCHEMA raw")
    con.execute(f"""CREATE TABLE raw.oms_orders ({', '.join(f'"{c}" VARCHAR' for c in columns)},
        _system VARCHAR, _source VARCHAR, _file_path VARCHAR, _export_date DATE, _record_no INTEGER,
        _file_sha256 VARCHAR, _record_hash VARCHAR, _loaded_at TIMESTAMP)""")
    con.execute("INSERT INTO raw.oms_orders (order_id, _record_no, _record_hash) VALUES ('SO1', 1, md5(?))", [text])
    write(landing, "oms/orders/2026-11-01/a.jsonl", text + "\n" + order("SO2") + "\n")

    summary = ingest(con, landing, "oms/orders")

    assert con.execute("""SELECT data_type FROM duckdb_columns() WHERE table_name = 'oms_orders'
                          AND column_name = '_record_hash'""").fetchone() == ("UHUGEINT",)
    assert (summary.records_loaded, summary.repeats_skipped) == (1, 1)
    assert con.execute("SELECT count(DISTINCT _record_hash) FROM raw.oms_orders WHERE order_id = 'SO1'").fetchone() == (1,)
    assert con.execute("SELECT _record_hash = md5_number(?) FROM raw.oms_orders WHERE order_id = 'SO2'", [order("SO2")]).fetchone() == (True,)


def test_files_no_loader_reads_are_listed(landing):
    """Issue 15: a misspelled folder, a folder that is not a date, a file outside or below its date
    folder, a hidden file are reported; files the loaders read and `_`-prefixed tool folders are not."""
    read = ["oms/orders/2026-11-01/orders.jsonl", "reference/fx_rates/fx.csv"]
    unread = ["payment/gateway/2026-11-01/txns.csv", "oms/orders/2026-13-01/orders.jsonl",
              "oms/orders/orders.jsonl", "oms/orders/2026-11-01/old/orders.jsonl", "oms/orders/2026-11-01/.orders.jsonl",
              "README.txt"]
    for path in read + unread + ["_ground_truth/exceptions.csv"]:
        write(landing, path, "x\n")
    assert runner.unread_files(landing) == sorted(unread)
