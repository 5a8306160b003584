-- one row per OMS order (winning snapshot) with its order_total:
-- Σ(qty × unit_price − discount) + shipping_fee − coupon_amount − points_amount, rounded to 2 decimals
with orders as (
    select * from {{ ref('stg_oms__orders') }}
),

order_lines as (
    select * from {{ ref('stg_oms__order_lines') }}
),

line_totals as (
    select
        order_lines.order_id,
        sum(order_lines.qty * order_lines.unit_price - order_lines.discount) as lines_amount,
        count(*) as line_count
    from order_lines
    group by order_lines.order_id
),

final as (
    select
        orders.order_id,
        orders.channel_order_no,
        orders.customer_id,
        orders.channel,
        orders.customer_name,
        orders.payment_terms,
        orders.currency,
        orders.entry_source,
        orders.status,
        coalesce(line_totals.line_count, 0) as line_count,
        {{ money('round(coalesce(line_totals.lines_amount, 0) + orders.shipping_fee - orders.coupon_amount - orders.points_amount, 2)') }} as order_total,
        orders.tax_rate,
        orders.created_at,
        orders.updated_at
    from orders
    left join line_totals
        on orders.order_id = line_totals.order_id
)

select * from final
