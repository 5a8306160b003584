-- one row per tracking event, identified by (shipment_id, event, occurred_at); repeats removed
with source as (
    select * from {{ source('raw', 'wms_tracking_events') }}
),

renamed as (
    select
        -- ids
        shipment_id,
        -- dimensions
        event,
        location,
        -- timestamps (naive Asia/Shanghai local time -> UTC)
        {{ utc_from_china_local_text('occurred_at') }} as occurred_at,
        -- lineage
        {{ lineage_columns() }}
    from source
),

ranked as (
    {{ first_delivery_rank('renamed', partition_by=['shipment_id', 'event', 'occurred_at']) }}
),

final as (
    select
        {{ dbt.hash(dbt.concat(['shipment_id', "'|'", 'event', "'|'", 'cast(occurred_at as ' ~ dbt.type_string() ~ ')'])) }} as tracking_event_id,
        shipment_id, event, location, occurred_at,
        {{ lineage_columns() }}
    from ranked
    where version_rank = 1
)

select * from final
