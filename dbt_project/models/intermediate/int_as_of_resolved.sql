-- one row: the as_of instant (UTC) every SLA is measured against.
-- O2C_AS_OF when set (ISO 8601; UTC when it has no offset), else the latest timestamp of the loaded data
-- (order updated_at, event occurred_at, gateway created_at, tracking occurred_at, invoice IssuedAt; bank dates do not count).
{%- set as_of_override = as_of_literal(env_var('O2C_AS_OF', '')) %}

with orders as (
    select max(updated_at) as latest_at from {{ ref('stg_oms__orders') }}
),

order_events as (
    select max(occurred_at) as latest_at from {{ ref('stg_oms__order_events') }}
),

gateway as (
    select max(created_at) as latest_at from {{ ref('stg_payments__gateway_transactions') }}
),

tracking as (
    select max(occurred_at) as latest_at from {{ ref('stg_wms__tracking_events') }}
),

invoices as (
    select max(issued_at) as latest_at from {{ ref('stg_erp__invoices') }}
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
