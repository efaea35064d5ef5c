INSERT INTO kpi_breakdowns (entity_type, entity_id, period, metric, value, numerator, denominator, dimension, dimension_value)
WITH m_opportunities AS (
  SELECT c.rep_id AS owner_id, c.team_id AS team_id, CAST(c.share AS DOUBLE) AS credit_share, c.in_totals AS in_totals, coalesce(o.is_won, FALSE) AS "is_won", coalesce(o.is_closed, FALSE) OR coalesce(o.is_won, FALSE) AS "is_closed", o.lead_source AS "lead_source", o.close_date AS "close_date"
  FROM spm.opportunity_credits AS c JOIN spm.opportunities AS o ON o.opportunity_id = c.opportunity_id WHERE NOT coalesce(o.is_deleted, FALSE)
),
rows_ AS (
  SELECT k.owner_id, k.team_id, k.in_totals, CAST(k."lead_source" AS TEXT) AS dimension_value, k.day, k."deals_won", k."deals_lost"
  FROM (SELECT owner_id, team_id, in_totals, "lead_source", CAST("close_date" AS DATE) AS day, sum(CASE WHEN is_won THEN credit_share ELSE 0 END) AS "deals_won", sum(CASE WHEN is_closed AND NOT is_won THEN credit_share ELSE 0 END) AS "deals_lost"
  FROM m_opportunities WHERE "close_date" IS NOT NULL
  GROUP BY owner_id, team_id, in_totals, "lead_source", CAST("close_date" AS DATE)) AS k
),
owner_periods AS (
  SELECT r.owner_id, r.team_id, r.in_totals, r.dimension_value, p.period, sum(r."deals_won") AS "deals_won", sum(r."deals_lost") AS "deals_lost"
  FROM rows_ AS r
  JOIN kpi_month_map AS p ON p.month = CAST(date_trunc('month', r.day) AS DATE)
  GROUP BY r.owner_id, r.team_id, r.in_totals, r.dimension_value, p.period
),
facts AS (
  SELECT 'rep' AS entity_type, f.owner_id AS entity_id, f.period, f.dimension_value, sum(f."deals_won") AS "deals_won", sum(f."deals_lost") AS "deals_lost"
  FROM owner_periods AS f WHERE f.owner_id IS NOT NULL GROUP BY f.owner_id, f.period, f.dimension_value
  UNION ALL
  SELECT 'team', t.ancestor_id, f.period, f.dimension_value, sum(f."deals_won") AS "deals_won", sum(f."deals_lost") AS "deals_lost"
  FROM owner_periods AS f JOIN kpi_team_tree AS t ON t.team_id = f.team_id WHERE f.in_totals GROUP BY t.ancestor_id, f.period, f.dimension_value
  UNION ALL
  SELECT 'company', 'company', f.period, f.dimension_value, sum(f."deals_won") AS "deals_won", sum(f."deals_lost") AS "deals_lost"
  FROM owner_periods AS f WHERE f.in_totals GROUP BY f.period, f.dimension_value
),
l0 AS (
  SELECT entity_type, entity_id, period, dimension_value,
    CAST(coalesce("deals_won", 0) AS DOUBLE) AS "deals_won",
    CAST(coalesce("deals_lost", 0) AS DOUBLE) AS "deals_lost"
  FROM facts
),
l1 AS (
  SELECT l0.*,
    CAST("deals_won" AS DOUBLE) AS "win_rate__n",
    CAST("deals_won" + "deals_lost" AS DOUBLE) AS "win_rate__d",
    CASE WHEN ("deals_won" + "deals_lost") <> 0 THEN CAST("deals_won" AS DOUBLE) / ("deals_won" + "deals_lost") END AS "win_rate"
  FROM l0
)
SELECT entity_type, entity_id, period, metric, value, numerator, denominator, dimension, dimension_value FROM (
  SELECT entity_type, entity_id, period, 'win_rate' AS metric, "win_rate" AS value, "win_rate__n" AS numerator, "win_rate__d" AS denominator, 'lead_source' AS dimension, dimension_value FROM l1
) AS u
WHERE coalesce(u.numerator, 0) <> 0 OR coalesce(u.denominator, 0) <> 0
