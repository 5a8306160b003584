-- Every journal entry balances: Σ debit = Σ credit per entry_id, in currency and in CNY.
select
    entry_id,
    sum(debit) - sum(credit) as currency_difference,
    sum(debit_cny) - sum(credit_cny) as cny_difference
from {{ ref('ledger_entries') }}
group by entry_id
having sum(debit) <> sum(credit)
    or sum(debit_cny) <> sum(credit_cny)
