INSERT INTO kpi_owner_months (owner_id, month, "leads_generated", "leads_generated_converted", "leads_converted")
WITH m_leads AS MATERIALIZED (
  SELECT owner_rep_id AS owner_id, created_at AS "created_at", converted_at AS "converted_at", coalesce(is_converted, converted_at IS NOT NULL) AS "is_converted"
  FROM spm.leads
)
SELECT owner_id, CAST(date_trunc('month', "created_at") AS DATE) AS month,
    sum(1) AS "leads_generated",
    sum(CASE WHEN is_converted THEN 1 ELSE 0 END) AS "leads_generated_converted",
    CAST(NULL AS DOUBLE) AS "leads_converted"
  FROM m_leads WHERE "created_at" IS NOT NULL
  GROUP BY owner_id, CAST(date_trunc('month', "created_at") AS DATE)
  UNION ALL
  SELECT owner_id, CAST(date_trunc('month', "converted_at") AS DATE) AS month,
    CAST(NULL AS DOUBLE) AS "leads_generated",
    CAST(NULL AS DOUBLE) AS "leads_generated_converted",
    sum(1) AS "leads_converted"
  FROM m_leads WHERE "converted_at" IS NOT NULL
  GROUP BY owner_id, CAST(date_trunc('month', "converted_at") AS DATE)
