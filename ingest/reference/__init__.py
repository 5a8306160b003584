"""Reference data: daily FX rates to CNY (CSV)."""
from ingest.reference.loader import RAW_TABLES, load_fx_rates

__all__ = ["RAW_TABLES", "load_fx_rates"]
