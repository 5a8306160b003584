-- one row per order_id that has OMS events: approval / cancellation times and transition legality
with sequenced_events as (
    select * from {{ ref('int_order_events_sequenced') }}
),

final as (
    select
        sequenced_events.order_id,
        count(*) as event_count,
        max(case when sequenced_events.event_seq = 1 then sequenced_events.status end) as first_status,
        min(case when sequenced_events.status = 'approved' then sequenced_events.occurred_at end) as approved_at,
        min(case when sequenced_events.status = 'cancelled' then sequenced_events.occurred_at end) as cancelled_at,
        max(case when sequenced_events.is_legal_transition then 0 else 1 end) = 1 as has_illegal_transition,
        max(case when sequenced_events.status in ('allocated', 'shipped', 'delivered', 'completed') then 1 else 0 end) = 1
            as has_post_approval_event
    from sequenced_events
    group by sequenced_events.order_id
)

select * from final
