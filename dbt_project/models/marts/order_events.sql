-- one row per event of an OMS order from any system (oms, payments, bank, wms, erp): its cross-system history
with orders as (
    select order_id from {{ ref('int_orders_totaled') }}
),

oms_events as (
    select * from {{ ref('stg_oms__order_events') }}
),

gateway as (
    select * from {{ ref('stg_payments__gateway_transactions') }}
),

bank_lines as (
    select * from {{ ref('int_bank_lines_matched') }}
),

shipments as (
    select * from {{ ref('stg_wms__shipments') }}
),

tracking_events as (
    select * from {{ ref('stg_wms__tracking_events') }}
),

invoices as (
    select * from {{ ref('stg_erp__invoices') }}
),

invoice_lines as (
    select * from {{ ref('stg_erp__invoice_lines') }}
),

-- an invoice is one event for each order it names, however many lines (goods, freight) name that order
invoice_orders as (
    select
        invoice_lines.invoice_id,
        invoice_lines.order_id,
        sum(invoice_lines.gross_amount) as gross_amount
    from invoice_lines
    group by invoice_lines.invoice_id, invoice_lines.order_id
),

unioned as (
    select oms_events.order_id, oms_events.occurred_at as event_at, 'oms' as system, oms_events.status as event,
           oms_events.event_id as document_id, cast(null as decimal(18, 2)) as amount, cast(null as {{ dbt.type_string() }}) as currency
    from oms_events
    union all
    select gateway.order_id, gateway.created_at, 'payments', gateway.txn_type || '_' || gateway.status,
           gateway.txn_id, gateway.amount, gateway.currency
    from gateway
    union all
    select bank_lines.order_id, bank_lines.value_date_start_at, 'bank', 'bank_credit_' || bank_lines.match_rule,
           bank_lines.bank_line_id, bank_lines.credit_amount, bank_lines.currency
    from bank_lines
    where bank_lines.order_id is not null
    union all
    select shipments.order_id, shipments.created_at, 'wms', 'shipment_created',
           shipments.shipment_id, cast(null as decimal(18, 2)), cast(null as {{ dbt.type_string() }})
    from shipments
    union all
    select shipments.order_id, tracking_events.occurred_at, 'wms', 'tracking_' || tracking_events.event,
           shipments.shipment_id, cast(null as decimal(18, 2)), cast(null as {{ dbt.type_string() }})
    from tracking_events
    inner join shipments
        on tracking_events.shipment_id = shipments.shipment_id
    union all
    select invoice_orders.order_id, invoices.issued_at, 'erp', invoices.invoice_type || '_' || invoices.invoice_status,
           invoices.invoice_id, invoice_orders.gross_amount, invoices.currency
    from invoice_orders
    inner join invoices
        on invoice_orders.invoice_id = invoices.invoice_id
),

final as (
    select
        {{ dbt.hash(dbt.concat(['unioned.system', "'|'", 'unioned.document_id', "'|'", 'unioned.event', "'|'", 'unioned.order_id', "'|'", 'cast(unioned.event_at as ' ~ dbt.type_string() ~ ')'])) }} as order_event_id,
        unioned.order_id,
        unioned.event_at,
        unioned.system,
        unioned.event,
        unioned.document_id,
        {{ money('unioned.amount') }} as amount,
        unioned.currency
    from unioned
    inner join orders
        on unioned.order_id = orders.order_id
)

select * from final
