-- one row per (exception_type, key) that holds at as_of, exactly as defined in the exceptions contract (docs/warehouse.md).
-- key = order_id, except ORPHAN_PAYMENT (txn_id), UNAPPLIED_CASH (bank 交易流水号) and the settlement types of
-- revision 2 (PAYOUT_* by payout_id, UNSETTLED_TRANSACTION and DOUBLE_SETTLED by txn_id), whose order_id is null.
with orders as (
    select * from {{ ref('int_orders_assembled') }}
),

as_of as (
    select as_of from {{ ref('int_as_of_resolved') }}
),

gateway as (
    select * from {{ ref('stg_payments__gateway_transactions') }}
),

bank_lines as (
    select * from {{ ref('int_bank_lines_matched') }}
),

payouts as (
    select * from {{ ref('int_payouts_reconciled') }}
),

payout_lines as (
    select * from {{ ref('stg_payments__payout_lines') }}
),

facts as (
    select
        orders.*,
        as_of.as_of,
        orders.status in ('shipped', 'delivered', 'completed') as oms_says_shipped,
        orders.shipped_at is not null as is_shipped
    from orders
    cross join as_of
),

channel_duplicates as (
    select
        facts.order_id,
        facts.currency,
        facts.order_total,
        facts.channel,
        facts.channel_order_no,
        row_number() over (
            partition by facts.channel, facts.channel_order_no
            order by facts.created_at, facts.order_id
        ) as channel_rank
    from facts
    where coalesce(facts.channel_order_no, '') <> ''
),

duplicate_order as (
    select
        {{ order_exception('DUPLICATE_ORDER', relation='channel_duplicates') }},
        channel_duplicates.order_total as amount_at_risk,
        'channel ' || channel_duplicates.channel || ' order ' || channel_duplicates.channel_order_no || ' already exists on an earlier order' as details
    from channel_duplicates
    where channel_duplicates.channel_rank > 1
),

stuck_awaiting_approval as (
    select
        {{ order_exception('STUCK_AWAITING_APPROVAL') }},
        facts.order_total as amount_at_risk,
        'created ' || cast(facts.created_at as {{ dbt.type_string() }}) || ' UTC, not approved within {{ var("sla_approval_hours") }}h' as details
    from facts
    where facts.status = 'created'
        and facts.approved_at is null
        and facts.cancelled_at is null
        and {{ sla_elapsed('facts.created_at', 'sla_approval_hours') }}
),

illegal_status_transition as (
    select
        {{ order_exception('ILLEGAL_STATUS_TRANSITION') }},
        {{ money('0') }} as amount_at_risk,
        'OMS events do not start with created or contain a transition outside the legal list' as details
    from facts
    where facts.event_count > 0
        and facts.has_illegal_transition
),

manual_import_bypass as (
    select
        {{ order_exception('MANUAL_IMPORT_BYPASS') }},
        facts.order_total as amount_at_risk,
        'manual_import order got past approval without an approved event' as details
    from facts
    where facts.entry_source = 'manual_import'
        and facts.approved_at is null
        and (facts.has_post_approval_event or facts.is_shipped)
),

orphan_payment as (
    select
        {{ document_exception('ORPHAN_PAYMENT', document_id='gateway.txn_id', currency='gateway.currency') }},
        gateway.amount as amount_at_risk,
        case
            when gateway.order_id is null then 'succeeded capture without a merchant order reference'
            else 'succeeded capture references unknown order ' || gateway.order_id
        end as details
    from gateway
    left join orders
        on gateway.order_id = orders.order_id
    where gateway.status = 'succeeded'
        and gateway.txn_type = 'capture'
        and orders.order_id is null
),

duplicate_payment as (
    select
        {{ order_exception('DUPLICATE_PAYMENT') }},
        {{ money('facts.captured_amount - facts.order_total') }} as amount_at_risk,
        'two equal captures within {{ var("duplicate_payment_window_minutes") }} minutes; captured ' || cast(facts.captured_amount as {{ dbt.type_string() }}) || ' vs order_total ' || cast(facts.order_total as {{ dbt.type_string() }}) as details
    from facts
    where facts.has_duplicate_capture_pair
        and facts.captured_amount > facts.order_total + {{ var('amount_tolerance') }}
),

payment_amount_mismatch as (
    select
        {{ order_exception('PAYMENT_AMOUNT_MISMATCH') }},
        {{ money('abs(facts.captured_amount - facts.order_total)') }} as amount_at_risk,
        'captured ' || cast(facts.captured_amount as {{ dbt.type_string() }}) || ' vs order_total ' || cast(facts.order_total as {{ dbt.type_string() }}) as details
    from facts
    where facts.payment_terms = 'prepaid'
        and not facts.is_cancelled
        and facts.capture_count > 0
        and not (facts.has_duplicate_capture_pair and facts.captured_amount > facts.order_total + {{ var('amount_tolerance') }})
        and abs(facts.captured_amount - facts.order_total) > {{ var('amount_tolerance') }}
),

currency_mismatch as (
    select
        {{ order_exception('CURRENCY_MISMATCH', currency='facts.currency_mismatch_currency') }},
        facts.currency_mismatch_amount as amount_at_risk,
        'succeeded gateway transaction(s) in ' || facts.currency_mismatch_currency || ' for an order in ' || facts.currency as details
    from facts
    where facts.has_currency_mismatch
),

cancelled_but_captured as (
    select
        {{ order_exception('CANCELLED_BUT_CAPTURED') }},
        {{ money('facts.captured_amount - facts.refunded_amount') }} as amount_at_risk,
        'cancelled ' || cast(facts.cancel_time_at as {{ dbt.type_string() }}) || ' UTC with ' || cast(facts.captured_amount - facts.refunded_amount as {{ dbt.type_string() }}) || ' still captured' as details
    from facts
    where facts.is_cancelled
        and facts.captured_amount - facts.refunded_amount > {{ var('amount_tolerance') }}
        and {{ sla_elapsed('facts.cancel_time_at', 'sla_cancelled_capture_hours') }}
),

unapplied_cash as (
    select
        {{ document_exception('UNAPPLIED_CASH', document_id='bank_lines.bank_line_id', currency='bank_lines.currency') }},
        bank_lines.credit_amount as amount_at_risk,
        'bank credit of ' || cast(bank_lines.value_date as {{ dbt.type_string() }}) || ' matches no order' as details
    from bank_lines
    where bank_lines.match_rule = 'unapplied'
),

stuck_awaiting_shipment as (
    select
        {{ order_exception('STUCK_AWAITING_SHIPMENT') }},
        facts.order_total as amount_at_risk,
        'ready ' || cast(facts.ready_at as {{ dbt.type_string() }}) || ' UTC, not shipped within {{ var("sla_shipment_hours") }}h' as details
    from facts
    where not facts.is_cancelled
        and not facts.is_shipped
        and facts.ready_at is not null
        and {{ sla_elapsed('facts.ready_at', 'sla_shipment_hours') }}
),

oms_shipped_without_shipment as (
    select
        {{ order_exception('OMS_SHIPPED_WITHOUT_SHIPMENT') }},
        facts.order_total as amount_at_risk,
        'OMS status ' || facts.status || ' but no WMS shipment has shipped' as details
    from facts
    where facts.oms_says_shipped
        and not facts.is_shipped
),

shipment_not_reflected_in_oms as (
    select
        {{ order_exception('SHIPMENT_NOT_REFLECTED_IN_OMS') }},
        facts.order_total as amount_at_risk,
        'delivered ' || cast(facts.delivered_at as {{ dbt.type_string() }}) || ' UTC but OMS status is still ' || facts.status as details
    from facts
    where facts.delivered_at is not null
        and facts.status in ('created', 'approved', 'allocated')
        and {{ sla_elapsed('facts.delivered_at', 'sla_oms_reflection_hours') }}
),

delivery_before_shipment as (
    select
        {{ order_exception('DELIVERY_BEFORE_SHIPMENT') }},
        {{ money('0') }} as amount_at_risk,
        'a shipment was delivered before it was shipped' as details
    from facts
    where facts.has_delivery_before_shipment
),

shipped_qty_mismatch as (
    select
        {{ order_exception('SHIPPED_QTY_MISMATCH') }},
        facts.order_total as amount_at_risk,
        cast(facts.mismatched_sku_count as {{ dbt.type_string() }}) || ' sku(s) shipped in another quantity than ordered' as details
    from facts
    where facts.status in ('delivered', 'completed')
        and facts.mismatched_sku_count > 0
),

shipped_not_invoiced as (
    select
        {{ order_exception('SHIPPED_NOT_INVOICED') }},
        facts.order_total as amount_at_risk,
        'shipped ' || cast(facts.shipped_at as {{ dbt.type_string() }}) || ' UTC, no invoice within {{ var("sla_invoicing_hours") }}h' as details
    from facts
    where facts.is_shipped
        and not facts.is_cancelled
        and facts.normal_line_count = 0
        and {{ sla_elapsed('facts.shipped_at', 'sla_invoicing_hours') }}
),

invoice_amount_mismatch as (
    select
        {{ order_exception('INVOICE_AMOUNT_MISMATCH') }},
        {{ money('abs(facts.invoiced_normal_amount - facts.order_total)') }} as amount_at_risk,
        'invoiced ' || cast(facts.invoiced_normal_amount as {{ dbt.type_string() }}) || ' vs order_total ' || cast(facts.order_total as {{ dbt.type_string() }}) as details
    from facts
    where facts.normal_line_count > 0
        and abs(facts.invoiced_normal_amount - facts.order_total) > {{ var('amount_tolerance') }}
),

refund_without_credit_note as (
    select
        {{ order_exception('REFUND_WITHOUT_CREDIT_NOTE') }},
        facts.refunded_amount as amount_at_risk,
        'refunded ' || cast(facts.refunded_amount as {{ dbt.type_string() }}) || ' since ' || cast(facts.first_refunded_at as {{ dbt.type_string() }}) || ' UTC without a credit note' as details
    from facts
    where facts.refunded_amount > {{ var('amount_tolerance') }}
        and facts.normal_line_count > 0
        and facts.credit_note_line_count = 0
        and facts.net_paid_amount < facts.invoiced_normal_amount - {{ var('amount_tolerance') }}
        and {{ sla_elapsed('facts.first_refunded_at', 'sla_credit_note_hours') }}
),

ar_overdue as (
    select
        {{ order_exception('AR_OVERDUE') }},
        {{ money('facts.invoiced_amount - facts.net_paid_amount') }} as amount_at_risk,
        'invoiced ' || cast(facts.first_invoiced_at as {{ dbt.type_string() }}) || ' UTC, ' || cast(facts.invoiced_amount - facts.net_paid_amount as {{ dbt.type_string() }}) || ' unpaid after {{ var("payment_terms_days") }} days' as details
    from facts
    where facts.payment_terms = 'net30'
        and facts.normal_line_count > 0
        and {{ sla_elapsed('facts.first_invoiced_at', 'payment_terms_days', datepart='day') }}
        and facts.net_paid_amount < facts.invoiced_amount - {{ var('amount_tolerance') }}
),

payout_amount_mismatch as (
    select
        {{ document_exception('PAYOUT_AMOUNT_MISMATCH', document_id='payouts.payout_id', currency='payouts.currency') }},
        abs(payouts.difference) as amount_at_risk,
        'payout of ' || cast(payouts.payout_date as {{ dbt.type_string() }}) || ' nets ' || cast(payouts.net_amount as {{ dbt.type_string() }}) || ', the bank received ' || cast(payouts.received_amount as {{ dbt.type_string() }}) as details
    from payouts
    where payouts.status = 'mismatch'
),

payout_not_received as (
    select
        {{ document_exception('PAYOUT_NOT_RECEIVED', document_id='payouts.payout_id', currency='payouts.currency') }},
        payouts.net_amount as amount_at_risk,
        'payout of ' || cast(payouts.payout_date as {{ dbt.type_string() }}) || ' (net ' || cast(payouts.net_amount as {{ dbt.type_string() }}) || ') not received within {{ var("sla_payout_receipt_days") }} days' as details
    from payouts
    where payouts.status = 'not_received'
),

-- the transactions every payout of the transaction's currency lists (a payout's currency: its latest row)
listed_in_currency as (
    select
        payout_lines.txn_id,
        payouts.currency,
        count(distinct payout_lines.payout_id) as payout_count
    from payout_lines
    inner join payouts
        on payout_lines.payout_id = payouts.payout_id
    group by payout_lines.txn_id, payouts.currency
),

settlement_facts as (
    -- winning, succeeded gateway transactions, with the payouts of their currency that list them;
    -- only when the landing folder holds a payout row (a company without settlement reports gets none)
    select
        gateway.txn_id,
        gateway.currency,
        gateway.amount,
        gateway.created_at,
        coalesce(listed_in_currency.payout_count, 0) as payout_count,
        as_of.as_of
    from gateway
    cross join as_of
    left join listed_in_currency
        on gateway.txn_id = listed_in_currency.txn_id
        and gateway.currency = listed_in_currency.currency
    where gateway.status = 'succeeded'
        and exists (select 1 from payout_lines)
),

unsettled_transaction as (
    select
        {{ document_exception('UNSETTLED_TRANSACTION', document_id='settlement_facts.txn_id', currency='settlement_facts.currency') }},
        settlement_facts.amount as amount_at_risk,
        'succeeded ' || cast(settlement_facts.created_at as {{ dbt.type_string() }}) || ' UTC, in no payout after {{ var("sla_settlement_days") }} days' as details
    from settlement_facts
    where settlement_facts.payout_count = 0
        and {{ sla_elapsed('settlement_facts.created_at', 'sla_settlement_days', as_of='settlement_facts.as_of', datepart='day') }}
),

double_settled as (
    select
        {{ document_exception('DOUBLE_SETTLED', document_id='settlement_facts.txn_id', currency='settlement_facts.currency') }},
        settlement_facts.amount as amount_at_risk,
        'listed by ' || cast(settlement_facts.payout_count as {{ dbt.type_string() }}) || ' payouts' as details
    from settlement_facts
    where settlement_facts.payout_count >= 2
),

unioned as (
    select * from duplicate_order
    union all select * from stuck_awaiting_approval
    union all select * from illegal_status_transition
    union all select * from manual_import_bypass
    union all select * from orphan_payment
    union all select * from duplicate_payment
    union all select * from payment_amount_mismatch
    union all select * from currency_mismatch
    union all select * from cancelled_but_captured
    union all select * from unapplied_cash
    union all select * from stuck_awaiting_shipment
    union all select * from oms_shipped_without_shipment
    union all select * from shipment_not_reflected_in_oms
    union all select * from delivery_before_shipment
    union all select * from shipped_qty_mismatch
    union all select * from shipped_not_invoiced
    union all select * from invoice_amount_mismatch
    union all select * from refund_without_credit_note
    union all select * from ar_overdue
    union all select * from payout_amount_mismatch
    union all select * from payout_not_received
    union all select * from unsettled_transaction
    union all select * from double_settled
),

final as (
    select
        unioned.exception_type,
        unioned.order_id,
        unioned.document_id,
        coalesce(unioned.order_id, unioned.document_id) as exception_key,
        unioned.currency,
        {{ money('unioned.amount_at_risk') }} as amount_at_risk,
        unioned.details
    from unioned
)

select * from final
