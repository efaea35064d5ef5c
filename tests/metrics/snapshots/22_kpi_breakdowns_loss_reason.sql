INSERT INTO kpi_breakdowns (entity_type, entity_id, period, metric, value, numerator, denominator, dimension, dimension_value)
WITH m_opportunities AS (
  SELECT c.rep_id AS owner_id, c.team_id AS team_id, CAST(c.share AS DOUBLE) AS credit_share, c.in_totals AS in_totals, coalesce(o.is_won, FALSE) AS "is_won", coalesce(o.is_closed, FALSE) OR coalesce(o.is_won, FALSE) AS "is_closed", o.amount_rc AS "amount_rc", o.loss_reason AS "loss_reason", o.close_date AS "close_date"
  FROM spm.opportunity_credits AS c JOIN spm.opportunities AS o ON o.opportunity_id = c.opportunity_id WHERE NOT coalesce(o.is_deleted, FALSE)
),
rows_ AS (
  SELECT k.owner_id, k.team_id, k.in_totals, CAST(k."loss_reason" AS TEXT) AS dimension_value, k.day, k."deals_lost", k."revenue_lost"
  FROM (SELECT owner_id, team_id, in_totals, "loss_reason", CAST("close_date" AS DATE) AS day, sum(CASE WHEN is_closed AND NOT is_won THEN credit_share ELSE 0 END) AS "deals_lost", sum(CASE WHEN is_closed AND NOT is_won THEN credit_share * (amount_rc) END) AS "revenue_lost"
  FROM m_opportunities WHERE "close_date" IS NOT NULL
  GROUP BY owner_id, team_id, in_totals, "loss_reason", CAST("close_date" AS DATE)) AS k
),
owner_periods AS (
  SELECT r.owner_id, r.team_id, r.in_totals, r.dimension_value, p.period, sum(r."deals_lost") AS "deals_lost", sum(r."revenue_lost") AS "revenue_lost"
  FROM rows_ AS r
  JOIN kpi_month_map AS p ON p.month = CAST(date_trunc('month', r.day) AS DATE)
  GROUP BY r.owner_id, r.team_id, r.in_totals, r.dimension_value, p.period
),
facts AS (
  SELECT 'rep' AS entity_type, f.owner_id AS entity_id, f.period, f.dimension_value, sum(f."deals_lost") AS "deals_lost", sum(f."revenue_lost") AS "revenue_lost"
  FROM owner_periods AS f WHERE f.owner_id IS NOT NULL GROUP BY f.owner_id, f.period, f.dimension_value
  UNION ALL
  SELECT 'team', t.ancestor_id, f.period, f.dimension_value, sum(f."deals_lost") AS "deals_lost", sum(f."revenue_lost") AS "revenue_lost"
  FROM owner_periods AS f JOIN kpi_team_tree AS t ON t.team_id = f.team_id WHERE f.in_totals GROUP BY t.ancestor_id, f.period, f.dimension_value
  UNION ALL
  SELECT 'company', 'company', f.period, f.dimension_value, sum(f."deals_lost") AS "deals_lost", sum(f."revenue_lost") AS "revenue_lost"
  FROM owner_periods AS f WHERE f.in_totals GROUP BY f.period, f.dimension_value
),
l0 AS (
  SELECT entity_type, entity_id, period, dimension_value,
    CAST(coalesce("deals_lost", 0) AS DOUBLE) AS "deals_lost",
    CAST(coalesce("revenue_lost", 0) AS DOUBLE) AS "revenue_lost"
  FROM facts
)
SELECT entity_type, entity_id, period, metric, value, numerator, denominator, dimension, dimension_value FROM (
  SELECT entity_type, entity_id, period, 'deals_lost' AS metric, "deals_lost" AS value, "deals_lost" AS numerator, CAST(NULL AS DOUBLE) AS denominator, 'loss_reason' AS dimension, dimension_value FROM l0
  UNION ALL
  SELECT entity_type, entity_id, period, 'revenue_lost' AS metric, "revenue_lost" AS value, "revenue_lost" AS numerator, CAST(NULL AS DOUBLE) AS denominator, 'loss_reason' AS dimension, dimension_value FROM l0
) AS u
WHERE coalesce(u.numerator, 0) <> 0 OR coalesce(u.denominator, 0) <> 0
