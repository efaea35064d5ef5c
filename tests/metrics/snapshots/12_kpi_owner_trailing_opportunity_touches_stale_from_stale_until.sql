INSERT INTO kpi_owner_trailing (owner_id, team_id, in_totals, boundary, "pipeline_stale_deals")
WITH m_opportunity_touches AS (
  SELECT c.rep_id AS owner_id, c.team_id AS team_id, CAST(c.share AS DOUBLE) AS credit_share, c.in_totals AS in_totals, CASE WHEN x.touched_on + 30 <= CAST('2026-03-15' AS DATE) THEN x.touched_on + 30 END AS "stale_from", least(x.next_touch, CASE WHEN coalesce(o.is_closed, FALSE) OR coalesce(o.is_won, FALSE) THEN o.close_date END) AS "stale_until"
  FROM (SELECT opportunity_id, touched_on,
  lead(touched_on) OVER (PARTITION BY opportunity_id ORDER BY touched_on) AS next_touch
FROM (
  SELECT opportunity_id, CAST(created_at AS DATE) AS touched_on FROM spm.opportunities
  UNION SELECT opportunity_id, CAST(entered_at AS DATE) FROM spm.stage_events
  UNION SELECT opportunity_id, CAST(occurred_at AS DATE) FROM spm.activities WHERE opportunity_id IS NOT NULL
) AS t WHERE touched_on IS NOT NULL) AS x JOIN spm.opportunity_credits AS c ON c.opportunity_id = x.opportunity_id JOIN spm.opportunities AS o ON o.opportunity_id = x.opportunity_id WHERE NOT coalesce(o.is_deleted, FALSE)
),
rows_ AS (
  SELECT * FROM (SELECT owner_id, team_id, in_totals, "stale_until", CAST("stale_from" AS DATE) AS day, sum(credit_share) AS "pipeline_stale_deals"
  FROM m_opportunity_touches WHERE "stale_from" IS NOT NULL
  GROUP BY owner_id, team_id, in_totals, "stale_until", CAST("stale_from" AS DATE)) AS k WHERE CAST("stale_until" AS DATE) IS NULL OR CAST("stale_until" AS DATE) > day
),
deltas AS (
  SELECT owner_id, team_id, in_totals, CAST(date_trunc('month', day) + INTERVAL 1 MONTH AS DATE) AS boundary, "pipeline_stale_deals" FROM rows_
  UNION ALL
  SELECT owner_id, team_id, in_totals, CAST(date_trunc('month', CAST("stale_until" AS DATE)) + INTERVAL 1 MONTH AS DATE), -"pipeline_stale_deals" FROM rows_ WHERE CAST("stale_until" AS DATE) IS NOT NULL
)
SELECT owner_id, team_id, in_totals, boundary, sum("pipeline_stale_deals") AS "pipeline_stale_deals" FROM deltas GROUP BY owner_id, team_id, in_totals, boundary
