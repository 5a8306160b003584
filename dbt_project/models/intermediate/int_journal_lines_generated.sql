-- one row per posting line of the double-entry journal, in the document currency (marts.md posting rules):
-- issued invoice / credit-note lines, succeeded gateway captures, refunds and fees, bank credit lines
-- (settling a payout -> 1100, paying an order -> 1200, unmatched -> 2300). Exactly one line per entry is flagged is_balancing_line: it absorbs
-- the CNY rounding in ledger_entries.
{%- set bank_entry_type -%}
    case when match_rule = 'payout' then 'payout_receipt' when order_id is null then 'unapplied_cash' else 'bank_receipt' end
{%- endset %}
with invoices as (
    select * from {{ ref('stg_erp__invoices') }}
),

invoice_lines as (
    select * from {{ ref('stg_erp__invoice_lines') }}
),

gateway as (
    select * from {{ ref('stg_payments__gateway_transactions') }}
),

bank_lines as (
    select * from {{ ref('int_bank_lines_matched') }}
),

orders as (
    select order_id, currency from {{ ref('int_orders_totaled') }}
),

issued_invoice_lines as (
    select
        'INV:' || invoice_lines.invoice_id || ':' || cast(invoice_lines.line_no as {{ dbt.type_string() }}) as entry_id,
        invoices.invoice_type,
        invoices.invoice_id,
        invoices.issued_at,
        -- exceptions.md compares invoice amounts with order_total in the order currency, with no conversion:
        -- a line of an OMS order is posted in the order's currency (a merged invoice may carry another
        -- header Currency); lines of unknown orders keep the invoice's currency
        coalesce(orders.currency, invoices.currency) as currency,
        orders.order_id,
        invoice_lines.net_amount,
        invoice_lines.tax_amount,
        invoice_lines.gross_amount
    from invoice_lines
    inner join invoices
        on invoice_lines.invoice_id = invoices.invoice_id
    left join orders
        on invoice_lines.order_id = orders.order_id
    where invoices.invoice_status = 'issued'
),

succeeded_gateway as (
    select
        gateway.txn_id,
        gateway.txn_type,
        gateway.currency,
        gateway.amount,
        gateway.fee,
        gateway.created_at,
        orders.order_id
    from gateway
    left join orders
        on gateway.order_id = orders.order_id
    where gateway.status = 'succeeded'
),

credit_lines as (
    select * from bank_lines where bank_lines.direction = 'credit'
),

postings as (
    -- normal invoice: Dr 1200 gross / Cr 4000 net, Cr 2200 tax
    select entry_id, 1 as line_no, 'invoice' as entry_type, issued_at as posted_at, '1200' as account, gross_amount as debit, 0 as credit, currency, order_id, 'erp' as source_system, invoice_id as source_document_id, false as is_balancing_line
    from issued_invoice_lines where invoice_type = 'normal'
    union all
    select entry_id, 2, 'invoice', issued_at, '4000', 0, net_amount, currency, order_id, 'erp', invoice_id, false
    from issued_invoice_lines where invoice_type = 'normal'
    union all
    select entry_id, 3, 'invoice', issued_at, '2200', 0, tax_amount, currency, order_id, 'erp', invoice_id, true
    from issued_invoice_lines where invoice_type = 'normal'
    union all
    -- credit note (amounts negative in the file): Dr 4100 net, Dr 2200 tax / Cr 1200 gross
    select entry_id, 1, 'credit_note', issued_at, '4100', -net_amount, 0, currency, order_id, 'erp', invoice_id, false
    from issued_invoice_lines where invoice_type = 'credit_note'
    union all
    select entry_id, 2, 'credit_note', issued_at, '2200', -tax_amount, 0, currency, order_id, 'erp', invoice_id, true
    from issued_invoice_lines where invoice_type = 'credit_note'
    union all
    select entry_id, 3, 'credit_note', issued_at, '1200', 0, -gross_amount, currency, order_id, 'erp', invoice_id, false
    from issued_invoice_lines where invoice_type = 'credit_note'
    union all
    -- gateway capture: Dr 1100 / Cr 1200
    select 'GW:' || txn_id, 1, 'capture', created_at, '1100', amount, 0, currency, order_id, 'payments', txn_id, false
    from succeeded_gateway where txn_type = 'capture'
    union all
    select 'GW:' || txn_id, 2, 'capture', created_at, '1200', 0, amount, currency, order_id, 'payments', txn_id, true
    from succeeded_gateway where txn_type = 'capture'
    union all
    -- gateway refund: Dr 1200 / Cr 1100
    select 'GW:' || txn_id, 1, 'refund', created_at, '1200', amount, 0, currency, order_id, 'payments', txn_id, false
    from succeeded_gateway where txn_type = 'refund'
    union all
    select 'GW:' || txn_id, 2, 'refund', created_at, '1100', 0, amount, currency, order_id, 'payments', txn_id, true
    from succeeded_gateway where txn_type = 'refund'
    union all
    -- gateway fee: Dr 6100 / Cr 1100
    select 'FEE:' || txn_id, 1, 'payment_fee', created_at, '6100', fee, 0, currency, order_id, 'payments', txn_id, false
    from succeeded_gateway where fee > 0
    union all
    select 'FEE:' || txn_id, 2, 'payment_fee', created_at, '1100', 0, fee, currency, order_id, 'payments', txn_id, true
    from succeeded_gateway where fee > 0
    union all
    -- bank credit: Dr 1110 / Cr 1100 (settles a gateway payout), Cr 1200 (pays an order) or Cr 2300 (unapplied)
    select 'BANK:' || bank_line_id, 1, {{ bank_entry_type }},
           value_date_start_at, '1110', credit_amount, 0, currency, order_id, 'bank', bank_line_id, false
    from credit_lines
    union all
    select 'BANK:' || bank_line_id, 2, {{ bank_entry_type }},
           value_date_start_at,
           case when match_rule = 'payout' then '1100' when order_id is null then '2300' else '1200' end,
           0, credit_amount, currency, order_id, 'bank', bank_line_id, true
    from credit_lines
),

final as (
    select
        postings.entry_id,
        cast(postings.line_no as integer) as line_no,
        case
            when postings.order_id is not null then 'JV-' || postings.order_id
            else 'JV-' || upper(postings.source_system) || '-' || postings.source_document_id
        end as voucher_id,
        postings.order_id,
        postings.entry_type,
        postings.posted_at,
        postings.account,
        case postings.account
            when '1100' then 'gateway_clearing'
            when '1110' then 'bank'
            when '1200' then 'accounts_receivable'
            when '2200' then 'vat_output'
            when '2300' then 'unapplied_cash'
            when '4000' then 'revenue'
            when '4100' then 'sales_returns'
            when '6100' then 'payment_fees'
        end as account_name,
        {{ money('postings.debit') }} as debit,
        {{ money('postings.credit') }} as credit,
        postings.currency,
        postings.source_system,
        postings.source_document_id,
        postings.is_balancing_line
    from postings
)

select * from final
