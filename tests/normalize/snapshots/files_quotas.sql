SELECT source, src_order, owner_crm_id, owner_user_id, owner_email, owner_team_crm_id, period_start, period_end, measure, amount, currency, amount_home, is_deleted, origin
FROM (
SELECT
  'erp' AS source,
  0 AS src_order,
  CAST(NULL AS TEXT) AS owner_crm_id,
  CAST(NULL AS TEXT) AS owner_user_id,
  "src"."rep_email" AS owner_email,
  CASE WHEN "src"."rep_email" IS NULL THEN "src"."team" END AS owner_team_crm_id,
  "src"."period_start" AS period_start,
  CAST("src"."period_end" + INTERVAL '1' DAY AS DATE) AS period_end,
  COALESCE(NULL, 'revenue') AS measure,
  "src"."amount" AS amount,
  "src"."currency" AS currency,
  CAST(NULL AS DOUBLE) AS amount_home,
  CAST(NULL AS BOOLEAN) AS is_deleted,
  CAST(NULL || ': line ' || CAST(NULL AS TEXT) AS TEXT) AS origin
FROM raw_erp.quotas AS src
) AS p
WHERE period_start IS NOT NULL AND period_end IS NOT NULL AND amount IS NOT NULL
