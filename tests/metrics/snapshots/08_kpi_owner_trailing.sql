CREATE TEMP TABLE kpi_owner_trailing (owner_id TEXT, team_id TEXT, in_totals BOOLEAN, boundary DATE, "arr" DOUBLE)
