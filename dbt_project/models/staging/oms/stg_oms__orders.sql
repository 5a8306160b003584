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
        _export_date,
        _file_path,
        _record_no
    from source
),

ranked as (
    select
        renamed.*,
        row_number() over (
            partition by order_id
            order by updated_at desc, _export_date desc, _file_path desc, _record_no desc
        ) as version_rank
    from renamed
),

final as (
    select
        order_id, channel_order_no, customer_id,
        channel, customer_name, payment_terms, currency, entry_source, status,
        shipping_fee, coupon_amount, points_amount, tax_rate,
        created_at, updated_at,
        _export_date, _file_path, _record_no
    from ranked
    where version_rank = 1
)

select * from final
