-- one row per OMS order: every cross-system fact the exceptions and the ledger need, in the order currency
with orders as (
    select * from {{ ref('int_orders_totaled') }}
),

event_summary as (
    select * from {{ ref('int_order_events_summarized') }}
),

payments as (
    select * from {{ ref('int_payments_summarized') }}
),

bank_lines as (
    select * from {{ ref('int_bank_lines_matched') }}
),

invoices as (
    select * from {{ ref('int_invoice_lines_summarized') }}
),

shipments as (
    select * from {{ ref('int_shipments_summarized') }}
),

quantities as (
    select * from {{ ref('int_order_quantities_compared') }}
),

readiness as (
    select * from {{ ref('int_orders_readied') }}
),

paid as (
    select * from {{ ref('int_orders_paid') }}
),

bank_received as (
    select bank_lines.order_id, sum(bank_lines.credit_amount) as bank_received_amount, count(*) as bank_line_count
    from bank_lines
    where bank_lines.order_id is not null
    group by bank_lines.order_id
),

quantity_mismatches as (
    select quantities.order_id, count(*) as mismatched_sku_count
    from quantities
    where not quantities.is_matching
    group by quantities.order_id
),

joined as (
    select
        orders.order_id,
        orders.channel_order_no,
        orders.customer_id,
        orders.customer_name,
        orders.channel,
        orders.payment_terms,
        orders.currency,
        orders.entry_source,
        orders.status,
        orders.order_total,
        orders.created_at,
        orders.updated_at,
        -- OMS events
        coalesce(event_summary.event_count, 0) as event_count,
        event_summary.approved_at,
        event_summary.cancelled_at,
        coalesce(event_summary.has_illegal_transition, false) as has_illegal_transition,
        coalesce(event_summary.has_post_approval_event, false) as has_post_approval_event,
        event_summary.cancelled_at is not null or orders.status = 'cancelled' as is_cancelled,
        coalesce(event_summary.cancelled_at, case when orders.status = 'cancelled' then orders.updated_at end) as cancel_time_at,
        -- payments
        coalesce(payments.captured_amount, 0) as captured_amount,
        coalesce(payments.refunded_amount, 0) as refunded_amount,
        coalesce(bank_received.bank_received_amount, 0) as bank_received_amount,
        coalesce(payments.capture_count, 0) as capture_count,
        coalesce(payments.has_currency_mismatch, false) as has_currency_mismatch,
        coalesce(payments.currency_mismatch_amount, 0) as currency_mismatch_amount,
        payments.currency_mismatch_currency,
        coalesce(payments.has_duplicate_capture_pair, false) as has_duplicate_capture_pair,
        payments.first_refunded_at,
        readiness.ready_at,
        paid.fully_paid_at,
        -- invoices
        coalesce(invoices.invoiced_normal_amount, 0) as invoiced_normal_amount,
        coalesce(invoices.credit_noted_amount, 0) as credit_noted_amount,
        coalesce(invoices.normal_line_count, 0) as normal_line_count,
        coalesce(invoices.credit_note_line_count, 0) as credit_note_line_count,
        invoices.first_invoiced_at,
        -- shipments
        coalesce(shipments.shipment_count, 0) as shipment_count,
        shipments.shipped_at,
        shipments.delivered_at,
        coalesce(shipments.has_delivery_before_shipment, false) as has_delivery_before_shipment,
        coalesce(quantity_mismatches.mismatched_sku_count, 0) as mismatched_sku_count
    from orders
    left join event_summary on orders.order_id = event_summary.order_id
    left join payments on orders.order_id = payments.order_id
    left join bank_received on orders.order_id = bank_received.order_id
    left join readiness on orders.order_id = readiness.order_id
    left join paid on orders.order_id = paid.order_id
    left join invoices on orders.order_id = invoices.order_id
    left join shipments on orders.order_id = shipments.order_id
    left join quantity_mismatches on orders.order_id = quantity_mismatches.order_id
),

final as (
    select
        joined.*,
        {{ money('joined.captured_amount + joined.bank_received_amount - joined.refunded_amount') }} as net_paid_amount,
        {{ money('joined.invoiced_normal_amount + joined.credit_noted_amount') }} as invoiced_amount
    from joined
)

select * from final
