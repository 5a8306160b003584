-- one row per shipment_id: the later row wins
with source as (
    select * from {{ source('raw', 'wms_shipments') }}
),

renamed as (
    select
        -- ids
        shipment_id,
        nullif(order_id, '') as order_id,
        -- optional in the contract (self pick-up, carrier assigned later): empty is null
        nullif(trim(warehouse_id), '') as warehouse_id,
        nullif(trim(tracking_no), '') as tracking_no,
        -- dimensions
        nullif(trim(carrier), '') as carrier,
        items as items_text,
        -- timestamps (naive Asia/Shanghai local time -> UTC)
        {{ utc_from_china_local_text('created_at') }} as created_at,
        -- lineage
        {{ lineage_columns() }}
    from source
),

ranked as (
    {{ latest_version_rank('renamed', partition_by='shipment_id') }}
),

final as (
    select shipment_id, order_id, warehouse_id, tracking_no, carrier, items_text, created_at,
           {{ lineage_columns() }}
    from ranked
    where version_rank = 1
)

select * from final
