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
        _export_date,
        _file_path,
        _record_no
    from source
),

ranked as (
    select
        renamed.*,
        row_number() over (
            partition by invoice_id
            order by _export_date desc, _file_path desc, _record_no desc
        ) as version_rank
    from renamed
),

final as (
    select invoice_id, invoice_no, buyer_id, original_invoice_id, invoice_type, invoice_status,
           currency, issued_at, _export_date, _file_path, _record_no
    from ranked
    where version_rank = 1
)

select * from final
