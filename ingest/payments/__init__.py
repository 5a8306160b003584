"""Payment exports: gateway transactions (CSV, UTF-8) and bank statement lines (CSV, GBK)."""
from ingest.payments.loader import RAW_TABLES, load_bank_statement_lines, load_gateway_transactions, load_payouts

__all__ = ["RAW_TABLES", "load_gateway_transactions", "load_bank_statement_lines", "load_payouts"]
