-- one row per OMS order: ready_at, the moment the order may be shipped.
-- prepaid: created_at of the capture at which the running sum of succeeded captures in the order currency
--          (created_at, then txn_id order) first reaches order_total − tolerance;
-- net30:   approved_at (earliest approved event). No ready_at when neither holds.
with orders as (
    select order_id, payment_terms, currency, order_total from {{ ref('int_orders_totaled') }}
),

gateway as (
    select * from {{ ref('stg_payments__gateway_transactions') }}
),

order_event_summary as (
    select order_id, approved_at from {{ ref('int_order_events_summarized') }}
),

running_captures as (
    select
        gateway.order_id,
        gateway.txn_id,
        gateway.created_at,
        sum(gateway.amount) over (
            partition by gateway.order_id
            order by gateway.created_at, gateway.txn_id
            rows between unbounded preceding and current row
        ) as running_captured
    from gateway
    inner join orders
        on gateway.order_id = orders.order_id
        and gateway.currency = orders.currency
    where gateway.status = 'succeeded'
        and gateway.txn_type = 'capture'
        and orders.payment_terms = 'prepaid'
),

paid_in_full as (
    select
        running_captures.order_id,
        min(running_captures.created_at) as paid_at
    from running_captures
    inner join orders
        on running_captures.order_id = orders.order_id
    where running_captures.running_captured >= orders.order_total - {{ var('amount_tolerance') }}
    group by running_captures.order_id
),

final as (
    select
        orders.order_id,
        orders.payment_terms,
        case
            when orders.payment_terms = 'prepaid' then paid_in_full.paid_at
            when orders.payment_terms = 'net30' then order_event_summary.approved_at
        end as ready_at
    from orders
    left join paid_in_full
        on orders.order_id = paid_in_full.order_id
    left join order_event_summary
        on orders.order_id = order_event_summary.order_id
)

select * from final
