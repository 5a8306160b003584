-- one row per reconciliation exception (exception_type, key) holding at as_of (exceptions.md),
-- with a deterministic exception_id, a severity and the amount at risk (docs/warehouse.md)
with detected as (
    select * from {{ ref('int_exceptions_detected') }}
),

as_of as (
    select as_of from {{ ref('int_as_of_resolved') }}
),

fx_rates as (
    select * from {{ ref('stg_reference__fx_rates') }}
),

rate_keys as (
    select distinct detected.currency, {{ china_date('as_of.as_of') }} as rate_on
    from detected
    cross join as_of
),

rates as (
    {{ fx_rates_for('rate_keys', 'fx_rates') }}
),

final as (
    select
        {{ dbt.hash(dbt.concat(['detected.exception_type', "'|'", 'detected.exception_key'])) }} as exception_id,
        detected.exception_type,
        detected.order_id,
        detected.document_id,
        detected.exception_key,
        as_of.as_of,
        case
            when detected.exception_type in (
                'DUPLICATE_PAYMENT', 'CANCELLED_BUT_CAPTURED', 'ORPHAN_PAYMENT', 'UNAPPLIED_CASH',
                'REFUND_WITHOUT_CREDIT_NOTE', 'MANUAL_IMPORT_BYPASS', 'CURRENCY_MISMATCH',
                'PAYOUT_AMOUNT_MISMATCH', 'PAYOUT_NOT_RECEIVED', 'DOUBLE_SETTLED'
            ) then 'high'
            when detected.exception_type in (
                'PAYMENT_AMOUNT_MISMATCH', 'INVOICE_AMOUNT_MISMATCH', 'SHIPPED_NOT_INVOICED', 'AR_OVERDUE',
                'DUPLICATE_ORDER', 'OMS_SHIPPED_WITHOUT_SHIPMENT', 'SHIPPED_QTY_MISMATCH', 'UNSETTLED_TRANSACTION'
            ) then 'medium'
            else 'low'
        end as severity,
        detected.amount_at_risk,
        detected.currency,
        {{ money('round(detected.amount_at_risk * rates.rate_to_cny, 2)') }} as amount_at_risk_cny,
        detected.details
    from detected
    cross join as_of
    left join rates
        on detected.currency = rates.currency
        and {{ china_date('as_of.as_of') }} = rates.rate_on
)

select * from final
