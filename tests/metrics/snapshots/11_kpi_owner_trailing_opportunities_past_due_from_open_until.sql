INSERT INTO kpi_owner_trailing (owner_id, team_id, in_totals, boundary, "pipeline_past_due_deals")
WITH m_opportunities AS (
  SELECT c.rep_id AS owner_id, c.team_id AS team_id, CAST(c.share AS DOUBLE) AS credit_share, c.in_totals AS in_totals, CASE WHEN coalesce(o.is_closed, FALSE) OR coalesce(o.is_won, FALSE) THEN o.close_date END AS "open_until", CASE WHEN NOT (COALESCE(o.is_closed, FALSE) OR COALESCE(o.is_won, FALSE)) AND o.close_date < CAST('2026-03-15' AS DATE) THEN GREATEST(o.close_date, CAST(o.created_at AS DATE)) END AS "past_due_from"
  FROM spm.opportunity_credits AS c JOIN spm.opportunities AS o ON o.opportunity_id = c.opportunity_id WHERE NOT coalesce(o.is_deleted, FALSE)
),
rows_ AS (
  SELECT * FROM (SELECT owner_id, team_id, in_totals, "open_until", CAST("past_due_from" AS DATE) AS day, sum(credit_share) AS "pipeline_past_due_deals"
  FROM m_opportunities WHERE "past_due_from" IS NOT NULL
  GROUP BY owner_id, team_id, in_totals, "open_until", CAST("past_due_from" AS DATE)) AS k WHERE CAST("open_until" AS DATE) IS NULL OR CAST("open_until" AS DATE) > day
),
deltas AS (
  SELECT owner_id, team_id, in_totals, CAST(date_trunc('month', day) + INTERVAL 1 MONTH AS DATE) AS boundary, "pipeline_past_due_deals" FROM rows_
  UNION ALL
  SELECT owner_id, team_id, in_totals, CAST(date_trunc('month', CAST("open_until" AS DATE)) + INTERVAL 1 MONTH AS DATE), -"pipeline_past_due_deals" FROM rows_ WHERE CAST("open_until" AS DATE) IS NOT NULL
)
SELECT owner_id, team_id, in_totals, boundary, sum("pipeline_past_due_deals") AS "pipeline_past_due_deals" FROM deltas GROUP BY owner_id, team_id, in_totals, boundary
