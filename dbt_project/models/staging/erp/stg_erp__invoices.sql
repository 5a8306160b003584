-- one row per InvoiceId: the later element wins (a re-export with Status=voided voids it)
with source as (
    select * from {{ source('raw', 'erp_invoices') }}
),

renamed as (
    select
        -- ids
        "InvoiceId" as invoice_id,
        "InvoiceNo" as invoice_no,
        "BuyerId" as buyer_id,
        nullif("OriginalInvoiceId", '') as original_invoice_id,
        -- dimensions
        "Type" as invoice_type,
        "Status" as invoice_status,
        "Currency" as currency,
        -- timestamps
        {{ utc_from_offset_text('"IssuedAt"') }} as issued_at,
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
