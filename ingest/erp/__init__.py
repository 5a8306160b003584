"""ERP exports: invoices and credit notes (XML)."""
from ingest.erp.loader import RAW_TABLES, load_invoices

__all__ = ["RAW_TABLES", "load_invoices"]
