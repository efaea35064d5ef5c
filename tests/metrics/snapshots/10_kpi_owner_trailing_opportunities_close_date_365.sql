INSERT INTO kpi_owner_trailing (owner_id, boundary, "arr")
WITH m_opportunities AS (
  SELECT owner_rep_id AS owner_id, coalesce(is_won, FALSE) AS "is_won", recurring_amount_rc AS "recurring_amount_rc", close_date AS "close_date"
  FROM spm.opportunities WHERE NOT coalesce(is_deleted, FALSE)
),
rows_ AS (
  SELECT owner_id, CAST("close_date" AS DATE) AS day, CASE WHEN is_won THEN (recurring_amount_rc) END AS "arr"
  FROM m_opportunities WHERE "close_date" IS NOT NULL
),
deltas AS (
  SELECT owner_id, CAST(date_trunc('month', day) + INTERVAL 1 MONTH AS DATE) AS boundary, "arr" FROM rows_
  UNION ALL
  SELECT owner_id, CAST(date_trunc('month', day + 365) + INTERVAL 1 MONTH AS DATE), -"arr" FROM rows_
)
SELECT owner_id, boundary, sum("arr") AS "arr" FROM deltas GROUP BY owner_id, boundary
