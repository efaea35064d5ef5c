CREATE TEMP TABLE kpi_owner_trailing (owner_id TEXT, boundary DATE, "arr" DOUBLE)
