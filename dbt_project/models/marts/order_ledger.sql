-- one row per OMS order: the unified order / invoice / payment record with its lifecycle_state and tie-out
with orders as (
    select * from {{ ref('int_orders_assembled') }}
),

exceptions as (
    select * from {{ ref('reconciliation_exceptions') }}
),

fx_rates as (
    select * from {{ ref('stg_reference__fx_rates') }}
),

exception_counts as (
    select exceptions.order_id, count(*) as exception_count
    from exceptions
    where exceptions.order_id is not null
    group by exceptions.order_id
),

dated_orders as (
    select orders.*, {{ china_date('orders.created_at') }} as created_on
    from orders
),

rate_keys as (
    select distinct currency, created_on as rate_on from dated_orders
),

rates as (
    {{ fx_rates_for('rate_keys', 'fx_rates') }}
),

enriched as (
    select
        dated_orders.*,
        {{ money('round(dated_orders.order_total * rates.rate_to_cny, 2)') }} as order_total_cny,
        {{ money('dated_orders.invoiced_amount - dated_orders.net_paid_amount') }} as ar_outstanding,
        coalesce(exception_counts.exception_count, 0) as exception_count
    from dated_orders
    left join rates
        on dated_orders.currency = rates.currency
        and dated_orders.created_on = rates.rate_on
    left join exception_counts
        on dated_orders.order_id = exception_counts.order_id
),

final as (
    select
        enriched.order_id,
        'JV-' || enriched.order_id as voucher_id,
        enriched.channel,
        enriched.customer_id,
        enriched.payment_terms,
        enriched.currency,
        enriched.created_at,
        enriched.status,
        case
            when enriched.is_cancelled then 'cancelled'
            when enriched.status in ('return_requested', 'returned', 'refunded') or enriched.credit_note_line_count > 0 then 'returned'
            when enriched.shipped_at is not null and enriched.invoiced_amount > 0
                and abs(enriched.invoiced_amount - enriched.net_paid_amount) <= {{ var('amount_tolerance') }} then 'settled'
            when enriched.shipped_at is not null and enriched.invoiced_amount > 0 then 'awaiting_payment'
            when enriched.shipped_at is not null then 'awaiting_invoice'
            when enriched.ready_at is not null then 'awaiting_shipment'
            when enriched.payment_terms = 'prepaid' and enriched.approved_at is not null then 'awaiting_payment'
            else 'awaiting_approval'
        end as lifecycle_state,
        enriched.order_total,
        enriched.order_total_cny,
        enriched.captured_amount,
        {{ money('enriched.bank_received_amount') }} as bank_received_amount,
        enriched.refunded_amount,
        enriched.net_paid_amount,
        enriched.invoiced_amount,
        {{ money('-enriched.credit_noted_amount') }} as credit_note_amount,
        enriched.ar_outstanding,
        enriched.shipped_at,
        enriched.delivered_at,
        enriched.first_invoiced_at,
        enriched.fully_paid_at,
        cast(enriched.exception_count as integer) as exception_count,
        enriched.exception_count = 0
            and (
                (enriched.is_cancelled
                    and abs(enriched.invoiced_amount) <= {{ var('amount_tolerance') }}
                    and abs(enriched.net_paid_amount) <= {{ var('amount_tolerance') }})
                or (not enriched.is_cancelled
                    and abs(enriched.invoiced_normal_amount - enriched.order_total) <= {{ var('amount_tolerance') }}
                    and abs(enriched.net_paid_amount - enriched.invoiced_amount) <= {{ var('amount_tolerance') }})
            ) as is_reconciled
    from enriched
)

select * from final
