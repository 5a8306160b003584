-- one row per item (sku:qty) of the winning row of each shipment
with source as (
    select * from {{ source('raw', 'wms_shipment_items') }}
),

winning_shipments as (
    select shipment_id, _export_date, _file_path, _record_no from {{ ref('stg_wms__shipments') }}
),

renamed as (
    select
        -- ids
        source.shipment_id,
        cast(source.item_no as integer) as item_no,
        -- dimensions
        source.sku,
        cast(source.qty as integer) as qty
    from source
    inner join winning_shipments
        on source.shipment_id = winning_shipments.shipment_id
        and source._export_date = winning_shipments._export_date
        and source._file_path = winning_shipments._file_path
        and source._record_no = winning_shipments._record_no
),

final as (
    select * from renamed
)

select * from final
