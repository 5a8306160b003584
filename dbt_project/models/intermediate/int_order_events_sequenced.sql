-- one row per OMS event (deduplicated by event_id), numbered per order by occurred_at then event_id,
-- with the previous status and whether previous -> current is a legal transition (sources.md)
with order_events as (
    select * from {{ ref('stg_oms__order_events') }}
),

sequenced as (
    select
        order_events.event_id,
        order_events.order_id,
        order_events.status,
        order_events.event_source,
        order_events.operator,
        order_events.occurred_at,
        row_number() over (
            partition by order_events.order_id
            order by order_events.occurred_at, order_events.event_id
        ) as event_seq,
        lag(order_events.status) over (
            partition by order_events.order_id
            order by order_events.occurred_at, order_events.event_id
        ) as previous_status
    from order_events
),

final as (
    select
        sequenced.*,
        {{ is_legal_transition('sequenced.previous_status', 'sequenced.status') }} as is_legal_transition
    from sequenced
)

select * from final
