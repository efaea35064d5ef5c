CREATE TEMP TABLE kpi_breakdowns (entity_type TEXT, entity_id TEXT, period TEXT, metric TEXT, value DOUBLE, numerator DOUBLE, denominator DOUBLE, dimension TEXT, dimension_value TEXT)
