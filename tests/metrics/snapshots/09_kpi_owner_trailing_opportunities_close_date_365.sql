INSERT INTO kpi_owner_trailing (owner_id, team_id, in_totals, boundary, "arr")
WITH m_opportunities AS (
  SELECT c.rep_id AS owner_id, c.team_id AS team_id, CAST(c.share AS DOUBLE) AS credit_share, c.in_totals AS in_totals, coalesce(o.is_won, FALSE) AS "is_won", o.recurring_amount_rc AS "recurring_amount_rc", o.close_date AS "close_date"
  FROM spm.opportunity_credits AS c JOIN spm.opportunities AS o ON o.opportunity_id = c.opportunity_id WHERE NOT coalesce(o.is_deleted, FALSE)
),
rows_ AS (
  SELECT owner_id, team_id, in_totals, CAST("close_date" AS DATE) AS day, sum(CASE WHEN is_won THEN credit_share * (recurring_amount_rc) END) AS "arr"
  FROM m_opportunities WHERE "close_date" IS NOT NULL
  GROUP BY owner_id, team_id, in_totals, CAST("close_date" AS DATE)
),
deltas AS (
  SELECT owner_id, team_id, in_totals, CAST(date_trunc('month', day) + INTERVAL 1 MONTH AS DATE) AS boundary, "arr" FROM rows_
  UNION ALL
  SELECT owner_id, team_id, in_totals, CAST(date_trunc('month', day + 365) + INTERVAL 1 MONTH AS DATE), -"arr" FROM rows_
)
SELECT owner_id, team_id, in_totals, boundary, sum("arr") AS "arr" FROM deltas GROUP BY owner_id, team_id, in_totals, boundary
