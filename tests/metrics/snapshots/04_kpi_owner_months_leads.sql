INSERT INTO kpi_owner_months (owner_id, team_id, in_totals, month, "leads_generated", "leads_generated_converted", "avg_days_to_first_activity__n", "avg_days_to_first_activity__d", "leads_converted")
WITH m_leads AS MATERIALIZED (
  SELECT l.owner_rep_id AS owner_id, CAST(NULL AS TEXT) AS team_id, CAST(1 AS DOUBLE) AS credit_share, TRUE AS in_totals, l.created_at AS "created_at", l.converted_at AS "converted_at", coalesce(l.is_converted, l.converted_at IS NOT NULL) AS "is_converted", fa.first_activity_at AS "first_activity_at"
  FROM spm.leads AS l LEFT JOIN (SELECT lead_id, min(occurred_at) AS first_activity_at FROM spm.activities
  WHERE lead_id IS NOT NULL GROUP BY lead_id) AS fa ON fa.lead_id = l.lead_id WHERE l.mirror_of IS NULL
)
SELECT owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE) AS month,
    sum("leads_generated") AS "leads_generated",
    sum("leads_generated_converted") AS "leads_generated_converted",
    sum("avg_days_to_first_activity__n") AS "avg_days_to_first_activity__n",
    sum("avg_days_to_first_activity__d") AS "avg_days_to_first_activity__d",
    CAST(NULL AS DOUBLE) AS "leads_converted"
  FROM (SELECT d.owner_id, m.team_id, d.in_totals, d.day, d."leads_generated", d."leads_generated_converted", d."avg_days_to_first_activity__n", d."avg_days_to_first_activity__d"
  FROM (SELECT owner_id, team_id, in_totals, CAST("created_at" AS DATE) AS day, sum(credit_share) AS "leads_generated", sum(CASE WHEN is_converted THEN credit_share ELSE 0 END) AS "leads_generated_converted", sum(credit_share * ((EPOCH(first_activity_at) - EPOCH(created_at)) / 86400.0)) AS "avg_days_to_first_activity__n", sum(CASE WHEN NOT ((EPOCH(first_activity_at) - EPOCH(created_at)) / 86400.0) IS NULL THEN credit_share ELSE 0 END) AS "avg_days_to_first_activity__d"
  FROM m_leads WHERE "created_at" IS NOT NULL
  GROUP BY owner_id, team_id, in_totals, CAST("created_at" AS DATE)) AS d
  LEFT JOIN spm.credit_membership AS m ON m.rep_id = d.owner_id
    AND (m.valid_from IS NULL OR m.valid_from <= d.day)
    AND (m.valid_to IS NULL OR d.day < m.valid_to)) AS k
  GROUP BY owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE)
  UNION ALL
  SELECT owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE) AS month,
    CAST(NULL AS DOUBLE) AS "leads_generated",
    CAST(NULL AS DOUBLE) AS "leads_generated_converted",
    CAST(NULL AS DOUBLE) AS "avg_days_to_first_activity__n",
    CAST(NULL AS DOUBLE) AS "avg_days_to_first_activity__d",
    sum("leads_converted") AS "leads_converted"
  FROM (SELECT d.owner_id, m.team_id, d.in_totals, d.day, d."leads_converted"
  FROM (SELECT owner_id, team_id, in_totals, CAST("converted_at" AS DATE) AS day, sum(credit_share) AS "leads_converted"
  FROM m_leads WHERE "converted_at" IS NOT NULL
  GROUP BY owner_id, team_id, in_totals, CAST("converted_at" AS DATE)) AS d
  LEFT JOIN spm.credit_membership AS m ON m.rep_id = d.owner_id
    AND (m.valid_from IS NULL OR m.valid_from <= d.day)
    AND (m.valid_to IS NULL OR d.day < m.valid_to)) AS k
  GROUP BY owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE)
