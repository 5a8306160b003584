-- one row per OMS order with succeeded gateway transactions: captured / refunded in the order currency,
-- currency mismatches, and the duplicate-capture pair test (equal amount and currency, <= N minutes apart)
with gateway as (
    select * from {{ ref('stg_payments__gateway_transactions') }}
),

orders as (
    select order_id, currency from {{ ref('int_orders_totaled') }}
),

succeeded as (
    select
        gateway.txn_id,
        gateway.order_id,
        gateway.txn_type,
        gateway.currency,
        gateway.amount,
        gateway.fee,
        gateway.created_at,
        orders.currency as order_currency
    from gateway
    inner join orders
        on gateway.order_id = orders.order_id
    where gateway.status = 'succeeded'
),

captures as (
    select * from succeeded where txn_type = 'capture'
),

duplicate_pairs as (
    select
        first_capture.order_id,
        count(*) as duplicate_pair_count
    from captures as first_capture
    inner join captures as second_capture
        on first_capture.order_id = second_capture.order_id
        and first_capture.txn_id <> second_capture.txn_id
        and first_capture.amount = second_capture.amount
        and first_capture.currency = second_capture.currency
        and first_capture.created_at <= second_capture.created_at
        and second_capture.created_at <= {{ dbt.dateadd('minute', var('duplicate_payment_window_minutes'), 'first_capture.created_at') }}
    group by first_capture.order_id
),

aggregated as (
    select
        succeeded.order_id,
        sum(case when succeeded.txn_type = 'capture' and succeeded.currency = succeeded.order_currency then succeeded.amount else 0 end) as captured_amount,
        sum(case when succeeded.txn_type = 'refund' and succeeded.currency = succeeded.order_currency then succeeded.amount else 0 end) as refunded_amount,
        sum(case when succeeded.txn_type = 'capture' and succeeded.currency = succeeded.order_currency then 1 else 0 end) as capture_count,
        sum(case when succeeded.txn_type = 'refund' then 1 else 0 end) as refund_count,
        sum(case when succeeded.currency <> succeeded.order_currency then 1 else 0 end) as currency_mismatch_count,
        sum(case when succeeded.currency <> succeeded.order_currency then succeeded.amount else 0 end) as currency_mismatch_amount,
        max(case when succeeded.currency <> succeeded.order_currency then succeeded.currency end) as currency_mismatch_currency,
        min(case when succeeded.txn_type = 'capture' then succeeded.created_at end) as first_captured_at,
        min(case when succeeded.txn_type = 'refund' then succeeded.created_at end) as first_refunded_at
    from succeeded
    group by succeeded.order_id
),

final as (
    select
        aggregated.order_id,
        {{ money('aggregated.captured_amount') }} as captured_amount,
        {{ money('aggregated.refunded_amount') }} as refunded_amount,
        aggregated.capture_count,
        aggregated.refund_count,
        aggregated.currency_mismatch_count > 0 as has_currency_mismatch,
        {{ money('aggregated.currency_mismatch_amount') }} as currency_mismatch_amount,
        aggregated.currency_mismatch_currency,
        coalesce(duplicate_pairs.duplicate_pair_count, 0) > 0 as has_duplicate_capture_pair,
        aggregated.first_captured_at,
        aggregated.first_refunded_at
    from aggregated
    left join duplicate_pairs
        on aggregated.order_id = duplicate_pairs.order_id
)

select * from final
