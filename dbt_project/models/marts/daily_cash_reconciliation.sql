-- one row per China-local date, system (payments = gateway, bank) and method: what the source reported
-- (gateway captures, refunds, fees; bank credits and debits) next to the cash the journal posted, in CNY,
-- with the difference (journal − source net receipts) finance signs off
with gateway as (
    select * from {{ ref('stg_payments__gateway_transactions') }}
),

bank_lines as (
    select * from {{ ref('stg_payments__bank_statement_lines') }}
),

ledger as (
    select * from {{ ref('ledger_entries') }}
),

fx_rates as (
    select * from {{ ref('stg_reference__fx_rates') }}
),

gateway_movements as (
    select
        {{ china_date('gateway.created_at') }} as cash_date,
        'payments' as system,
        gateway.method,
        gateway.currency,
        case when gateway.txn_type = 'capture' then gateway.amount else 0 end as captured,
        case when gateway.txn_type = 'refund' then gateway.amount else 0 end as refunded,
        gateway.fee as fees,
        cast(0 as decimal(18, 2)) as bank_credits,
        cast(0 as decimal(18, 2)) as bank_debits
    from gateway
    where gateway.status = 'succeeded'
),

bank_movements as (
    select
        bank_lines.value_date as cash_date,
        'bank' as system,
        'bank_transfer' as method,
        bank_lines.currency,
        cast(0 as decimal(18, 2)) as captured,
        cast(0 as decimal(18, 2)) as refunded,
        cast(0 as decimal(18, 2)) as fees,
        coalesce(bank_lines.credit_amount, 0) as bank_credits,
        coalesce(bank_lines.debit_amount, 0) as bank_debits
    from bank_lines
),

movements as (
    select * from gateway_movements
    union all
    select * from bank_movements
),

rate_keys as (
    select distinct currency, cash_date as rate_on from movements
),

rates as (
    {{ fx_rates_for('rate_keys', 'fx_rates') }}
),

source_daily as (
    select
        movements.cash_date,
        movements.system,
        movements.method,
        sum(round(movements.captured * rates.rate_to_cny, 2)) as captured_cny,
        sum(round(movements.refunded * rates.rate_to_cny, 2)) as refunded_cny,
        sum(round(movements.fees * rates.rate_to_cny, 2)) as fees_cny,
        sum(round(movements.bank_credits * rates.rate_to_cny, 2)) as bank_credits_cny,
        sum(round(movements.bank_debits * rates.rate_to_cny, 2)) as bank_debits_cny,
        count(*) as transaction_count
    from movements
    left join rates
        on movements.currency = rates.currency
        and movements.cash_date = rates.rate_on
    group by movements.cash_date, movements.system, movements.method
),

journal_cash as (
    select
        ledger.posted_on as cash_date,
        case when ledger.account = '1100' then 'payments' else 'bank' end as system,
        case when ledger.account = '1100' then gateway.method else 'bank_transfer' end as method,
        sum(ledger.debit_cny - ledger.credit_cny) as journal_cash_cny
    from ledger
    left join gateway
        on ledger.source_system = 'payments'
        and ledger.source_document_id = gateway.txn_id
    where ledger.account in ('1100', '1110')
        -- a payout's bank receipt moves money from the gateway to the bank: the bank side is bank
        -- cash of its day; the 1100 side clears what the gateway's own day already counted
        and not (ledger.entry_type = 'payout_receipt' and ledger.account = '1100')
    group by 1, 2, 3
),

final as (
    select
        coalesce(source_daily.cash_date, journal_cash.cash_date) as cash_date,
        coalesce(source_daily.system, journal_cash.system) as system,
        coalesce(source_daily.method, journal_cash.method) as method,
        {{ money('coalesce(source_daily.captured_cny, 0)') }} as captured_cny,
        {{ money('coalesce(source_daily.refunded_cny, 0)') }} as refunded_cny,
        {{ money('coalesce(source_daily.fees_cny, 0)') }} as fees_cny,
        {{ money('coalesce(source_daily.bank_credits_cny, 0)') }} as bank_credits_cny,
        {{ money('coalesce(source_daily.bank_debits_cny, 0)') }} as bank_debits_cny,
        {{ money('coalesce(source_daily.captured_cny, 0) - coalesce(source_daily.refunded_cny, 0) - coalesce(source_daily.fees_cny, 0) + coalesce(source_daily.bank_credits_cny, 0)') }} as source_net_receipts_cny,
        {{ money('coalesce(journal_cash.journal_cash_cny, 0)') }} as journal_cash_cny,
        {{ money('coalesce(journal_cash.journal_cash_cny, 0) - (coalesce(source_daily.captured_cny, 0) - coalesce(source_daily.refunded_cny, 0) - coalesce(source_daily.fees_cny, 0) + coalesce(source_daily.bank_credits_cny, 0))') }} as difference_cny,
        cast(coalesce(source_daily.transaction_count, 0) as integer) as transaction_count
    from source_daily
    full outer join journal_cash
        on source_daily.cash_date = journal_cash.cash_date
        and source_daily.system = journal_cash.system
        and source_daily.method = journal_cash.method
)

select * from final
