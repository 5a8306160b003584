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
        _export_date,
        _file_path,
        _record_no
    from source
),

ranked as (
    select
        renamed.*,
        row_number() over (
            partition by event_id
            order by _export_date, _file_path, _record_no
        ) as version_rank
    from renamed
),

final as (
    select event_id, order_id, status, event_source, operator, occurred_at,
           _export_date, _file_path, _record_no
    from ranked
    where version_rank = 1
)

select * from final
