-- The 1200 accounts_receivable balance of each order equals order_ledger.ar_outstanding.
-- Postings in another currency than the order (CURRENCY_MISMATCH transactions) stay on 1200 in their own
-- currency and are reported by that exception; they are outside the order-currency balance compared here.
with ledger as (
    select * from {{ ref('order_ledger') }}
),

receivables as (
    select
        entries.order_id,
        sum(entries.debit - entries.credit) as balance
    from {{ ref('ledger_entries') }} as entries
    inner join ledger
        on entries.order_id = ledger.order_id
        and entries.currency = ledger.currency
    where entries.account = '1200'
    group by entries.order_id
)

select
    ledger.order_id,
    ledger.ar_outstanding,
    coalesce(receivables.balance, 0) as receivable_balance
from ledger
left join receivables
    on ledger.order_id = receivables.order_id
where ledger.ar_outstanding <> coalesce(receivables.balance, 0)
