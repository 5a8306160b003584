-- one row per OMS order: the winning snapshot (greatest updated_at; tie: the later record)
with source as (
    select * from {{ source('raw', 'oms_orders') }}
),

renamed as (
    select
        -- ids
        order_id,
        channel_order_no,
        customer_id,
        -- dimensions
        channel,
        customer_name,
        payment_terms,
        currency,
        entry_source,
        status,
        -- amounts
        {{ money('shipping_fee') }} as shipping_fee,
        {{ money('coupon_amount') }} as coupon_amount,
        {{ money('points_amount') }} as points_amount,
        cast(tax_rate as decimal(9, 6)) as tax_rate,
        -- timestamps
        {{ utc_from_offset_text('created_at') }} as created_at,
        {{ utc_from_offset_text('updated_at') }} as updated_at,
        -- lineage
        {{ lineage_columns() }}
    from source
),

ranked as (
    {{ latest_version_rank('renamed', partition_by='order_id', order_first='updated_at desc') }}
),

final as (
    select
        order_id, channel_order_no, customer_id,
        channel, customer_name, payment_terms, currency, entry_source, status,
        shipping_fee, coupon_amount, points_amount, tax_rate,
        created_at, updated_at,
        {{ lineage_columns() }}
    from ranked
    where version_rank = 1
)

select * from final
