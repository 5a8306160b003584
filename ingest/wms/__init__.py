"""Warehouse exports: shipments (CSV) and carrier tracking events (JSON Lines)."""
from ingest.wms.loader import RAW_TABLES, load_shipments, load_tracking_events

__all__ = ["RAW_TABLES", "load_shipments", "load_tracking_events"]
