"""SQLite persistence: the event log of every run and the tables projected from it."""

from maestro_tui.store.db import Store
from maestro_tui.store.records import MergeRecord, RunSummary, StoreError, default_db_path

__all__ = ["MergeRecord", "RunSummary", "Store", "StoreError", "default_db_path"]
