-- one row per order line of the winning snapshot of each order
with source as (
    select * from {{ source('raw', 'oms_order_lines') }}
),

winning_snapshots as (
    select order_id, {{ lineage_columns() }} from {{ ref('stg_oms__orders') }}
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
        and {{ same_record('source', 'winning_snapshots') }}
),

final as (
    select * from renamed
)

select * from final
