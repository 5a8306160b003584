-- one row per OMS order that has money movements: fully_paid_at, the first moment the running sum of
-- succeeded captures + matched bank credits − succeeded refunds (order currency, by time) reaches order_total − tolerance
with orders as (
    select order_id, currency, order_total from {{ ref('int_orders_totaled') }}
),

gateway as (
    select * from {{ ref('stg_payments__gateway_transactions') }}
),

bank_lines as (
    select * from {{ ref('int_bank_lines_matched') }}
),

movements as (
    select
        gateway.order_id,
        gateway.created_at as moved_at,
        gateway.txn_id as document_id,
        case when gateway.txn_type = 'capture' then gateway.amount else -gateway.amount end as amount
    from gateway
    inner join orders
        on gateway.order_id = orders.order_id
        and gateway.currency = orders.currency
    where gateway.status = 'succeeded'

    union all

    select
        bank_lines.order_id,
        bank_lines.value_date_start_at as moved_at,
        bank_lines.bank_line_id as document_id,
        bank_lines.credit_amount as amount
    from bank_lines
    where bank_lines.order_id is not null
),

running as (
    select
        movements.order_id,
        movements.moved_at,
        sum(movements.amount) over (
            partition by movements.order_id
            order by movements.moved_at, movements.document_id
            rows between unbounded preceding and current row
        ) as running_paid
    from movements
),

final as (
    select
        running.order_id,
        min(case when running.running_paid >= orders.order_total - {{ var('amount_tolerance') }} then running.moved_at end) as fully_paid_at
    from running
    inner join orders
        on running.order_id = orders.order_id
    group by running.order_id
)

select * from final
