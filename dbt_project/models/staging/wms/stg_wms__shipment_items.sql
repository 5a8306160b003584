-- one row per item (sku:qty) of the winning row of each shipment
with source as (
    select * from {{ source('raw', 'wms_shipment_items') }}
),

winning_shipments as (
    select shipment_id, {{ lineage_columns() }} from {{ ref('stg_wms__shipments') }}
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
        and {{ same_record('source', 'winning_shipments') }}
),

final as (
    select * from renamed
)

select * from final
