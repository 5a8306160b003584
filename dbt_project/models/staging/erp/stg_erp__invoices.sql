-- one row per InvoiceId: the later element wins (a re-export with Status=voided voids it)
with source as (
    select * from {{ source('raw', 'erp_invoices') }}
),

renamed as (
    select
        -- ids
        {{ adapter.quote('InvoiceId') }} as invoice_id,
        {{ adapter.quote('InvoiceNo') }} as invoice_no,
        {{ adapter.quote('BuyerId') }} as buyer_id,
        nullif({{ adapter.quote('OriginalInvoiceId') }}, '') as original_invoice_id,
        -- dimensions
        {{ adapter.quote('Type') }} as invoice_type,
        {{ adapter.quote('Status') }} as invoice_status,
        {{ adapter.quote('Currency') }} as currency,
        -- timestamps
        {{ utc_from_offset_text(adapter.quote('IssuedAt')) }} as issued_at,
        -- lineage
        {{ lineage_columns() }}
    from source
),

ranked as (
    {{ latest_version_rank('renamed', partition_by='invoice_id') }}
),

final as (
    select invoice_id, invoice_no, buyer_id, original_invoice_id, invoice_type, invoice_status,
           currency, issued_at, {{ lineage_columns() }}
    from ranked
    where version_rank = 1
)

select * from final
