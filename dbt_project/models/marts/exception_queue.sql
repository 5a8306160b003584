-- one row per open exception, ranked for finance (issue 12; docs/exceptions-workbench.md): severity
-- first (high, medium, low), then the amount at risk in CNY (largest first, none last), then age (oldest
-- first); exception_id breaks ties so the order is total. Waived and resolved exceptions are not queued.
with history as (
    select * from {{ ref('exception_history') }}
),

current_exceptions as (
    select * from {{ ref('reconciliation_exceptions') }}
),

open_exceptions as (
    select
        history.exception_id,
        history.exception_type,
        current_exceptions.severity,
        case current_exceptions.severity when 'high' then 1 when 'medium' then 2 else 3 end as severity_rank,
        history.order_id,
        history.document_id,
        current_exceptions.amount_at_risk,
        current_exceptions.currency,
        current_exceptions.amount_at_risk_cny,
        history.age_days,
        history.first_seen_as_of,
        history.times_reopened,
        history.owner,
        coalesce(history.decision = 'acknowledge', false) as is_acknowledged,
        history.decided_by,
        current_exceptions.details
    from history
    inner join current_exceptions
        on history.exception_id = current_exceptions.exception_id
    where history.status = 'open'
),

final as (
    select
        cast(row_number() over (
            order by
                severity_rank,
                case when amount_at_risk_cny is null then 1 else 0 end,
                amount_at_risk_cny desc,
                age_days desc,
                exception_id
        ) as integer) as priority_rank,
        exception_id,
        exception_type,
        severity,
        order_id,
        document_id,
        amount_at_risk,
        currency,
        amount_at_risk_cny,
        age_days,
        first_seen_as_of,
        times_reopened,
        owner,
        is_acknowledged,
        decided_by,
        details
    from open_exceptions
)

select * from final
