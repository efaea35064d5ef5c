"""The store: DuckDB (default) or PostgreSQL, holding raw_<source>, spm and spm_state schemas."""

from spm_sync.store.store import Store, ensure_folder, json_column, open_store

__all__ = ["Store", "ensure_folder", "json_column", "open_store"]
