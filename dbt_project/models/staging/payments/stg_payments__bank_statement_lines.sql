-- one row per bank statement line (交易流水号); a repeated line id is the same line again, the later row is kept
with source as (
    select * from {{ source('raw', 'payments_bank_statement_lines') }}
),

renamed as (
    -- the delivered Chinese column names are quoted with adapter.quote (double quotes on DuckDB, backticks on Spark)
    {%- set value_date = adapter.quote('交易日期') %}
    {%- set line_id = adapter.quote('交易流水号') %}
    {%- set counterparty = adapter.quote('对方户名') %}
    {%- set credit = adapter.quote('收入金额') %}
    {%- set debit = adapter.quote('支出金额') %}
    {%- set currency = adapter.quote('币种') %}
    {%- set remark = adapter.quote('摘要') %}
    select
        -- ids
        {{ line_id }} as bank_line_id,
        -- dimensions
        -- optional in the contract (interest, bank charges, cash deposits): empty is null, so it never matches rule 2
        nullif(trim({{ counterparty }}), '') as counterparty_name,
        {{ currency }} as currency,
        {{ remark }} as remark,
        case when nullif({{ credit }}, '') is not null then 'credit' else 'debit' end as direction,
        -- amounts (thousands separators allowed in this file)
        {{ money("nullif(replace(" ~ credit ~ ", ',', ''), '')") }} as credit_amount,
        {{ money("nullif(replace(" ~ debit ~ ", ',', ''), '')") }} as debit_amount,
        -- dates: China-local value date, and the UTC instant of its local midnight
        cast({{ value_date }} as date) as value_date,
        {{ china_date_start_utc('cast(' ~ value_date ~ ' as date)') }} as value_date_start_at,
        -- lineage
        {{ lineage_columns() }}
    from source
),

ranked as (
    {{ latest_version_rank('renamed', partition_by='bank_line_id') }}
),

final as (
    select bank_line_id, counterparty_name, currency, remark, direction,
           credit_amount, debit_amount, value_date, value_date_start_at,
           {{ lineage_columns() }}
    from ranked
    where version_rank = 1
)

select * from final
