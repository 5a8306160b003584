"""The daily safety net: whatever the sensor missed, yesterday's export date runs at 06:00 UTC."""

from datetime import timedelta

import dagster as dg

from orchestration.jobs import o2c_job


@dg.schedule(
    job=o2c_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Ingests yesterday's export date again (a no-op when nothing changed) and rebuilds.",
)
def daily_safety_net(context: dg.ScheduleEvaluationContext):
    yesterday = (context.scheduled_execution_time - timedelta(days=1)).strftime("%Y-%m-%d")
    return dg.RunRequest(partition_key=yesterday, tags={"o2c/trigger": "daily_safety_net"})
