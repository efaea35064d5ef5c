INSERT INTO kpi_owner_months (owner_id, team_id, in_totals, month, "calls", "emails", "meetings", "activities_logged")
WITH m_activities AS (
  SELECT owner_rep_id AS owner_id, CAST(NULL AS TEXT) AS team_id, CAST(1 AS DOUBLE) AS credit_share, TRUE AS in_totals, kind AS "kind", occurred_at AS "occurred_at"
  FROM spm.activities
)
SELECT owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE) AS month,
    sum("calls") AS "calls",
    sum("emails") AS "emails",
    sum("meetings") AS "meetings",
    sum("activities_logged") AS "activities_logged"
  FROM (SELECT d.owner_id, m.team_id, d.in_totals, d.day, d."calls", d."emails", d."meetings", d."activities_logged"
  FROM (SELECT owner_id, team_id, in_totals, CAST("occurred_at" AS DATE) AS day, sum(CASE WHEN kind = 'call' THEN credit_share ELSE 0 END) AS "calls", sum(CASE WHEN kind = 'email' THEN credit_share ELSE 0 END) AS "emails", sum(CASE WHEN kind = 'meeting' THEN credit_share ELSE 0 END) AS "meetings", sum(credit_share) AS "activities_logged"
  FROM m_activities WHERE "occurred_at" IS NOT NULL
  GROUP BY owner_id, team_id, in_totals, CAST("occurred_at" AS DATE)) AS d
  LEFT JOIN spm.credit_membership AS m ON m.rep_id = d.owner_id
    AND (m.valid_from IS NULL OR m.valid_from <= d.day)
    AND (m.valid_to IS NULL OR d.day < m.valid_to)) AS k
  GROUP BY owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE)
