"""SQLite persistence: the event log of every run and the tables projected from it.

The names below load on first use: the writer process (writer.py) imports this package too,
and needs none of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from maestro_tui.store.db import Store
    from maestro_tui.store.records import MergeRecord, RunSummary, StoreError, default_db_path

__all__ = ["MergeRecord", "RunSummary", "Store", "StoreError", "default_db_path"]
_HOME = {"Store": "db"} | dict.fromkeys(
    ("MergeRecord", "RunSummary", "StoreError", "default_db_path"), "records"
)


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
