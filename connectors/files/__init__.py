"""Files connector: `source.files_source` loads CSV / Parquet exports into raw tables (read side only)."""
