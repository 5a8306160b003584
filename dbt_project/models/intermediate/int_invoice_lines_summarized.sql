-- one row per order_id found on lines of winning, issued invoices (voided documents count for nothing):
-- invoiced_normal (Σ gross on normal invoices), credit_noted (Σ gross on credit notes, <= 0), first_invoiced_at
with invoices as (
    select * from {{ ref('stg_erp__invoices') }}
),

invoice_lines as (
    select * from {{ ref('stg_erp__invoice_lines') }}
),

issued_lines as (
    select
        invoice_lines.order_id,
        invoices.invoice_type,
        invoices.issued_at,
        invoice_lines.gross_amount
    from invoice_lines
    inner join invoices
        on invoice_lines.invoice_id = invoices.invoice_id
    where invoices.invoice_status = 'issued'
        and invoice_lines.order_id is not null
),

final as (
    select
        issued_lines.order_id,
        {{ money("sum(case when issued_lines.invoice_type = 'normal' then issued_lines.gross_amount else 0 end)") }} as invoiced_normal_amount,
        {{ money("sum(case when issued_lines.invoice_type = 'credit_note' then issued_lines.gross_amount else 0 end)") }} as credit_noted_amount,
        sum(case when issued_lines.invoice_type = 'normal' then 1 else 0 end) as normal_line_count,
        sum(case when issued_lines.invoice_type = 'credit_note' then 1 else 0 end) as credit_note_line_count,
        min(case when issued_lines.invoice_type = 'normal' then issued_lines.issued_at end) as first_invoiced_at
    from issued_lines
    group by issued_lines.order_id
)

select * from final
