-- one row per gateway txn_id: the later row wins (a pending row is later updated)
with source as (
    select * from {{ source('raw', 'payments_gateway_transactions') }}
),

renamed as (
    select
        -- ids
        txn_id,
        nullif(order_id, '') as order_id,
        -- dimensions
        method,
        txn_type,
        status,
        currency,
        -- amounts
        {{ money('amount') }} as amount,
        coalesce({{ money("nullif(fee, '')") }}, {{ money('0') }}) as fee,
        -- timestamps
        {{ utc_from_offset_text('created_at') }} as created_at,
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
            partition by txn_id
            order by _export_date desc, _file_path desc, _record_no desc
        ) as version_rank
    from renamed
),

final as (
    select txn_id, order_id, method, txn_type, status, currency, amount, fee, created_at,
           _export_date, _file_path, _record_no
    from ranked
    where version_rank = 1
)

select * from final
