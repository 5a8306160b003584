-- one row per OMS order and sku: quantity ordered (Σ over the order's lines) vs quantity shipped
-- (Σ over its shipments that have a shipped_at); a sku missing on either side counts as 0 there
with order_lines as (
    select * from {{ ref('stg_oms__order_lines') }}
),

shipments as (
    select * from {{ ref('int_shipments_tracked') }}
),

shipment_items as (
    select * from {{ ref('stg_wms__shipment_items') }}
),

orders as (
    select order_id from {{ ref('int_orders_totaled') }}
),

ordered as (
    select order_lines.order_id, order_lines.sku, sum(order_lines.qty) as ordered_qty
    from order_lines
    group by order_lines.order_id, order_lines.sku
),

shipped as (
    select shipments.order_id, shipment_items.sku, sum(shipment_items.qty) as shipped_qty
    from shipment_items
    inner join shipments
        on shipment_items.shipment_id = shipments.shipment_id
    inner join orders
        on shipments.order_id = orders.order_id
    where shipments.shipped_at is not null
    group by shipments.order_id, shipment_items.sku
),

final as (
    select
        coalesce(ordered.order_id, shipped.order_id) as order_id,
        coalesce(ordered.sku, shipped.sku) as sku,
        coalesce(ordered.ordered_qty, 0) as ordered_qty,
        coalesce(shipped.shipped_qty, 0) as shipped_qty,
        coalesce(ordered.ordered_qty, 0) = coalesce(shipped.shipped_qty, 0) as is_matching
    from ordered
    full outer join shipped
        on ordered.order_id = shipped.order_id
        and ordered.sku = shipped.sku
)

select * from final
