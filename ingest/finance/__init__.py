"""Finance decisions on published exceptions: resolutions (CSV)."""
from ingest.finance.loader import RAW_TABLES, load_resolutions

__all__ = ["RAW_TABLES", "load_resolutions"]
