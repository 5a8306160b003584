"""Integrity suites: the pipeline's own correctness. Always severity `error` (blocking).

Each query returns the unexpected rows, first column `key`. `{batch}` is the suite's guarded
table; `${name}` placeholders are settings filled in by `expectations.suites.build_suites`.
Queries aggregate inside DuckDB and return only offending rows, so they stay cheap at 1M orders.
"""
from __future__ import annotations

from expectations.model import ExpectationSpec, SuiteSpec

# source key -> raw table holding one row per delivered record (child tables are not counted)
RAW_RECORD_TABLES: dict[str, str] = {
    "oms/orders": "raw.oms_orders",
    "oms/order_events": "raw.oms_order_events",
    "payments/gateway": "raw.payments_gateway_transactions",
    "payments/bank": "raw.payments_bank_statement_lines",
    "payments/payouts": "raw.payments_payouts",
    "wms/shipments": "raw.wms_shipments",
    "wms/tracking": "raw.wms_tracking_events",
    "erp/invoices": "raw.erp_invoices",
    "reference/fx_rates": "raw.reference_fx_rates",
    "finance/resolutions": "raw.finance_resolutions",
}

# Sources a company may not export at all (revision 2: settlement reports): never stale before
# their first delivery.
OPTIONAL_SOURCES: frozenset[str] = frozenset({"payments/payouts"})
# Sources delivered when someone decides something, not on a schedule: never stale (issue 12).
UNSCHEDULED_SOURCES: frozenset[str] = frozenset({"finance/resolutions"})

ORDER_KEYED_TYPES: tuple[str, ...] = (
    "DUPLICATE_ORDER", "STUCK_AWAITING_APPROVAL", "ILLEGAL_STATUS_TRANSITION",
    "MANUAL_IMPORT_BYPASS", "DUPLICATE_PAYMENT", "PAYMENT_AMOUNT_MISMATCH",
    "CURRENCY_MISMATCH", "CANCELLED_BUT_CAPTURED", "STUCK_AWAITING_SHIPMENT",
    "OMS_SHIPPED_WITHOUT_SHIPMENT", "SHIPMENT_NOT_REFLECTED_IN_OMS", "DELIVERY_BEFORE_SHIPMENT",
    "SHIPPED_QTY_MISMATCH", "SHIPPED_NOT_INVOICED", "INVOICE_AMOUNT_MISMATCH",
    "REFUND_WITHOUT_CREDIT_NOTE", "AR_OVERDUE",
)
DOCUMENT_KEYED_TYPES: tuple[str, ...] = (
    "ORPHAN_PAYMENT", "UNAPPLIED_CASH",
    # revision 2 (settlement): keyed by payout_id or txn_id
    "PAYOUT_AMOUNT_MISMATCH", "PAYOUT_NOT_RECEIVED", "UNSETTLED_TRANSACTION", "DOUBLE_SETTLED",
)


def _sql_list(values) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


# Winning versions of raw rows ("later" = export date, file name in byte order, position).
_LATER_WINS = "row_number() over (partition by {key} order by _export_date desc, _file_path desc, _record_no desc)"

WINNING_GATEWAY = f"""
    select *, {_LATER_WINS.format(key="txn_id")} as _rn from raw.payments_gateway_transactions
"""
WINNING_BANK = f"""
    select *, {_LATER_WINS.format(key='"交易流水号"')} as _rn from raw.payments_bank_statement_lines
"""
WINNING_INVOICES = f"""
    select *, {_LATER_WINS.format(key='"InvoiceId"')} as _rn from raw.erp_invoices
"""

_KNOWN_ORDERS = "(select order_id from marts.order_ledger)"


def _suite(name: str, table: str, *expectations: tuple[str, str, str]) -> SuiteSpec:
    """An integrity suite guarding `table`; each expectation is (id, description, query), severity error."""
    return SuiteSpec(name=name, kind="integrity", table=table, expectations=tuple(
        ExpectationSpec(id=id, suite=name, kind="integrity", table=table, severity="error",
                        description=description, query=query.strip())
        for id, description, query in expectations
    ))


def _unique_not_null_query(column: str, rows_as: str, key: str | None = None) -> str:
    """`column` of {batch} is a key: rows whose value repeats or is null. `key` renders it as text."""
    return f"""
select coalesce({key or column}, '<null>') as key, count(*) as {rows_as}
from {{batch}}
group by {column}
having count(*) > 1 or {column} is null
order by key
"""


def _per_file_tie_query(counts: str, counts_sql: str, files_column: str, counted_as: str) -> str:
    """Per file path, {batch}.`files_column` (null = 0) = the `n` of the CTE `counts` (`counts_sql`:
    file_path, n); a path present on one side only counts 0 on the other."""
    return f"""
with {counts} as (
    {counts_sql}
), files as (
    select file_path, coalesce({files_column}, 0) as n from {{batch}}
)
select coalesce(f.file_path, r.file_path) as key, f.n as {files_column}, r.n as {counted_as}
from files f full join {counts} r on f.file_path = r.file_path
where coalesce(f.n, 0) <> coalesce(r.n, 0)
order by key
"""


def _captures_tie_journal_query(captures_from: str, amount: str, captured_as: str, winning: str | None = None) -> str:
    """Per currency, succeeded gateway captures of known orders in `captures_from` = 1100 debits of
    those orders in {batch}. `winning`: a WINNING_* query, named `captures_from`, whose rows with
    `_rn = 1` are the ones counted."""
    with_winning = f"{captures_from} as ({winning}),\n" if winning else ""
    only_winning = "_rn = 1 and " if winning else ""
    return f"""
with {with_winning}captures as (
    select currency, sum({amount}) as amount
    from {captures_from}
    where {only_winning}status = 'succeeded' and txn_type = 'capture' and order_id in {_KNOWN_ORDERS}
    group by currency
), journal as (
    select currency, sum(debit) as amount
    from {{batch}}
    where account like '1100%' and debit > 0 and order_id in {_KNOWN_ORDERS}
    group by currency
)
select 'captures ' || coalesce(c.currency, j.currency) as key,
       c.amount as {captured_as}, j.amount as journal_1100_debit
from captures c full join journal j on c.currency = j.currency
where coalesce(c.amount, 0) <> coalesce(j.amount, 0)
order by key
"""


def _orders_tie_ledger_query(orders: str, orders_sql: str, in_orders_as: str) -> str:
    """The distinct order_ids of the CTE `orders` (`orders_sql`) are exactly those of {batch}."""
    return f"""
with {orders} as (
    {orders_sql}
), ledger as (
    select distinct order_id from {{batch}}
)
select coalesce(o.order_id, l.order_id) as key,
       o.order_id is not null as {in_orders_as}, l.order_id is not null as in_order_ledger
from {orders} o full join ledger l on o.order_id = l.order_id
where o.order_id is null or l.order_id is null
order by key
"""


# ---------------------------------------------------------------- ingest bookkeeping
_S_INGEST = "integrity.ingest"
_T_FILES = "ingest.files"

_raw_counts = "\n        union all ".join(
    f"select _file_path as file_path, count(*) as n from {table} group by _file_path"
    for table in RAW_RECORD_TABLES.values()
)

INGEST = _suite(
    _S_INGEST, _T_FILES,
    ("ingest_file_accounting_identity",
     "Per delivered file: records_read = records_loaded + records_quarantined + repeats_skipped "
     "(nothing landed is lost).",
     """
select file_path as key, records_read, records_loaded, records_quarantined, repeats_skipped
from {batch}
where records_read is null or records_loaded is null or records_quarantined is null
   or repeats_skipped is null
   or records_read <> records_loaded + records_quarantined + repeats_skipped
order by key
"""),
    ("ingest_file_path_unique",
     "ingest.files holds one row per delivered file path.",
     _unique_not_null_query("file_path", "rows_for_path")),
    ("ingest_raw_records_tie_loaded",
     "Per file, the raw table holds exactly records_loaded records (raw ties to the accounting).",
     _per_file_tie_query("raw_counts", _raw_counts, "records_loaded", "raw_records")),
    ("ingest_rejects_tie_quarantined",
     "Per file, ingest.rejects holds exactly records_quarantined rows (every quarantined record has its reason).",
     _per_file_tie_query("rejects", "select file_path, count(*) as n from ingest.rejects group by file_path",
                         "records_quarantined", "reject_rows")),
    ("source_freshness",
     "Every source delivered a file no older than ${freshness_days} days before as_of (${as_of_text}); "
     "a header-only or byte-identical re-delivered file counts: it says the source had nothing new.",
     f"""
with expected(source) as (
    values {", ".join(f"('{s}')" for s in RAW_RECORD_TABLES if s not in OPTIONAL_SOURCES | UNSCHEDULED_SOURCES)}
    -- an optional source is expected once it has delivered anything
    union select distinct source from {{batch}} where source in ({", ".join(f"'{s}'" for s in OPTIONAL_SOURCES)})
), latest as (
    select source, max(export_date) as latest_date
    from {{batch}}
    -- a delivery makes its source fresh for its export date, whatever the file held (issue 11)
    where source <> 'reference/fx_rates'
    group by source
    union all
    select 'reference/fx_rates', max(try_cast("date" as date)) from raw.reference_fx_rates
)
select e.source as key, max(l.latest_date) as latest_date, ${{as_of}} as as_of
from expected e left join latest l on l.source = e.source
group by e.source
having max(l.latest_date) is null
    or date_diff('day', max(l.latest_date), cast(${{as_of}} as date)) > ${{freshness_days}}
order by key
"""),
)

# ---------------------------------------------------------------- ledger_entries
_S_LEDGER = "integrity.ledger_entries"
_T_LEDGER = "marts.ledger_entries"

LEDGER = _suite(
    _S_LEDGER, _T_LEDGER,
    ("ledger_entries_key_unique",
     "(entry_id, line_no) identifies one posting line.",
     """
select coalesce(cast(entry_id as varchar), '<null>') || '#' || coalesce(cast(line_no as varchar), '<null>') as key,
       count(*) as rows_for_key
from {batch}
group by entry_id, line_no
having count(*) > 1 or entry_id is null or line_no is null
order by key
"""),
    ("ledger_entry_balances",
     "Every entry balances: sum(debit) = sum(credit) per entry_id, in currency and in CNY.",
     """
select cast(entry_id as varchar) as key,
       sum(debit) as debit, sum(credit) as credit, sum(debit_cny) as debit_cny, sum(credit_cny) as credit_cny
from {batch}
group by entry_id
having sum(coalesce(debit, 0)) <> sum(coalesce(credit, 0))
    or sum(coalesce(debit_cny, 0)) <> sum(coalesce(credit_cny, 0))
order by key
"""),
    ("journal_balances",
     "The journal as a whole balances, per currency and in CNY.",
     """
select 'currency ' || coalesce(currency, '<null>') as key, sum(debit) as debit, sum(credit) as credit
from {batch}
group by currency
having sum(coalesce(debit, 0)) <> sum(coalesce(credit, 0))
union all
select 'CNY total' as key, sum(debit_cny), sum(credit_cny)
from {batch}
having sum(coalesce(debit_cny, 0)) <> sum(coalesce(credit_cny, 0))
order by key
"""),
    ("journal_captures_tie_gateway",
     "Per currency, succeeded gateway captures of known orders (winning rows) = 1100 debits of those orders.",
     _captures_tie_journal_query("g", "cast(amount as decimal(18, 2))", "gateway_captured",
                                 winning=WINNING_GATEWAY)),
    ("journal_captures_tie_staging",
     "Per currency, succeeded captures of known orders in staging (stg_payments__gateway_transactions) "
     "= 1100 debits of those orders.",
     _captures_tie_journal_query("staging.stg_payments__gateway_transactions", "amount", "staging_captured")),
    ("journal_bank_credits_tie_bank",
     "Per currency, bank credit lines (winning rows) = 1110 debits (matched and unapplied).",
     f"""
with b as ({WINNING_BANK}),
credits as (
    select "币种" as currency, sum(cast(replace("收入金额", ',', '') as decimal(18, 2))) as amount
    from b
    where _rn = 1 and coalesce(trim("收入金额"), '') <> ''
    group by 1
), journal as (
    select currency, sum(debit) as amount from {{batch}} where account like '1110%' group by currency
)
select 'bank ' || coalesce(c.currency, j.currency) as key,
       c.amount as bank_credits, j.amount as journal_1110_debit
from credits c full join journal j on c.currency = j.currency
where coalesce(c.amount, 0) <> coalesce(j.amount, 0)
order by key
"""),
    ("journal_invoices_tie_erp",
     "Per currency (the order's), gross of issued invoice lines of known orders = 1200 postings "
     "from the ERP (normal: debit, credit notes: credit).",
     f"""
with inv as ({WINNING_INVOICES}),
lines as (
    -- a line is posted in its order's currency (a merged invoice may carry another header currency)
    select o.currency, i."Type" as type,
           cast(l."NetAmount" as decimal(18, 2)) + cast(l."TaxAmount" as decimal(18, 2)) as gross
    from inv i
    join raw.erp_invoice_lines l
      on l."InvoiceId" = i."InvoiceId" and l._file_path = i._file_path and l._record_no = i._record_no
    join (select distinct order_id, currency from marts.order_ledger) o on o.order_id = l."OrderId"
    where i._rn = 1 and i."Status" = 'issued'
), erp as (
    select currency,
           sum(case when type = 'normal' then gross else 0 end) as normal_gross,
           -sum(case when type = 'credit_note' then gross else 0 end) as credit_note_gross
    from lines group by currency
), journal as (
    select currency, sum(debit) as ar_debit, sum(credit) as ar_credit
    from {{batch}}
    where account like '1200%' and lower(source_system) = 'erp' and order_id in {_KNOWN_ORDERS}
    group by currency
)
select 'invoices ' || coalesce(e.currency, j.currency) as key,
       e.normal_gross, j.ar_debit, e.credit_note_gross, j.ar_credit
from erp e full join journal j on e.currency = j.currency
where coalesce(e.normal_gross, 0) <> coalesce(j.ar_debit, 0)
   or coalesce(e.credit_note_gross, 0) <> coalesce(j.ar_credit, 0)
order by key
"""),
)

# ---------------------------------------------------------------- order_ledger
_S_ORDERS = "integrity.order_ledger"
_T_ORDERS = "marts.order_ledger"

ORDER_LEDGER = _suite(
    _S_ORDERS, _T_ORDERS,
    ("order_ledger_order_id_unique",
     "order_ledger has one row per order_id (not null).",
     _unique_not_null_query("order_id", "rows_for_order")),
    ("order_ledger_ties_oms_orders",
     "The distinct orders loaded from the OMS (winning snapshots) are exactly the order_ledger rows.",
     _orders_tie_ledger_query("oms", "select distinct order_id from raw.oms_orders where coalesce(order_id, '') <> ''",
                              "in_oms")),
    ("order_ledger_ties_staging_orders",
     "The distinct winning orders of staging (stg_oms__orders) are exactly the order_ledger rows.",
     _orders_tie_ledger_query("stg", "select distinct order_id from staging.stg_oms__orders", "in_staging")),
    ("order_ledger_amount_formulas",
     "ar_outstanding = invoiced_amount - net_paid_amount and net_paid = captured + bank_received - refunded.",
     """
select order_id as key, invoiced_amount, net_paid_amount, ar_outstanding,
       captured_amount, bank_received_amount, refunded_amount
from {batch}
where ar_outstanding is distinct from invoiced_amount - net_paid_amount
   or net_paid_amount is distinct from captured_amount + bank_received_amount - refunded_amount
order by key
"""),
    ("ar_ties_journal",
     "Per order, the 1200 accounts_receivable balance in the journal (debit - credit, in the order's "
     "currency) = ar_outstanding.",
     """
with journal as (
    -- postings in another currency than the order's (CURRENCY_MISMATCH) are outside ar_outstanding
    select e.order_id, sum(coalesce(e.debit, 0)) - sum(coalesce(e.credit, 0)) as ar
    from marts.ledger_entries e
    join (select distinct order_id, currency from {batch}) o
      on o.order_id = e.order_id and o.currency = e.currency
    where e.account like '1200%'
    group by e.order_id
)
select coalesce(o.order_id, j.order_id) as key, o.ar_outstanding, j.ar as journal_1200_balance
from {batch} o full join journal j on o.order_id = j.order_id
where coalesce(o.ar_outstanding, 0) <> coalesce(j.ar, 0)
   or (o.order_id is not null and o.ar_outstanding is null)
order by key
"""),
    ("order_ledger_exception_count_ties",
     "exception_count = the order's rows in reconciliation_exceptions; is_reconciled only without exceptions.",
     """
with ex as (
    select order_id, count(*) as n from marts.reconciliation_exceptions
    where order_id is not null group by order_id
)
select o.order_id as key, o.exception_count, coalesce(ex.n, 0) as exception_rows, o.is_reconciled
from {batch} o left join ex on ex.order_id = o.order_id
where o.exception_count is distinct from coalesce(ex.n, 0)
   or (coalesce(ex.n, 0) > 0 and o.is_reconciled)
order by key
"""),
)

# ---------------------------------------------------------------- reconciliation_exceptions
_S_EXC = "integrity.reconciliation_exceptions"
_T_EXC = "marts.reconciliation_exceptions"

EXCEPTIONS = _suite(
    _S_EXC, _T_EXC,
    ("exceptions_key_unique",
     "One row per (exception_type, coalesce(order_id, document_id)).",
     """
select coalesce(exception_type, '<null>') || ':' || coalesce(order_id, document_id, '<null>') as key,
       count(*) as rows_for_key
from {batch}
group by all
having count(*) > 1
order by key
"""),
    ("exceptions_id_unique",
     "exception_id is unique and not null.",
     _unique_not_null_query("exception_id", "rows_for_id", key="cast(exception_id as varchar)")),
    ("exceptions_have_required_key",
     "Every row has a known type and the key its type requires: order_id for order-keyed types; "
     "document_id with a null order_id for ORPHAN_PAYMENT and UNAPPLIED_CASH.",
     f"""
select coalesce(exception_type, '<null>') || ':' || coalesce(order_id, document_id, '<null>') as key,
       exception_id, exception_type, order_id, document_id
from {{batch}}
where exception_type is null
   or exception_type not in ({_sql_list(ORDER_KEYED_TYPES + DOCUMENT_KEYED_TYPES)})
   or (exception_type in ({_sql_list(DOCUMENT_KEYED_TYPES)})
       and (coalesce(document_id, '') = '' or order_id is not null))
   or (exception_type in ({_sql_list(ORDER_KEYED_TYPES)}) and coalesce(order_id, '') = '')
order by key
"""),
    ("exceptions_reference_orders",
     "Every order-keyed exception names an order of order_ledger.",
     f"""
select exception_type || ':' || order_id as key, exception_id
from {{batch}}
where order_id is not null and order_id not in {_KNOWN_ORDERS}
order by key
"""),
)

# ---------------------------------------------------------------- order_state_timeline
_S_TL = "integrity.order_state_timeline"
_T_TL = "marts.order_state_timeline"

TIMELINE = _suite(
    _S_TL, _T_TL,
    ("timeline_intervals_ordered",
     "Every interval has entered_at <= exited_at; exited_at is null exactly when is_current.",
     """
select coalesce(order_id, '<null>') || ' ' || coalesce(state, '<null>') || ' ' || coalesce(cast(entered_at as varchar), '<null>') as key,
       entered_at, exited_at, is_current
from {batch}
where order_id is null or entered_at is null
   or exited_at < entered_at
   or is_current is distinct from (exited_at is null)
order by key
"""),
    ("timeline_intervals_no_overlap",
     "Per order, intervals do not overlap and at most the last one is open.",
     """
with t as (
    select order_id, entered_at, exited_at,
           lead(entered_at) over (partition by order_id order by entered_at, exited_at nulls last) as next_entered_at
    from {batch}
)
select distinct order_id as key
from t
where next_entered_at is not null and (exited_at is null or next_entered_at < exited_at)
order by key
"""),
)

INTEGRITY_SUITES: tuple[SuiteSpec, ...] = (INGEST, LEDGER, ORDER_LEDGER, EXCEPTIONS, TIMELINE)
