-- one row per order line of the winning snapshot of each order
with source as (
    select * from {{ source('raw', 'oms_order_lines') }}
),

winning_snapshots as (
    select order_id, _export_date, _file_path, _record_no from {{ ref('stg_oms__orders') }}
),

renamed as (
    select
        -- ids
        source.order_id,
        cast(source.line_no as integer) as line_no,
        -- dimensions
        source.sku,
        cast(source.qty as integer) as qty,
        -- amounts
        {{ money('source.unit_price') }} as unit_price,
        {{ money('source.discount') }} as discount
    from source
    inner join winning_snapshots
        on source.order_id = winning_snapshots.order_id
        and source._export_date = winning_snapshots._export_date
        and source._file_path = winning_snapshots._file_path
        and source._record_no = winning_snapshots._record_no
),

final as (
    select * from renamed
)

select * from final
