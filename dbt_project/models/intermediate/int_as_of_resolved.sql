-- one row: the as_of instant (UTC) every SLA is measured against.
-- O2C_AS_OF when set (ISO 8601; UTC when it has no offset), else the latest timestamp found in the loaded data:
-- order updated_at, event occurred_at, gateway created_at, tracking occurred_at, invoice IssuedAt (bank dates
-- do not count). "Loaded data" is every loaded record, superseded versions included, so this reads the raw
-- tables (converted with the same macros as staging) rather than the winning versions.
{%- set as_of_override = as_of_literal(env_var('O2C_AS_OF', '')) %}

with orders as (
    select max({{ utc_from_offset_text('updated_at') }}) as latest_at from {{ source('raw', 'oms_orders') }}
),

order_events as (
    select max({{ utc_from_offset_text('occurred_at') }}) as latest_at from {{ source('raw', 'oms_order_events') }}
),

gateway as (
    select max({{ utc_from_offset_text('created_at') }}) as latest_at from {{ source('raw', 'payments_gateway_transactions') }}
),

tracking as (
    select max({{ utc_from_china_local_text('occurred_at') }}) as latest_at from {{ source('raw', 'wms_tracking_events') }}
),

invoices as (
    select max({{ utc_from_offset_text(adapter.quote('IssuedAt')) }}) as latest_at from {{ source('raw', 'erp_invoices') }}
),

data_latest as (
    select max(latest_at) as latest_at
    from (
        select latest_at from orders
        union all select latest_at from order_events
        union all select latest_at from gateway
        union all select latest_at from tracking
        union all select latest_at from invoices
    ) as candidates
),

final as (
    select
        {% if as_of_override is not none -%}
        {{ as_of_override }} as as_of,
        'O2C_AS_OF' as as_of_source
        {%- else -%}
        cast(latest_at as timestamp) as as_of,
        'data' as as_of_source
        {%- endif %}
    from data_latest
)

select * from final
