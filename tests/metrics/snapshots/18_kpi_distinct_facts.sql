CREATE TEMP TABLE kpi_distinct_facts AS
WITH spans AS (
  SELECT metric, entity_type, entity_id, day,
    least(lead(day) OVER (PARTITION BY metric, entity_type, entity_id, k ORDER BY day), day + CASE metric WHEN 'active_customers' THEN 365 END) AS stop
  FROM kpi_distinct_rows WHERE metric IN ('active_customers')
),
deltas AS (
  SELECT metric, entity_type, entity_id, CAST(date_trunc('month', day) + INTERVAL 1 MONTH AS DATE) AS boundary, 1 AS n FROM spans
  UNION ALL
  SELECT metric, entity_type, entity_id, CAST(date_trunc('month', stop) + INTERVAL 1 MONTH AS DATE), -1 FROM spans
),
ends AS (SELECT DISTINCT period_end FROM kpi_periods),
net AS (
  SELECT metric, entity_type, entity_id, greatest(boundary, (SELECT min(period_end) FROM kpi_periods)) AS boundary, sum("n") AS "n"
  FROM deltas GROUP BY metric, entity_type, entity_id, greatest(boundary, (SELECT min(period_end) FROM kpi_periods))
),
running AS (
  SELECT o.metric, o.entity_type, o.entity_id, x.period_end, CAST(CAST(sum(coalesce(n."n", 0)) OVER (PARTITION BY o.metric, o.entity_type, o.entity_id ORDER BY x.period_end ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS DECIMAL(38, 9)) AS DOUBLE) AS "n"
  FROM (SELECT DISTINCT metric, entity_type, entity_id FROM net) AS o CROSS JOIN ends AS x
  LEFT JOIN net AS n ON n.metric IS NOT DISTINCT FROM o.metric AND n.entity_type IS NOT DISTINCT FROM o.entity_type AND n.entity_id IS NOT DISTINCT FROM o.entity_id AND n.boundary = x.period_end
),
counts AS (
  SELECT r.metric, r.entity_type, r.entity_id, p.period, r.n
  FROM running AS r JOIN kpi_periods AS p ON p.period_end = r.period_end
)
SELECT entity_type, entity_id, period, max(CASE WHEN metric = 'active_customers' THEN n END) AS "active_customers"
FROM counts GROUP BY entity_type, entity_id, period
