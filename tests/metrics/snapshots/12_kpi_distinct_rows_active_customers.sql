INSERT INTO kpi_distinct_rows (metric, entity_type, entity_id, k, day)
WITH m_opportunities AS (
  SELECT owner_rep_id AS owner_id, account_id AS "account_id", coalesce(is_won, FALSE) AS "is_won", close_date AS "close_date"
  FROM spm.opportunities WHERE NOT coalesce(is_deleted, FALSE)
),
rows_ AS (
  SELECT DISTINCT owner_id, CAST((account_id) AS TEXT) AS k, CAST("close_date" AS DATE) AS day
  FROM m_opportunities WHERE "close_date" IS NOT NULL AND (account_id) IS NOT NULL AND (is_won)
)
SELECT 'active_customers', m.entity_type, m.entity_id, r.k, r.day
FROM rows_ AS r JOIN kpi_membership AS m ON m.owner_id = r.owner_id
UNION
SELECT 'active_customers', 'company', 'company', k, day FROM rows_
