CREATE TEMP TABLE kpi_distinct_rows (metric TEXT, entity_type TEXT, entity_id TEXT, k TEXT, day DATE)
