"""Alerts through Apprise to a real webhook on 127.0.0.1: each trigger sends once, nothing is sent
when nothing is new, a dead webhook never fails anything."""
from __future__ import annotations

import logging

import duckdb
import pytest

from orchestration import alerts
from orchestration.publish import PUBLISHED_FILE, publish
from tests.orchestration.test_publish import make_warehouse
from tests.orchestration.webhook import Webhook, closed_port_url


@pytest.fixture
def webhook(monkeypatch):
    with Webhook() as hook:
        monkeypatch.setenv(alerts.ALERT_URLS_ENV, hook.url)
        yield hook


def _publish_and_alert(warehouse, out, run_id):
    """What the publish asset does around publish(): compare high-severity exceptions and alert."""
    previous = alerts.high_severity_exceptions(out / PUBLISHED_FILE)
    result = publish(warehouse, out, run_id=run_id, as_of="2026-11-15T00:00:00Z", check_summary={})
    alert = alerts.new_high_severity_alert(previous, alerts.high_severity_exceptions(result.path), "2026-11-15")
    return alerts.send(alert) if alert else None


def _warehouse(path):
    """The publish tests' small warehouse, with the mart's CNY amount column."""
    warehouse = make_warehouse(path)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table marts.reconciliation_exceptions add column amount_at_risk_cny decimal(18,2)")
        con.execute("update marts.reconciliation_exceptions set amount_at_risk_cny = amount_at_risk")
    return warehouse


def test_new_high_severity_exceptions_alert_once_and_only_when_new(tmp_path, webhook):
    warehouse, out = _warehouse(tmp_path / "warehouse.duckdb"), tmp_path / "published"
    assert _publish_and_alert(warehouse, out, "r1") is True
    assert len(webhook.received) == 1
    first = webhook.received[0]
    assert first["title"] == "o2c: 2 new high-severity exceptions (1,333.50 CNY at risk)"
    assert "DUPLICATE_PAYMENT O00001: 1,234.50 CNY" in first["message"]

    assert _publish_and_alert(warehouse, out, "r2") is None  # same exceptions: nothing new, nothing sent
    assert len(webhook.received) == 1

    with duckdb.connect(str(warehouse)) as con:
        con.execute("""insert into marts.reconciliation_exceptions values ('e9', 'CANCELLED_BUT_CAPTURED', 'O00009',
                       NULL, 'O00009', TIMESTAMP '2026-11-16', 'high', 10.00, 'CNY', '{}', 10.00)""")
    assert _publish_and_alert(warehouse, out, "r3") is True
    assert [m["title"] for m in webhook.received[1:]] == ["o2c: 1 new high-severity exceptions (10.00 CNY at risk)"]


def test_no_url_sends_nothing(monkeypatch):
    monkeypatch.delenv(alerts.ALERT_URLS_ENV, raising=False)
    assert alerts.send(alerts.Alert("t", "b", "run_failed")) is False


def test_a_dead_webhook_is_logged_and_never_raises(monkeypatch, caplog):
    monkeypatch.setenv(alerts.ALERT_URLS_ENV, closed_port_url())
    with caplog.at_level(logging.WARNING, logger="o2c.alerts"):
        assert alerts.send(alerts.Alert("o2c: run failed at x", "boom", "run_failed")) is False
    assert "was not delivered to ['json']" in caplog.text


def test_several_urls_one_dead_still_reach_the_live_one(monkeypatch):
    with Webhook() as live:
        monkeypatch.setenv(alerts.ALERT_URLS_ENV, f"{closed_port_url()}, {live.url}")
        alerts.send(alerts.Alert("o2c: publishing stopped", "checks failed", "publish_stopped"))
        assert [m["title"] for m in live.received] == ["o2c: publishing stopped"]


def test_a_failed_step_alerts_with_the_step_and_the_errors_first_line(webhook):
    import dagster as dg

    @dg.op
    def load_bank_file():
        raise RuntimeError("payments/bank/2026-11-02/statement.csv: disk full\nsecond line")

    @dg.job
    def broken():
        load_bank_file()

    instance = dg.DagsterInstance.ephemeral()
    result = broken.execute_in_process(instance=instance, raise_on_error=False)
    alert = alerts.run_failure_alert(instance, result.run_id)
    assert (alert.kind, alert.title) == ("run_failed", "o2c: run failed at load_bank_file")
    assert "RuntimeError: payments/bank/2026-11-02/statement.csv: disk full" in alert.body
    assert "second line" not in alert.body
    assert alerts.send(alert) and len(webhook.received) == 1


def test_a_held_release_alerts_with_the_whole_reason(webhook):
    """The publish step fails with the guard's reason (orchestration/assets/publish.py): the alert
    carries it whole, with what to do, and is sent once."""
    import dagster as dg

    from orchestration.release import HELD_PREFIX

    reason = (f"{HELD_PREFIX}: 300 order(s) changed and 0 exception(s) appeared or disappeared that no new record "
              "or the clock explains: 75.00% of 400 published orders (limit 2.00%, O2C_MAX_UNEXPLAINED_CHANGE); "
              "e.g. SO1, SO2, SO3. Inspect with `make diff`; if the change is intended, run again with "
              'O2C_RELEASE_OVERRIDE="<why>".')

    @dg.op
    def published_warehouse():
        raise dg.Failure(description=reason)

    @dg.job
    def held():
        published_warehouse()

    instance = dg.DagsterInstance.ephemeral()
    result = held.execute_in_process(instance=instance, raise_on_error=False)
    alert = alerts.run_failure_alert(instance, result.run_id)
    assert alert.kind == "release_held" and "published version was kept" in alert.title
    assert alert.body.endswith(reason)  # not cut at 300 characters: the way out is at the end
    assert alerts.send(alert) and len(webhook.received) == 1
    assert "make diff" in str(webhook.received[0])
