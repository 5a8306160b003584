-- one row per gateway payout (settlement.md): what it settles, what the bank received for it, the
-- difference and its status at as_of; amounts in the payout's currency and in CNY at payout_date
with payouts as (
    select * from {{ ref('int_payouts_reconciled') }}
),

fx_rates as (
    select * from {{ ref('stg_reference__fx_rates') }}
),

rate_keys as (
    select distinct currency, payout_date as rate_on from payouts
),

rates as (
    {{ fx_rates_for('rate_keys', 'fx_rates') }}
),

final as (
    select
        payouts.payout_id,
        payouts.payout_date,
        payouts.currency,
        cast(payouts.transactions as integer) as transactions,
        payouts.captured,
        payouts.refunded,
        payouts.fees,
        payouts.net_amount,
        payouts.received_amount,
        payouts.received_on,
        payouts.difference,
        payouts.status,
        cast(payouts.settled_transactions as integer) as settled_transactions,
        cast(payouts.receipt_lines as integer) as receipt_lines,
        rates.rate_to_cny,
        {{ money('round(payouts.captured * rates.rate_to_cny, 2)') }} as captured_cny,
        {{ money('round(payouts.refunded * rates.rate_to_cny, 2)') }} as refunded_cny,
        {{ money('round(payouts.fees * rates.rate_to_cny, 2)') }} as fees_cny,
        {{ money('round(payouts.net_amount * rates.rate_to_cny, 2)') }} as net_amount_cny,
        {{ money('round(payouts.received_amount * rates.rate_to_cny, 2)') }} as received_amount_cny,
        {{ money('round(payouts.difference * rates.rate_to_cny, 2)') }} as difference_cny
    from payouts
    left join rates
        on payouts.currency = rates.currency
        and payouts.payout_date = rates.rate_on
)

select * from final
