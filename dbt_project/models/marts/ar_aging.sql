-- one row per customer, currency and aging bucket: open receivables (ar_outstanding > 0) at as_of.
-- Days past due count from first_invoiced_at + payment terms (30 days) for net30, from first_invoiced_at for prepaid.
with ledger as (
    select * from {{ ref('order_ledger') }}
),

as_of as (
    select as_of from {{ ref('int_as_of_resolved') }}
),

fx_rates as (
    select * from {{ ref('stg_reference__fx_rates') }}
),

open_items as (
    select
        ledger.order_id,
        ledger.customer_id,
        ledger.currency,
        ledger.ar_outstanding,
        {{ dbt.datediff(
            "case when ledger.payment_terms = 'net30' then " ~ dbt.dateadd('day', var('payment_terms_days'), 'ledger.first_invoiced_at') ~ " else ledger.first_invoiced_at end",
            'as_of.as_of', 'day') }} as days_past_due,
        {{ china_date('as_of.as_of') }} as as_of_on
    from ledger
    cross join as_of
    where ledger.ar_outstanding > 0
        and ledger.first_invoiced_at is not null
),

bucketed as (
    select
        open_items.*,
        case
            when open_items.days_past_due <= 0 then 'current'
            when open_items.days_past_due <= 30 then '1-30'
            when open_items.days_past_due <= 60 then '31-60'
            when open_items.days_past_due <= 90 then '61-90'
            else '90+'
        end as bucket
    from open_items
),

rate_keys as (
    select distinct currency, as_of_on as rate_on from bucketed
),

rates as (
    {{ fx_rates_for('rate_keys', 'fx_rates') }}
),

final as (
    select
        bucketed.customer_id,
        bucketed.currency,
        bucketed.bucket,
        {{ money('sum(bucketed.ar_outstanding)') }} as amount,
        {{ money('sum(round(bucketed.ar_outstanding * rates.rate_to_cny, 2))') }} as amount_cny,
        cast(count(*) as integer) as order_count
    from bucketed
    left join rates
        on bucketed.currency = rates.currency
        and bucketed.as_of_on = rates.rate_on
    group by bucketed.customer_id, bucketed.currency, bucketed.bucket
)

select * from final
