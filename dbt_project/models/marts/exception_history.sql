-- one row per exception_id ever listed by a published version (this build's included): when it was first
-- and last seen, when it was resolved, how often it came back, its status and owner (issue 12;
-- docs/exceptions-workbench.md). Times are publish as_ofs (UTC), not wall-clock times.
with observations as (
    select * from {{ ref('exception_observations') }}
),

publishes as (
    select * from {{ ref('int_publishes_sequenced') }}
),

decisions as (
    select * from {{ ref('int_exception_decisions_latest') }}
),

owners as (
    select * from {{ ref('exception_owners') }}
),

current_as_of as (
    select as_of from {{ ref('int_as_of_resolved') }}
),

observed as (
    select
        observations.*,
        publishes.publish_no,
        row_number() over (partition by observations.exception_id order by publishes.publish_no desc) as recency_rank,
        -- a publish that lists it after one or more that did not: it came back
        case
            when publishes.publish_no - lag(publishes.publish_no) over (
                partition by observations.exception_id order by publishes.publish_no
            ) > 1 then 1
            else 0
        end as is_reopening
    from observations
    inner join publishes
        on observations.as_of = publishes.as_of
),

summarized as (
    select
        exception_id,
        min(as_of) as first_seen_as_of,
        max(as_of) as last_seen_as_of,
        max(publish_no) as last_seen_publish_no,
        sum(is_reopening) as times_reopened
    from observed
    group by exception_id
),

latest as (
    select exception_id, exception_type, order_id, document_id
    from observed
    where recency_rank = 1
),

resolved as (
    select
        summarized.*,
        -- the first publish that no longer lists it; null while it still holds
        next_publish.as_of as resolved_as_of
    from summarized
    left join publishes as next_publish
        on next_publish.publish_no = summarized.last_seen_publish_no + 1
),

final as (
    select
        resolved.exception_id,
        latest.exception_type,
        latest.order_id,
        latest.document_id,
        resolved.first_seen_as_of,
        resolved.last_seen_as_of,
        resolved.resolved_as_of,
        cast(resolved.times_reopened as integer) as times_reopened,
        case
            when resolved.resolved_as_of is not null then 'resolved'
            when decisions.decision = 'waive' then 'waived'
            else 'open'
        end as status,
        coalesce(owners.owner, 'unassigned') as owner,
        -- whole days from first seen to resolution, or to this build's as_of while it holds
        cast(floor({{ hours_between('resolved.first_seen_as_of', 'coalesce(resolved.resolved_as_of, current_as_of.as_of)') }} / 24) as integer) as age_days,
        decisions.decision,
        decisions.decided_by,
        decisions.decided_at,
        decisions.decision_note
    from resolved
    inner join latest
        on resolved.exception_id = latest.exception_id
    cross join current_as_of
    left join decisions
        on resolved.exception_id = decisions.exception_id
    left join owners
        on latest.exception_type = owners.exception_type
)

select * from final
