-- one row per OMS event_id: a repeated event_id is the same event delivered again, so the first delivery
-- (earliest export date, file, record) is kept and later copies are ignored
with source as (
    select * from {{ source('raw', 'oms_order_events') }}
),

renamed as (
    select
        -- ids
        event_id,
        order_id,
        -- dimensions
        status,
        source as event_source,
        operator,
        -- timestamps
        {{ utc_from_offset_text('occurred_at') }} as occurred_at,
        -- lineage
        {{ lineage_columns() }}
    from source
),

ranked as (
    {{ first_delivery_rank('renamed', partition_by='event_id') }}
),

final as (
    select event_id, order_id, status, event_source, operator, occurred_at,
           {{ lineage_columns() }}
    from ranked
    where version_rank = 1
)

select * from final
