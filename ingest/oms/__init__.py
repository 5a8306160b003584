"""OMS exports: order snapshots and order status events (JSON Lines)."""
from ingest.oms.loader import RAW_TABLES, load_order_events, load_orders

__all__ = ["RAW_TABLES", "load_orders", "load_order_events"]
