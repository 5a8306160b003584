-- one row per shipment_id: the later row wins
with source as (
    select * from {{ source('raw', 'wms_shipments') }}
),

renamed as (
    select
        -- ids
        shipment_id,
        nullif(order_id, '') as order_id,
        warehouse_id,
        tracking_no,
        -- dimensions
        carrier,
        items as items_text,
        -- timestamps (naive Asia/Shanghai local time -> UTC)
        {{ utc_from_china_local_text('created_at') }} as created_at,
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
            partition by shipment_id
            order by _export_date desc, _file_path desc, _record_no desc
        ) as version_rank
    from renamed
),

final as (
    select shipment_id, order_id, warehouse_id, tracking_no, carrier, items_text, created_at,
           _export_date, _file_path, _record_no
    from ranked
    where version_rank = 1
)

select * from final
