INSERT INTO kpi_distinct_rows (metric, entity_type, entity_id, k, day)
WITH m_opportunities AS (
  SELECT c.rep_id AS owner_id, c.team_id AS team_id, CAST(c.share AS DOUBLE) AS credit_share, c.in_totals AS in_totals, o.account_id AS "account_id", coalesce(o.is_won, FALSE) AS "is_won", o.close_date AS "close_date"
  FROM spm.opportunity_credits AS c JOIN spm.opportunities AS o ON o.opportunity_id = c.opportunity_id WHERE NOT coalesce(o.is_deleted, FALSE)
),
rows_ AS (
  SELECT DISTINCT owner_id, team_id, in_totals, CAST((account_id) AS TEXT) AS k, CAST("close_date" AS DATE) AS day
  FROM m_opportunities WHERE "close_date" IS NOT NULL AND (account_id) IS NOT NULL AND (is_won)
),
teamed AS (
  SELECT r.owner_id, r.team_id AS team_id, r.in_totals, r.k, r.day
  FROM rows_ AS r
)
SELECT DISTINCT 'active_customers', entity_type, entity_id, k, day FROM (
  SELECT 'rep' AS entity_type, f.owner_id AS entity_id, f.k, f.day
  FROM teamed AS f WHERE f.owner_id IS NOT NULL GROUP BY f.owner_id, f.k, f.day
  UNION ALL
  SELECT 'team', t.ancestor_id, f.k, f.day
  FROM teamed AS f JOIN kpi_team_tree AS t ON t.team_id = f.team_id WHERE f.in_totals GROUP BY t.ancestor_id, f.k, f.day
  UNION ALL
  SELECT 'company', 'company', f.k, f.day
  FROM teamed AS f WHERE f.in_totals GROUP BY f.k, f.day
) AS e
