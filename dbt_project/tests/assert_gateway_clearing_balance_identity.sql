-- The 1100 gateway_clearing balance per currency is what the gateway still owes (docs/settlement.md):
--   balance(c) = Σ net(t) × (1 − k(t))  −  Σ difference(p)
-- over winning, succeeded gateway transactions t of currency c (net = amount − fee for a capture,
-- −amount − fee for a refund), k(t) = the received payouts of c that list t (0 or 1 unless
-- DOUBLE_SETTLED), and the received payouts p of c (difference = received − net).
-- Returns the currencies where the journal and the identity disagree.
with ledger as (
    select currency, sum(debit - credit) as balance
    from {{ ref('ledger_entries') }}
    where account = '1100'
    group by currency
),

succeeded as (
    select * from {{ ref('stg_payments__gateway_transactions') }} where status = 'succeeded'
),

received_payouts as (
    select payout_id, currency, difference from {{ ref('int_payouts_reconciled') }} where receipt_lines > 0
),

received_listings as (
    select payout_lines.txn_id, received_payouts.currency, count(*) as listings
    from {{ ref('stg_payments__payout_lines') }} as payout_lines
    inner join received_payouts
        on payout_lines.payout_id = received_payouts.payout_id
    group by payout_lines.txn_id, received_payouts.currency
),

owed_by_transactions as (
    select
        succeeded.currency,
        sum((case when succeeded.txn_type = 'capture' then succeeded.amount else -succeeded.amount end - succeeded.fee)
            * (1 - coalesce(received_listings.listings, 0))) as owed
    from succeeded
    left join received_listings
        on succeeded.txn_id = received_listings.txn_id
        and succeeded.currency = received_listings.currency
    group by succeeded.currency
),

differences as (
    select currency, sum(difference) as received_difference from received_payouts group by currency
),

currencies as (
    select currency from ledger
    union
    select currency from owed_by_transactions
    union
    select currency from differences
)

select
    currencies.currency,
    ledger.balance,
    owed_by_transactions.owed,
    differences.received_difference
from currencies
left join ledger on currencies.currency = ledger.currency
left join owed_by_transactions on currencies.currency = owed_by_transactions.currency
left join differences on currencies.currency = differences.currency
where abs(coalesce(ledger.balance, 0) - (coalesce(owed_by_transactions.owed, 0) - coalesce(differences.received_difference, 0))) > 0.005
