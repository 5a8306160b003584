-- one row per order_id that has WMS shipments: earliest shipped_at / delivered_at among its shipments
with shipments as (
    select * from {{ ref('int_shipments_tracked') }}
),

final as (
    select
        shipments.order_id,
        count(*) as shipment_count,
        min(shipments.shipped_at) as shipped_at,
        min(shipments.delivered_at) as delivered_at,
        max(case when shipments.is_delivered_before_shipped then 1 else 0 end) = 1 as has_delivery_before_shipment
    from shipments
    where shipments.order_id is not null
    group by shipments.order_id
)

select * from final
