CREATE TEMP TABLE kpi_month_map AS
SELECT m.period_start AS month, p.period
FROM kpi_periods AS m JOIN kpi_periods AS p
  ON m.grain = 'month' AND p.period_start <= m.period_start AND m.period_start < p.period_end
