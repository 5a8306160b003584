-- Σ order_ledger.invoiced_amount equals the revenue (4000) and VAT (2200) postings of invoices net of
-- returns (4100) and credit-note VAT, over the documents of OMS orders.
with ledger_total as (
    select coalesce(sum(invoiced_amount), 0) as invoiced
    from {{ ref('order_ledger') }}
),

postings as (
    select coalesce(sum(
        case
            when account in ('4000', '2200') and entry_type = 'invoice' then credit - debit
            when account in ('4100', '2200') and entry_type = 'credit_note' then credit - debit
            else 0
        end
    ), 0) as posted
    from {{ ref('ledger_entries') }}
    where order_id is not null
)

select ledger_total.invoiced, postings.posted
from ledger_total
cross join postings
where ledger_total.invoiced <> postings.posted
