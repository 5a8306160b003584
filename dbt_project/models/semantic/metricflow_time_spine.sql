-- one row per calendar day from the first to the last day the marts date anything (orders,
-- postings, the exceptions' as_of): MetricFlow's time spine. Bounded by the data so a cumulative
-- metric (ar_outstanding_cny by month) stops at the as_of instead of running on for years.
-- Published with the marts, so metric queries also run against the published file.
with orders as (
    select cast(created_at as date) as day from {{ ref('order_ledger') }}
),

postings as (
    select posted_on as day from {{ ref('ledger_entries') }}
),

exceptions as (
    select cast(as_of as date) as day from {{ ref('reconciliation_exceptions') }}
),

dated as (
    select day from orders
    union all
    select day from postings
    union all
    select day from exceptions
),

bounds as (
    select min(day) as first_day, max(day) as last_day from dated
),

calendar as (
    {{ dbt.date_spine('day', "cast('2000-01-01' as date)", "cast('2051-01-01' as date)") }}
),

final as (
    select cast(calendar.date_day as date) as date_day
    from calendar
    inner join bounds
        on cast(calendar.date_day as date) between bounds.first_day and bounds.last_day
)

select * from final
