-- The journal as a whole balances: per currency, and in CNY across all currencies.
with per_currency as (
    select currency as scope, sum(debit) - sum(credit) as difference
    from {{ ref('ledger_entries') }}
    group by currency
),

in_cny as (
    select 'CNY (converted)' as scope, sum(debit_cny) - sum(credit_cny) as difference
    from {{ ref('ledger_entries') }}
)

select * from per_currency where difference <> 0
union all
select * from in_cny where difference <> 0
