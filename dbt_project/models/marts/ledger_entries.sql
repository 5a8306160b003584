-- one row per posting line of the double-entry journal, with CNY amounts (FX of the China-local posting date);
-- the entry's balancing line absorbs the CNY rounding so every entry balances in currency and in CNY
with journal_lines as (
    select * from {{ ref('int_journal_lines_generated') }}
),

fx_rates as (
    select * from {{ ref('stg_reference__fx_rates') }}
),

dated_lines as (
    select
        journal_lines.*,
        {{ china_date('journal_lines.posted_at') }} as posted_on
    from journal_lines
),

rate_keys as (
    select distinct currency, posted_on as rate_on from dated_lines
),

rates as (
    {{ fx_rates_for('rate_keys', 'fx_rates') }}
),

converted as (
    select
        dated_lines.*,
        rates.rate_to_cny,
        {{ money('round(dated_lines.debit * rates.rate_to_cny, 2)') }} as debit_cny_rounded,
        {{ money('round(dated_lines.credit * rates.rate_to_cny, 2)') }} as credit_cny_rounded
    from dated_lines
    left join rates
        on dated_lines.currency = rates.currency
        and dated_lines.posted_on = rates.rate_on
),

entry_totals as (
    select
        converted.entry_id,
        sum(case when not converted.is_balancing_line then converted.debit_cny_rounded else 0 end) as debit_cny_fixed,
        sum(case when not converted.is_balancing_line then converted.credit_cny_rounded else 0 end) as credit_cny_fixed
    from converted
    group by converted.entry_id
),

final as (
    select
        converted.entry_id,
        converted.line_no,
        converted.voucher_id,
        converted.order_id,
        converted.entry_type,
        converted.posted_at,
        converted.posted_on,
        converted.account,
        converted.account_name,
        converted.debit,
        converted.credit,
        converted.currency,
        cast(converted.rate_to_cny as decimal(18, 8)) as rate_to_cny,
        {{ money("case when converted.is_balancing_line and converted.debit <> 0 then entry_totals.credit_cny_fixed - entry_totals.debit_cny_fixed else converted.debit_cny_rounded end") }} as debit_cny,
        {{ money("case when converted.is_balancing_line and converted.credit <> 0 then entry_totals.debit_cny_fixed - entry_totals.credit_cny_fixed else converted.credit_cny_rounded end") }} as credit_cny,
        converted.source_system,
        converted.source_document_id
    from converted
    inner join entry_totals
        on converted.entry_id = entry_totals.entry_id
)

select * from final
