"""A small hand-made warehouse: raw + ingest + marts tables with the contract columns, clean and
consistent, so every suite passes on it. Built with SQL only (no ingest/dbt code involved).

Three orders: SO1 (CNY prepaid, two snapshots, invoiced, captured, shipped), SO2 (CNY net30,
invoiced, paid by bank transfer), SO3 (USD prepaid, captured, not invoiced: AR -50.00).
as_of (derived from the data) = 2026-11-03 02:00 UTC (invoice IssuedAt 10:00+08:00).
"""
from __future__ import annotations

from pathlib import Path

import duckdb

AS_OF = "2026-11-03 02:00:00"

_LINEAGE_COLS = (
    "_system VARCHAR, _source VARCHAR, _file_path VARCHAR, _export_date DATE, _record_no INTEGER, "
    "_file_sha256 VARCHAR, _record_hash UHUGEINT, _loaded_at TIMESTAMP"
)


def _lin(system: str, source: str, file: str, export_date: str | None, record_no: int) -> str:
    d = f"DATE '{export_date}'" if export_date else "NULL"
    return (f"'{system}', '{source}', '{file}', {d}, {record_no}, 'sha-{file}', "
            f"md5_number('h-{file}-{record_no}'), TIMESTAMP '2026-11-03 03:00:00'")


F_ORD1 = "oms/orders/2026-11-01/orders_1.jsonl"
F_ORD2 = "oms/orders/2026-11-02/orders_2.jsonl"
F_EVT = "oms/order_events/2026-11-02/events.jsonl"
F_GW1 = "payments/gateway/2026-11-01/gw_1.csv"
F_GW2 = "payments/gateway/2026-11-02/gw_2.csv"
F_GW2_COPY = "payments/gateway/2026-11-02/gw_2_copy.csv"
F_BANK = "payments/bank/2026-11-02/bank.csv"
F_SHIP = "wms/shipments/2026-11-02/shipments.csv"
F_TRACK = "wms/tracking/2026-11-03/tracking.jsonl"
F_INV = "erp/invoices/2026-11-03/invoices.xml"
F_FX = "reference/fx_rates/fx.csv"


def build_sql() -> str:
    L = _lin
    return f"""
create schema raw; create schema ingest; create schema marts; create schema staging;

create table raw.oms_orders (order_id VARCHAR, channel VARCHAR, channel_order_no VARCHAR, customer_id VARCHAR,
  customer_name VARCHAR, payment_terms VARCHAR, currency VARCHAR, entry_source VARCHAR, status VARCHAR,
  created_at VARCHAR, updated_at VARCHAR, lines VARCHAR, shipping_fee VARCHAR, coupon_amount VARCHAR,
  points_amount VARCHAR, tax_rate VARCHAR, {_LINEAGE_COLS});
insert into raw.oms_orders values
 ('SO1','tmall','TM1','C1','Ann','prepaid','CNY','api','approved','2026-11-01T09:00:00+08:00','2026-11-01T10:00:00+08:00','[]','0.00','0.00','0.00','0.13', {L('oms','oms/orders',F_ORD1,'2026-11-01',1)}),
 ('SO2','b2b','B1','C2','ACME Ltd','net30','CNY','api','approved','2026-11-01T09:30:00+08:00','2026-11-01T11:00:00+08:00','[]','0.00','0.00','0.00','0.13', {L('oms','oms/orders',F_ORD1,'2026-11-01',2)}),
 ('SO3','web','W3','C3','Bob','prepaid','USD','api','approved','2026-11-01T12:00:00+08:00','2026-11-01T13:00:00+08:00','[]','0.00','0.00','0.00','0.13', {L('oms','oms/orders',F_ORD1,'2026-11-01',3)}),
 ('SO1','tmall','TM1','C1','Ann','prepaid','CNY','api','delivered','2026-11-01T09:00:00+08:00','2026-11-02T18:00:00+08:00','[]','0.00','0.00','0.00','0.13', {L('oms','oms/orders',F_ORD2,'2026-11-02',1)});

create table raw.oms_order_lines (order_id VARCHAR, line_no VARCHAR, sku VARCHAR, qty VARCHAR, unit_price VARCHAR,
  discount VARCHAR, {_LINEAGE_COLS});

create table raw.oms_order_events (event_id VARCHAR, order_id VARCHAR, status VARCHAR, occurred_at VARCHAR,
  source VARCHAR, operator VARCHAR, {_LINEAGE_COLS});
insert into raw.oms_order_events values
 ('E1','SO1','created','2026-11-01T09:00:00+08:00','oms','svc', {L('oms','oms/order_events',F_EVT,'2026-11-02',1)}),
 ('E2','SO1','approved','2026-11-01T10:00:00+08:00','oms','svc', {L('oms','oms/order_events',F_EVT,'2026-11-02',2)}),
 ('E3','SO2','created','2026-11-01T09:30:00+08:00','oms','svc', {L('oms','oms/order_events',F_EVT,'2026-11-02',3)}),
 ('E4','SO2','approved','2026-11-01T11:00:00+08:00','oms','svc', {L('oms','oms/order_events',F_EVT,'2026-11-02',4)});

create table raw.payments_gateway_transactions (txn_id VARCHAR, order_id VARCHAR, method VARCHAR, txn_type VARCHAR,
  status VARCHAR, amount VARCHAR, currency VARCHAR, fee VARCHAR, created_at VARCHAR, {_LINEAGE_COLS});
insert into raw.payments_gateway_transactions values
 ('T1','SO1','alipay','capture','pending','113.00','CNY','','2026-11-01T02:05:00Z', {L('payments','payments/gateway',F_GW1,'2026-11-01',1)}),
 ('T1','SO1','alipay','capture','succeeded','113.00','CNY','1.00','2026-11-01T02:05:00Z', {L('payments','payments/gateway',F_GW2,'2026-11-02',1)}),
 ('T3','SO3','card','capture','succeeded','50.00','USD','','2026-11-01T05:00:00Z', {L('payments','payments/gateway',F_GW2,'2026-11-02',2)});

create table raw.payments_bank_statement_lines ("交易日期" VARCHAR, "交易流水号" VARCHAR, "对方户名" VARCHAR,
  "收入金额" VARCHAR, "支出金额" VARCHAR, "币种" VARCHAR, "摘要" VARCHAR, {_LINEAGE_COLS});
insert into raw.payments_bank_statement_lines values
 ('2026-11-02','B1','ACME Ltd','1,130.00','','CNY','货款 SO2', {L('payments','payments/bank',F_BANK,'2026-11-02',1)}),
 ('2026-11-02','B2','Landlord','','500.00','CNY','rent', {L('payments','payments/bank',F_BANK,'2026-11-02',2)});

-- revision 2: a company without settlement reports has an empty payouts table
create table raw.payments_payouts (payout_id VARCHAR, payout_date VARCHAR, currency VARCHAR, txn_id VARCHAR,
  {_LINEAGE_COLS});

-- issue 12: no finance decision delivered yet
create table raw.finance_resolutions (exception_id VARCHAR, action VARCHAR, note VARCHAR, decided_by VARCHAR,
  decided_at VARCHAR, {_LINEAGE_COLS});

create table raw.wms_shipments (shipment_id VARCHAR, order_id VARCHAR, warehouse_id VARCHAR, carrier VARCHAR,
  tracking_no VARCHAR, created_at VARCHAR, items VARCHAR, {_LINEAGE_COLS});
insert into raw.wms_shipments values
 ('S1','SO1','WH1','SF','SF1','2026-11-02 08:00:00','SKU-A:1', {L('wms','wms/shipments',F_SHIP,'2026-11-02',1)});
create table raw.wms_shipment_items (shipment_id VARCHAR, item_no INTEGER, sku VARCHAR, qty VARCHAR, {_LINEAGE_COLS});

create table raw.wms_tracking_events (shipment_id VARCHAR, event VARCHAR, occurred_at VARCHAR, location VARCHAR,
  {_LINEAGE_COLS});
insert into raw.wms_tracking_events values
 ('S1','shipped','2026-11-02 09:00:00','SZ', {L('wms','wms/tracking',F_TRACK,'2026-11-03',1)}),
 ('S1','delivered','2026-11-03 09:00:00','SH', {L('wms','wms/tracking',F_TRACK,'2026-11-03',2)});

create table raw.erp_invoices ("InvoiceId" VARCHAR, "InvoiceNo" VARCHAR, "Type" VARCHAR, "Status" VARCHAR,
  "IssuedAt" VARCHAR, "Currency" VARCHAR, "BuyerId" VARCHAR, "OriginalInvoiceId" VARCHAR, {_LINEAGE_COLS});
insert into raw.erp_invoices values
 ('INV1','00000000000000000001','normal','issued','2026-11-02T20:00:00+08:00','CNY','C1',NULL, {L('erp','erp/invoices',F_INV,'2026-11-03',1)}),
 ('INV2','00000000000000000002','normal','issued','2026-11-03T10:00:00+08:00','CNY','C2',NULL, {L('erp','erp/invoices',F_INV,'2026-11-03',2)});
create table raw.erp_invoice_lines ("InvoiceId" VARCHAR, line_no INTEGER, "OrderId" VARCHAR, "NetAmount" VARCHAR,
  "TaxAmount" VARCHAR, {_LINEAGE_COLS});
insert into raw.erp_invoice_lines values
 ('INV1',1,'SO1','100.00','13.00', {L('erp','erp/invoices',F_INV,'2026-11-03',1)}),
 ('INV2',1,'SO2','1000.00','130.00', {L('erp','erp/invoices',F_INV,'2026-11-03',2)});

create table raw.reference_fx_rates ("date" VARCHAR, currency VARCHAR, rate_to_cny VARCHAR, {_LINEAGE_COLS});
insert into raw.reference_fx_rates values
 ('2026-11-01','USD','7.1000', {L('reference','reference/fx_rates',F_FX,None,1)}),
 ('2026-11-03','USD','7.1200', {L('reference','reference/fx_rates',F_FX,None,2)});

create table ingest.files (file_path VARCHAR, system VARCHAR, source VARCHAR, export_date DATE, file_sha256 VARCHAR,
  records_read INTEGER, records_loaded INTEGER, records_quarantined INTEGER, repeats_skipped INTEGER,
  status VARCHAR, duplicate_of VARCHAR, loaded_at TIMESTAMP);
insert into ingest.files values
 ('{F_ORD1}','oms','oms/orders',DATE '2026-11-01','sha-{F_ORD1}',3,3,0,0,'loaded',NULL,TIMESTAMP '2026-11-03 03:00:00'),
 ('{F_ORD2}','oms','oms/orders',DATE '2026-11-02','sha-{F_ORD2}',2,1,0,1,'loaded',NULL,TIMESTAMP '2026-11-03 03:00:00'),
 ('{F_EVT}','oms','oms/order_events',DATE '2026-11-02','sha-{F_EVT}',4,4,0,0,'loaded',NULL,TIMESTAMP '2026-11-03 03:00:00'),
 ('{F_GW1}','payments','payments/gateway',DATE '2026-11-01','sha-{F_GW1}',2,1,1,0,'loaded',NULL,TIMESTAMP '2026-11-03 03:00:00'),
 ('{F_GW2}','payments','payments/gateway',DATE '2026-11-02','sha-{F_GW2}',2,2,0,0,'loaded',NULL,TIMESTAMP '2026-11-03 03:00:00'),
 ('{F_GW2_COPY}','payments','payments/gateway',DATE '2026-11-02','sha-{F_GW2}',2,0,0,2,'duplicate_file','{F_GW2}',TIMESTAMP '2026-11-03 03:00:00'),
 ('{F_BANK}','payments','payments/bank',DATE '2026-11-02','sha-{F_BANK}',2,2,0,0,'loaded',NULL,TIMESTAMP '2026-11-03 03:00:00'),
 ('{F_SHIP}','wms','wms/shipments',DATE '2026-11-02','sha-{F_SHIP}',1,1,0,0,'loaded',NULL,TIMESTAMP '2026-11-03 03:00:00'),
 ('{F_TRACK}','wms','wms/tracking',DATE '2026-11-03','sha-{F_TRACK}',2,2,0,0,'loaded',NULL,TIMESTAMP '2026-11-03 03:00:00'),
 ('{F_INV}','erp','erp/invoices',DATE '2026-11-03','sha-{F_INV}',2,2,0,0,'loaded',NULL,TIMESTAMP '2026-11-03 03:00:00'),
 ('{F_FX}','reference','reference/fx_rates',NULL,'sha-{F_FX}',2,2,0,0,'loaded',NULL,TIMESTAMP '2026-11-03 03:00:00');

create table ingest.rejects (system VARCHAR, source VARCHAR, file_path VARCHAR, record_no INTEGER, reason VARCHAR,
  raw_text VARCHAR, file_sha256 VARCHAR, export_date DATE, rejected_at TIMESTAMP);
insert into ingest.rejects values
 ('payments','payments/gateway','{F_GW1}',2,'invalid_value:amount','T2,SO2,card,capture,succeeded,1e3,CNY,,2026-11-01T00:00:00Z',
  'sha-{F_GW1}',DATE '2026-11-01',TIMESTAMP '2026-11-03 03:00:00');

-- staging: views with the winning-version rule (as dbt's staging models)
create view staging.stg_oms__orders as
  select * exclude (_rn) from (select *, row_number() over (partition by order_id
    order by _export_date desc, _file_path desc, _record_no desc) as _rn from raw.oms_orders) where _rn = 1;
create view staging.stg_payments__gateway_transactions as
  select txn_id, nullif(order_id, '') as order_id, method, txn_type, status, currency,
         cast(amount as decimal(18,2)) as amount, coalesce(cast(nullif(fee, '') as decimal(18,2)), 0) as fee
  from (select *, row_number() over (partition by txn_id
    order by _export_date desc, _file_path desc, _record_no desc) as _rn from raw.payments_gateway_transactions)
  where _rn = 1;

create table marts.order_ledger (order_id VARCHAR, voucher_id VARCHAR, channel VARCHAR, customer_id VARCHAR,
  payment_terms VARCHAR, currency VARCHAR, created_at TIMESTAMP, status VARCHAR, lifecycle_state VARCHAR,
  order_total DECIMAL(18,2), order_total_cny DECIMAL(18,2), captured_amount DECIMAL(18,2),
  bank_received_amount DECIMAL(18,2), refunded_amount DECIMAL(18,2), net_paid_amount DECIMAL(18,2),
  invoiced_amount DECIMAL(18,2), credit_note_amount DECIMAL(18,2), ar_outstanding DECIMAL(18,2),
  shipped_at TIMESTAMP, delivered_at TIMESTAMP, first_invoiced_at TIMESTAMP, fully_paid_at TIMESTAMP,
  exception_count INTEGER, is_reconciled BOOLEAN);
insert into marts.order_ledger values
 ('SO1','V1','tmall','C1','prepaid','CNY',TIMESTAMP '2026-11-01 01:00:00','delivered','delivered',113.00,113.00,
  113.00,0.00,0.00,113.00,113.00,0.00,0.00,TIMESTAMP '2026-11-02 01:00:00',TIMESTAMP '2026-11-03 01:00:00',
  TIMESTAMP '2026-11-02 12:00:00',TIMESTAMP '2026-11-01 02:05:00',0,true),
 ('SO2','V2','b2b','C2','net30','CNY',TIMESTAMP '2026-11-01 01:30:00','approved','invoiced',1130.00,1130.00,
  0.00,1130.00,0.00,1130.00,1130.00,0.00,0.00,NULL,NULL,TIMESTAMP '2026-11-03 02:00:00',TIMESTAMP '2026-11-02 00:00:00',0,true),
 ('SO3','V3','web','C3','prepaid','USD',TIMESTAMP '2026-11-01 04:00:00','approved','paid',50.00,355.00,
  50.00,0.00,0.00,50.00,0.00,0.00,-50.00,NULL,NULL,NULL,TIMESTAMP '2026-11-01 05:00:00',0,true);

create table marts.ledger_entries (entry_id VARCHAR, line_no INTEGER, voucher_id VARCHAR, order_id VARCHAR,
  entry_type VARCHAR, posted_at TIMESTAMP, account VARCHAR, debit DECIMAL(18,2), credit DECIMAL(18,2),
  currency VARCHAR, debit_cny DECIMAL(18,2), credit_cny DECIMAL(18,2), source_system VARCHAR,
  source_document_id VARCHAR);
insert into marts.ledger_entries values
 ('LE1',1,'V1','SO1','invoice',TIMESTAMP '2026-11-02 12:00:00','1200 accounts_receivable',113.00,0.00,'CNY',113.00,0.00,'erp','INV1'),
 ('LE1',2,'V1','SO1','invoice',TIMESTAMP '2026-11-02 12:00:00','4000 revenue',0.00,100.00,'CNY',0.00,100.00,'erp','INV1'),
 ('LE1',3,'V1','SO1','invoice',TIMESTAMP '2026-11-02 12:00:00','2200 vat_output',0.00,13.00,'CNY',0.00,13.00,'erp','INV1'),
 ('LE2',1,'V1','SO1','capture',TIMESTAMP '2026-11-01 02:05:00','1100 gateway_clearing',113.00,0.00,'CNY',113.00,0.00,'payments','T1'),
 ('LE2',2,'V1','SO1','capture',TIMESTAMP '2026-11-01 02:05:00','1200 accounts_receivable',0.00,113.00,'CNY',0.00,113.00,'payments','T1'),
 ('LE3',1,'V1','SO1','fee',TIMESTAMP '2026-11-01 02:05:00','6100 payment_fees',1.00,0.00,'CNY',1.00,0.00,'payments','T1'),
 ('LE3',2,'V1','SO1','fee',TIMESTAMP '2026-11-01 02:05:00','1100 gateway_clearing',0.00,1.00,'CNY',0.00,1.00,'payments','T1'),
 ('LE4',1,'V2','SO2','invoice',TIMESTAMP '2026-11-03 02:00:00','1200 accounts_receivable',1130.00,0.00,'CNY',1130.00,0.00,'erp','INV2'),
 ('LE4',2,'V2','SO2','invoice',TIMESTAMP '2026-11-03 02:00:00','4000 revenue',0.00,1000.00,'CNY',0.00,1000.00,'erp','INV2'),
 ('LE4',3,'V2','SO2','invoice',TIMESTAMP '2026-11-03 02:00:00','2200 vat_output',0.00,130.00,'CNY',0.00,130.00,'erp','INV2'),
 ('LE5',1,'V2','SO2','bank_receipt',TIMESTAMP '2026-11-02 00:00:00','1110 bank',1130.00,0.00,'CNY',1130.00,0.00,'bank','B1'),
 ('LE5',2,'V2','SO2','bank_receipt',TIMESTAMP '2026-11-02 00:00:00','1200 accounts_receivable',0.00,1130.00,'CNY',0.00,1130.00,'bank','B1'),
 ('LE6',1,'V3','SO3','capture',TIMESTAMP '2026-11-01 05:00:00','1100 gateway_clearing',50.00,0.00,'USD',355.00,0.00,'payments','T3'),
 ('LE6',2,'V3','SO3','capture',TIMESTAMP '2026-11-01 05:00:00','1200 accounts_receivable',0.00,50.00,'USD',0.00,355.00,'payments','T3');

create table marts.order_events (order_id VARCHAR, event_at TIMESTAMP, system VARCHAR, event VARCHAR,
  document_id VARCHAR, amount DECIMAL(18,2));

create table marts.order_state_timeline (order_id VARCHAR, state VARCHAR, entered_at TIMESTAMP, exited_at TIMESTAMP,
  hours_in_state DOUBLE, is_current BOOLEAN, is_stuck BOOLEAN);
insert into marts.order_state_timeline values
 ('SO1','created',TIMESTAMP '2026-11-01 01:00:00',TIMESTAMP '2026-11-01 02:00:00',1.0,false,false),
 ('SO1','approved',TIMESTAMP '2026-11-01 02:00:00',NULL,48.0,true,false),
 ('SO2','created',TIMESTAMP '2026-11-01 01:30:00',TIMESTAMP '2026-11-01 03:00:00',1.5,false,false),
 ('SO2','approved',TIMESTAMP '2026-11-01 03:00:00',NULL,47.0,true,false);

create table marts.reconciliation_exceptions (exception_id VARCHAR, exception_type VARCHAR, order_id VARCHAR,
  document_id VARCHAR, as_of TIMESTAMP, severity VARCHAR, amount_at_risk DECIMAL(18,2), details VARCHAR);

create table marts.ar_aging (customer_id VARCHAR, currency VARCHAR, bucket VARCHAR, amount DECIMAL(18,2),
  amount_cny DECIMAL(18,2), order_count INTEGER);
create table marts.daily_cash_reconciliation (cash_date DATE, system VARCHAR, method VARCHAR, amount DECIMAL(18,2));
create table marts.cash_matching_daily (value_date DATE, system VARCHAR, lines_received INTEGER,
  lines_unmatched INTEGER, auto_match_rate DECIMAL(9,4));
insert into marts.cash_matching_daily values (DATE '2026-11-02', 'bank', 1, 0, 1.0000),
  (DATE '2026-11-01', 'payments', 2, 1, 0.5000);
"""


def build_warehouse(path: str | Path) -> Path:
    path = Path(path)
    con = duckdb.connect(str(path))
    try:
        con.execute(build_sql())
    finally:
        con.close()
    return path


def execute(path: str | Path, sql: str) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute(sql)
    finally:
        con.close()
