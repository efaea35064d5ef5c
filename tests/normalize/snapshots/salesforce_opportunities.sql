SELECT source, src_order, crm_id, account_crm_id, owner_crm_id, owner_email, name, stage, is_closed, is_won, amount, currency, amount_home, recurring_amount, deal_type, created_at, close_date, is_deleted, updated_at, mirror_of_crm_id, owner_assigned_at, loss_reason, won_reason, lead_source
FROM (
SELECT
  'sf' AS source,
  0 AS src_order,
  "src"."id" AS crm_id,
  "src"."account_id" AS account_crm_id,
  "src"."owner_id" AS owner_crm_id,
  CAST(NULL AS TEXT) AS owner_email,
  "src"."name" AS name,
  "src"."stage_name" AS stage,
  "src"."is_closed" AS is_closed,
  "src"."is_won" AS is_won,
  "src"."amount" AS amount,
  "src"."currency_iso_code" AS currency,
  CAST(NULL AS DOUBLE) AS amount_home,
  "src"."arr_c" AS recurring_amount,
  CASE CAST(("src"."type") AS TEXT) WHEN 'New Business' THEN 'new' WHEN 'New Customer' THEN 'new' WHEN 'Existing Customer - Upgrade' THEN 'expansion' WHEN 'Existing Customer - Expansion' THEN 'expansion' WHEN 'Existing Customer - Replacement' THEN 'renewal' WHEN 'Existing Customer - Downgrade' THEN 'renewal' WHEN 'Renewal' THEN 'renewal' WHEN 'Existing Customer - Renewal' THEN 'renewal' ELSE NULL END AS deal_type,
  MAKE_TIMESTAMP(EPOCH_US("src"."created_date")) AS created_at,
  "src"."close_date" AS close_date,
  "src"."is_deleted" AS is_deleted,
  MAKE_TIMESTAMP(EPOCH_US("src"."system_modstamp")) AS updated_at,
  CAST(NULL AS TEXT) AS mirror_of_crm_id,
  CAST(NULL AS TIMESTAMP) AS owner_assigned_at,
  CAST(NULL AS TEXT) AS loss_reason,
  CAST(NULL AS TEXT) AS won_reason,
  CAST(NULL AS TEXT) AS lead_source
FROM raw_sf.opportunity AS src
) AS p
WHERE crm_id IS NOT NULL
