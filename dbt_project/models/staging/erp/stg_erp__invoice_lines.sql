-- one row per line of the winning version of each invoice
with source as (
    select * from {{ source('raw', 'erp_invoice_lines') }}
),

winning_invoices as (
    select invoice_id, {{ lineage_columns() }} from {{ ref('stg_erp__invoices') }}
),

renamed as (
    select
        -- ids
        source.{{ adapter.quote('InvoiceId') }} as invoice_id,
        cast(source.line_no as integer) as line_no,
        nullif(source.{{ adapter.quote('OrderId') }}, '') as order_id,
        -- amounts (negative on credit notes)
        {{ money('source.' ~ adapter.quote('NetAmount')) }} as net_amount,
        {{ money('source.' ~ adapter.quote('TaxAmount')) }} as tax_amount,
        {{ money('cast(source.' ~ adapter.quote('NetAmount') ~ ' as decimal(18, 2)) + cast(source.' ~ adapter.quote('TaxAmount') ~ ' as decimal(18, 2))') }} as gross_amount
    from source
    inner join winning_invoices
        on source.{{ adapter.quote('InvoiceId') }} = winning_invoices.invoice_id
        and {{ same_record('source', 'winning_invoices') }}
),

final as (
    select * from renamed
)

select * from final
