"""Alerts through Apprise (issue 12): one list of URLs in `O2C_ALERT_URLS` (e-mail, Slack, Teams,
webhooks `json://host/path`, …: https://github.com/caronc/apprise/wiki), separated by commas,
spaces or new lines.

Four triggers, each sent once:
- publishing stopped by blocking checks: which checks, how many offending rows;
- a release held by the release guard (orchestration/release.py): why, what to do;
- a run failed: which step, the error's first line;
- a publish brought new high-severity exceptions (not in the previously published version):
  how many, the amount at risk in CNY, the top few.
Nothing is sent when nothing is new, nor when no URL is configured. A failed notification is
logged (the URL's scheme only, never its secrets) and never fails the run.
"""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.release import HELD_PREFIX

ALERT_URLS_ENV = "O2C_ALERT_URLS"
TOP_EXCEPTIONS = 5
log = logging.getLogger("o2c.alerts")


@dataclass(frozen=True)
class Alert:
    title: str
    body: str
    kind: str  # publish_stopped | run_failed | release_held | new_high_severity


def alert_urls() -> list[str]:
    return [u for u in re.split(r"[\s,]+", os.environ.get(ALERT_URLS_ENV, "")) if u]


def send(alert: Alert, urls: list[str] | None = None) -> bool:
    """Send to every configured URL; False (and a log line) when nothing could be sent."""
    urls = alert_urls() if urls is None else urls
    if not urls:
        return False
    try:
        import apprise  # imported here: only runs that alert pay for it

        notifier = apprise.Apprise()
        for url in urls:
            if not notifier.add(url):
                log.warning("o2c alerts: ignoring an invalid %s:// URL in %s", url.split(":", 1)[0], ALERT_URLS_ENV)
        if len(notifier) == 0:
            return False
        sent = bool(notifier.notify(title=alert.title, body=alert.body,
                                    notify_type=apprise.NotifyType.FAILURE if alert.kind != "new_high_severity"
                                    else apprise.NotifyType.WARNING))
    except Exception as exc:  # noqa: BLE001 - an alert never fails the run
        log.warning("o2c alerts: sending %r failed: %s", alert.title, exc)
        return False
    if not sent:
        schemes = sorted({u.split(":", 1)[0] for u in urls})
        log.warning("o2c alerts: %r was not delivered to %s (see the Apprise log above)", alert.title, schemes)
    return sent


# ---------------------------------------------------------------- what happened in a run

def run_failure_alert(instance: dg.DagsterInstance, run_id: str) -> Alert | None:
    """Publishing stopped (a blocking check failed) or the run failed (a step raised)."""
    checks = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    blocking = []
    for record in checks:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            metadata = evaluation.metadata or {}
            count = getattr(metadata.get("unexpected_count"), "value", "?")
            failed = getattr(metadata.get("failed_expectations"), "value", "")
            blocking.append(f"- {'/'.join(evaluation.asset_key.path)} :: {evaluation.check_name}: "
                            f"{count} offending rows ({failed})")
    if blocking:
        return Alert(f"o2c: publishing stopped ({len(blocking)} blocking checks failed)",
                     "The published version was kept; these checks failed in run "
                     f"{run_id}:\n" + "\n".join(blocking), "publish_stopped")
    failures = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
    if not failures:
        return None
    event = failures[0].event_log_entry.dagster_event
    error = event.event_specific_data.error
    while error is not None and error.cause is not None:  # Dagster wraps it: the root cause says what went wrong
        error = error.cause
    message = ((error.message if error else "") or "unknown error").strip().splitlines()[0]
    if HELD_PREFIX in message:  # the guard's reason, whole: it says what to do
        return Alert("o2c: release held, the published version was kept",
                     f"Run {run_id}: {message[message.index(HELD_PREFIX):]}", "release_held")
    first_line = message[:300]
    return Alert(f"o2c: run failed at {event.step_key}", f"Run {run_id} failed at step {event.step_key}: {first_line}",
                 "run_failed")


def high_severity_exceptions(db_path: Path, read_only: bool = True) -> dict[str, tuple]:
    """exception_id -> (type, key, amount_at_risk_cny) of the high-severity exceptions of a file."""
    if not Path(db_path).exists():
        return {}
    with duckdb.connect(str(db_path), read_only=read_only) as con:
        rows = con.execute("""
            select exception_id, exception_type, exception_key, coalesce(amount_at_risk_cny, 0)
            from marts.reconciliation_exceptions where severity = 'high'""").fetchall()
    return {row[0]: row[1:] for row in rows}


def new_high_severity_alert(previous: dict[str, tuple], current: dict[str, tuple], as_of) -> Alert | None:
    new = sorted((current[k] for k in current.keys() - previous.keys()), key=lambda r: (-r[2], r[0], r[1]))
    if not new:
        return None
    amount = sum(r[2] for r in new)
    top = "\n".join(f"- {t} {key}: {a:,.2f} CNY" for t, key, a in new[:TOP_EXCEPTIONS])
    return Alert(f"o2c: {len(new)} new high-severity exceptions ({amount:,.2f} CNY at risk)",
                 f"Published as of {as_of} UTC. Top {min(len(new), TOP_EXCEPTIONS)} by amount:\n{top}",
                 "new_high_severity")


@dg.run_failure_sensor(
    name="o2c_run_failure_alerts",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Sends an alert ({ALERT_URLS_ENV}) when a run fails or its checks stop publishing.",
)
def run_failure_alerts(context: dg.RunFailureSensorContext):
    if context.dagster_run.tags.get("o2c/trigger") == "make_run":
        return  # `make run` alerts itself (orchestration/run_pipeline.py): never twice
    alert = run_failure_alert(context.instance, context.dagster_run.run_id)
    if alert:
        send(alert)
