INSERT INTO kpi_owner_months (owner_id, month, "calls", "emails", "meetings")
WITH m_activities AS (
  SELECT owner_rep_id AS owner_id, kind AS "kind", occurred_at AS "occurred_at"
  FROM spm.activities
)
SELECT owner_id, CAST(date_trunc('month', "occurred_at") AS DATE) AS month,
    sum(CASE WHEN kind = 'call' THEN 1 ELSE 0 END) AS "calls",
    sum(CASE WHEN kind = 'email' THEN 1 ELSE 0 END) AS "emails",
    sum(CASE WHEN kind = 'meeting' THEN 1 ELSE 0 END) AS "meetings"
  FROM m_activities WHERE "occurred_at" IS NOT NULL
  GROUP BY owner_id, CAST(date_trunc('month', "occurred_at") AS DATE)
