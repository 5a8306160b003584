-- one row per gateway payout (settlement.md): its payout_date and currency are those of its latest
-- row; captured, refunded and fees sum the transactions it settles (listed, winning, succeeded, in
-- the payout's currency; any other listed row settles nothing), net = captured - refunded - fees
with payout_lines as (
    select * from {{ ref('stg_payments__payout_lines') }}
),

gateway as (
    select * from {{ ref('stg_payments__gateway_transactions') }}
),

latest_rows as (
    {{ latest_version_rank('payout_lines', partition_by='payout_id') }}
),

payouts as (
    select payout_id, payout_date, currency
    from latest_rows
    where version_rank = 1
),

settled_transactions as (
    select
        payout_lines.payout_id,
        gateway.txn_type,
        gateway.amount,
        gateway.fee
    from payout_lines
    inner join payouts
        on payout_lines.payout_id = payouts.payout_id
    inner join gateway
        on payout_lines.txn_id = gateway.txn_id
        and gateway.currency = payouts.currency
    where gateway.status = 'succeeded'
),

listed as (
    select payout_id, count(*) as transactions
    from payout_lines
    group by payout_id
),

settled as (
    select
        payout_id,
        count(*) as settled_transactions,
        sum(case when txn_type = 'capture' then amount else 0 end) as captured,
        sum(case when txn_type = 'refund' then amount else 0 end) as refunded,
        sum(fee) as fees
    from settled_transactions
    group by payout_id
),

final as (
    select
        payouts.payout_id,
        payouts.payout_date,
        payouts.currency,
        listed.transactions,
        coalesce(settled.settled_transactions, 0) as settled_transactions,
        {{ money('coalesce(settled.captured, 0)') }} as captured,
        {{ money('coalesce(settled.refunded, 0)') }} as refunded,
        {{ money('coalesce(settled.fees, 0)') }} as fees,
        {{ money('coalesce(settled.captured, 0) - coalesce(settled.refunded, 0) - coalesce(settled.fees, 0)') }} as net_amount
    from payouts
    inner join listed
        on payouts.payout_id = listed.payout_id
    left join settled
        on payouts.payout_id = settled.payout_id
)

select * from final
