SELECT source, src_order, crm_id, owner_crm_id, kind, occurred_at, is_completed, account_crm_id, opportunity_crm_id, is_deleted, updated_at, lead_crm_id
FROM (
SELECT
  'sf' AS source,
  0 AS src_order,
  "src"."id" AS crm_id,
  "src"."owner_id" AS owner_crm_id,
  CASE CAST(("src"."task_subtype") AS TEXT) WHEN 'Call' THEN 'call' WHEN 'Email' THEN 'email' WHEN 'ListEmail' THEN 'email' ELSE 'task' END AS kind,
  COALESCE(CAST("src"."activity_date" AS TIMESTAMP), MAKE_TIMESTAMP(EPOCH_US("src"."completed_date_time")), MAKE_TIMESTAMP(EPOCH_US("src"."created_date"))) AS occurred_at,
  COALESCE("src"."is_closed", "src"."status" = 'Completed') AS is_completed,
  "src"."account_id" AS account_crm_id,
  CASE WHEN "src"."what_id" LIKE '006%' THEN "src"."what_id" END AS opportunity_crm_id,
  "src"."is_deleted" AS is_deleted,
  MAKE_TIMESTAMP(EPOCH_US("src"."system_modstamp")) AS updated_at,
  CAST(CASE WHEN NULL LIKE '00Q%' THEN NULL END AS TEXT) AS lead_crm_id
FROM raw_sf.task AS src
) AS p
WHERE crm_id IS NOT NULL AND kind IS NOT NULL AND occurred_at IS NOT NULL
