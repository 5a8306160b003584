-- one row per bank statement line (交易流水号); a repeated line id is the same line again, the later row is kept
with source as (
    select * from {{ source('raw', 'payments_bank_statement_lines') }}
),

renamed as (
    select
        -- ids
        "交易流水号" as bank_line_id,
        -- dimensions
        "对方户名" as counterparty_name,
        "币种" as currency,
        "摘要" as remark,
        case when nullif("收入金额", '') is not null then 'credit' else 'debit' end as direction,
        -- amounts (thousands separators allowed in this file)
        {{ money("nullif(replace(\"收入金额\", ',', ''), '')") }} as credit_amount,
        {{ money("nullif(replace(\"支出金额\", ',', ''), '')") }} as debit_amount,
        -- dates: China-local value date, and the UTC instant of its local midnight
        cast("交易日期" as date) as value_date,
        {{ china_date_start_utc('cast("交易日期" as date)') }} as value_date_start_at,
        -- lineage
        _export_date,
        _file_path,
        _record_no
    from source
),

ranked as (
    select
        renamed.*,
        row_number() over (
            partition by bank_line_id
            order by _export_date desc, _file_path desc, _record_no desc
        ) as version_rank
    from renamed
),

final as (
    select bank_line_id, counterparty_name, currency, remark, direction,
           credit_amount, debit_amount, value_date, value_date_start_at,
           _export_date, _file_path, _record_no
    from ranked
    where version_rank = 1
)

select * from final
