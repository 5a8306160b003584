-- one row per OMS order and status interval, built from its OMS events (occurred_at, event_id order);
-- consecutive repeats of a status extend the interval; the last interval is current (exited_at null)
with sequenced_events as (
    select * from {{ ref('int_order_events_sequenced') }}
),

orders as (
    select order_id from {{ ref('int_orders_totaled') }}
),

as_of as (
    select as_of from {{ ref('int_as_of_resolved') }}
),

state_changes as (
    select sequenced_events.*
    from sequenced_events
    inner join orders
        on sequenced_events.order_id = orders.order_id
    where sequenced_events.previous_status is null
        or sequenced_events.previous_status <> sequenced_events.status
),

intervals as (
    select
        state_changes.order_id,
        state_changes.status as state,
        state_changes.event_id as entered_event_id,
        row_number() over (partition by state_changes.order_id order by state_changes.event_seq) as interval_no,
        state_changes.occurred_at as entered_at,
        lead(state_changes.occurred_at) over (partition by state_changes.order_id order by state_changes.event_seq) as exited_at
    from state_changes
),

final as (
    select
        intervals.order_id,
        cast(intervals.interval_no as integer) as interval_no,
        intervals.state,
        intervals.entered_event_id,
        intervals.entered_at,
        intervals.exited_at,
        cast({{ hours_between('intervals.entered_at', 'coalesce(intervals.exited_at, as_of.as_of)') }} as decimal(18, 4)) as hours_in_state,
        intervals.exited_at is null as is_current,
        coalesce(
            intervals.exited_at is null
            and (
                (intervals.state = 'created'
                    and {{ sla_elapsed('intervals.entered_at', 'sla_approval_hours', as_of='as_of.as_of') }})
                or (intervals.state in ('approved', 'allocated')
                    and {{ sla_elapsed('intervals.entered_at', 'sla_shipment_hours', as_of='as_of.as_of') }})
            ),
            false
        ) as is_stuck
    from intervals
    cross join as_of
)

select * from final
