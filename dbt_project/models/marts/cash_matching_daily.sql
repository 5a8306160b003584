-- one row per China-local value date and system: how much of the cash that arrived was matched
-- automatically. bank: credit lines by rule (0 payout, 1 remark, 2 counterparty + amount) or
-- unmatched (unapplied cash); payments: succeeded gateway captures whose order the OMS knows, or
-- not (orphan payments). auto_match_rate = matched ÷ received; amounts in CNY at the value date.
with bank_lines as (
    select * from {{ ref('int_bank_lines_matched') }}
),

gateway as (
    select * from {{ ref('stg_payments__gateway_transactions') }}
),

orders as (
    select order_id from {{ ref('int_orders_totaled') }}
),

fx_rates as (
    select * from {{ ref('stg_reference__fx_rates') }}
),

received as (
    select
        bank_lines.value_date,
        'bank' as system,
        bank_lines.match_rule,
        bank_lines.currency,
        bank_lines.credit_amount as amount
    from bank_lines
    where bank_lines.direction = 'credit'

    union all

    select
        {{ china_date('gateway.created_at') }} as value_date,
        'payments' as system,
        case when orders.order_id is not null then 'order' else 'unapplied' end as match_rule,
        gateway.currency,
        gateway.amount
    from gateway
    left join orders
        on gateway.order_id = orders.order_id
    where gateway.status = 'succeeded'
        and gateway.txn_type = 'capture'
),

rate_keys as (
    select distinct currency, value_date as rate_on from received
),

rates as (
    {{ fx_rates_for('rate_keys', 'fx_rates') }}
),

converted as (
    select
        received.*,
        round(received.amount * rates.rate_to_cny, 2) as amount_cny
    from received
    left join rates
        on received.currency = rates.currency
        and received.value_date = rates.rate_on
),

daily as (
    select
        value_date,
        system,
        count(*) as lines_received,
        sum(case when match_rule = 'payout' then 1 else 0 end) as lines_matched_payout,
        sum(case when match_rule = 'remark' then 1 else 0 end) as lines_matched_remark,
        sum(case when match_rule = 'counterparty_amount' then 1 else 0 end) as lines_matched_counterparty,
        sum(case when match_rule in ('remark', 'counterparty_amount', 'order') then 1 else 0 end) as lines_matched_order,
        sum(case when match_rule = 'unapplied' then 1 else 0 end) as lines_unmatched,
        sum(amount_cny) as amount_received_cny,
        sum(case when match_rule = 'unapplied' then amount_cny else 0 end) as amount_unmatched_cny
    from converted
    group by value_date, system
),

final as (
    select
        value_date,
        system,
        cast(lines_received as integer) as lines_received,
        cast(lines_matched_payout as integer) as lines_matched_payout,
        cast(lines_matched_remark as integer) as lines_matched_remark,
        cast(lines_matched_counterparty as integer) as lines_matched_counterparty,
        cast(lines_matched_order as integer) as lines_matched_order,
        cast(lines_unmatched as integer) as lines_unmatched,
        cast(round(cast(lines_received - lines_unmatched as double) / lines_received, 4) as decimal(9, 4)) as auto_match_rate,
        {{ money('amount_received_cny') }} as amount_received_cny,
        {{ money('amount_unmatched_cny') }} as amount_unmatched_cny
    from daily
)

select * from final
