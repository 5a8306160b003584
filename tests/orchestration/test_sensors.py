"""The landing sensor starts one run per changed export date, once."""
from __future__ import annotations

import json

import dagster as dg
import pytest

from orchestration.sensors import landing_folder_sensor


def _drop(landing, relative: str, text: str = "x\n") -> None:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


_INSTANCE: dict[str, dg.DagsterInstance] = {}


def _tick(cursor: str | None):
    context = dg.build_sensor_context(cursor=cursor, instance=_INSTANCE["current"])
    result = landing_folder_sensor(context)
    requests = [] if isinstance(result, dg.SkipReason) else list(result)
    return requests, context.cursor


@pytest.fixture
def instance():
    with dg.instance_for_test() as test_instance:
        _INSTANCE["current"] = test_instance
        yield test_instance


@pytest.fixture
def landing(tmp_path, monkeypatch, instance):
    monkeypatch.setenv("O2C_LANDING_DIR", str(tmp_path))
    return tmp_path


def test_new_day_is_picked_up_once(landing):
    _drop(landing, "oms/orders/2026-11-01/orders_0001.jsonl")
    requests, cursor = _tick(None)
    assert [r.partition_key for r in requests] == ["2026-11-01"]

    again, cursor = _tick(cursor)
    assert again == [], "an unchanged landing folder must not start another run"

    _drop(landing, "payments/gateway/2026-11-02/txns_0001.csv")
    requests, cursor = _tick(cursor)
    assert [r.partition_key for r in requests] == ["2026-11-02"]
    assert _tick(cursor)[0] == []


@pytest.mark.parametrize(
    "relative",
    [
        pytest.param("oms/orders/2026-11-01/orders_0002.jsonl", id="another-file-same-day"),
        pytest.param("erp/invoices/2026-11-01/invoices_redelivered.xml", id="other-system-same-day"),
    ],
)
def test_a_new_file_in_a_known_day_reruns_that_day(landing, relative):
    _drop(landing, "oms/orders/2026-11-01/orders_0001.jsonl")
    _, cursor = _tick(None)
    _drop(landing, relative)
    requests, cursor = _tick(cursor)
    assert [r.partition_key for r in requests] == ["2026-11-01"]
    assert len({r.run_key for r in requests}) == 1
    assert "2026-11-01" in json.loads(cursor)


def _dates_of(request) -> list[str]:
    if request.partition_key:
        return [request.partition_key]
    return [request.tags["dagster/asset_partition_range_start"], request.tags["dagster/asset_partition_range_end"]]


def test_several_new_days_start_one_run_over_their_range(landing):
    for day in ("2026-11-03", "2026-11-01", "2026-11-02"):
        _drop(landing, f"wms/shipments/{day}/shipments_0001.csv")
    requests, cursor = _tick(None)
    assert len(requests) == 1
    assert _dates_of(requests[0]) == ["2026-11-01", "2026-11-03"]
    assert _tick(cursor)[0] == []


def test_reference_files_alone_do_not_start_a_run(landing):
    _drop(landing, "reference/fx_rates/fx_2026-11.csv")
    requests, _ = _tick(None)
    assert requests == []


def test_export_dates_become_partitions_in_date_order_whatever_the_year(landing, instance):
    """Issue 11: partitions follow the data — years before 2025, gaps, a date ahead of the clock,
    and an older date arriving after newer ones all become partitions, kept in date order."""
    for day in ("2026-11-02", "2099-01-01"):
        _drop(landing, f"oms/orders/{day}/orders_0001.jsonl")
    _, cursor = _tick(None)
    assert instance.get_dynamic_partitions("export_date") == ["2026-11-02", "2099-01-01"]
    for day in ("2016-10-31", "2018-09-27"):
        _drop(landing, f"erp/invoices/{day}/invoices_0001.xml")
    requests, _ = _tick(cursor)
    assert instance.get_dynamic_partitions("export_date") == ["2016-10-31", "2018-09-27", "2026-11-02", "2099-01-01"]
    assert _dates_of(requests[0]) == ["2016-10-31", "2018-09-27"]


def test_a_folder_that_is_not_a_calendar_date_is_no_partition(landing, instance):
    _drop(landing, "oms/orders/2026-02-30/orders_0001.jsonl")
    _drop(landing, "oms/orders/2026-03-01/orders_0001.jsonl")
    requests, _ = _tick(None)
    assert instance.get_dynamic_partitions("export_date") == ["2026-03-01"]
    assert [r.partition_key for r in requests] == ["2026-03-01"]
