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
        {{ lineage_columns() }}
    from source
),

ranked as (
    {{ latest_version_rank('renamed', partition_by='txn_id') }}
),

final as (
    select txn_id, order_id, method, txn_type, status, currency, amount, fee, created_at,
           {{ lineage_columns() }}
    from ranked
    where version_rank = 1
)

select * from final
