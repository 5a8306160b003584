-- one row per gateway payout with what the bank received for it (settlement.md): received = Σ credit
-- lines that settle it (rule 0), received_on = the earliest of their value dates, difference =
-- received - net, and the status at as_of: received (|difference| <= tolerance), mismatch,
-- withheld (net <= 0, no receipt), not_received (no receipt, as_of's China-local date more than
-- sla_payout_receipt_days after payout_date), else awaiting
with payouts as (
    select * from {{ ref('int_payouts_settled') }}
),

bank_lines as (
    select * from {{ ref('int_bank_lines_matched') }}
),

as_of as (
    select as_of from {{ ref('int_as_of_resolved') }}
),

receipts as (
    select
        bank_lines.payout_id,
        count(*) as receipt_lines,
        sum(bank_lines.credit_amount) as received_amount,
        min(bank_lines.value_date) as received_on
    from bank_lines
    where bank_lines.match_rule = 'payout'
    group by bank_lines.payout_id
),

final as (
    select
        payouts.payout_id,
        payouts.payout_date,
        payouts.currency,
        payouts.transactions,
        payouts.settled_transactions,
        payouts.captured,
        payouts.refunded,
        payouts.fees,
        payouts.net_amount,
        cast(coalesce(receipts.receipt_lines, 0) as integer) as receipt_lines,
        {{ money('receipts.received_amount') }} as received_amount,
        receipts.received_on,
        {{ money('receipts.received_amount - payouts.net_amount') }} as difference,
        case
            when receipts.payout_id is not null
                and abs(receipts.received_amount - payouts.net_amount) <= {{ var('amount_tolerance') }} then 'received'
            when receipts.payout_id is not null then 'mismatch'
            when payouts.net_amount <= 0 then 'withheld'
            when {{ dbt.dateadd('day', var('sla_payout_receipt_days'), 'payouts.payout_date') }} < {{ china_date('as_of.as_of') }} then 'not_received'
            else 'awaiting'
        end as status
    from payouts
    cross join as_of
    left join receipts
        on payouts.payout_id = receipts.payout_id
)

select * from final
