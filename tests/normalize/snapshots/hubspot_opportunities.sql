SELECT source, src_order, crm_id, account_crm_id, owner_crm_id, owner_email, name, stage, is_closed, is_won, amount, currency, amount_home, recurring_amount, deal_type, created_at, close_date, is_deleted, updated_at, mirror_of_crm_id, owner_assigned_at, loss_reason, won_reason, lead_source
FROM (
SELECT *, ROW_NUMBER() OVER (PARTITION BY crm_id ORDER BY updated_at DESC NULLS LAST) AS rn
FROM (
SELECT source, src_order, crm_id, account_crm_id, owner_crm_id, owner_email, name, stage, is_closed, is_won, amount, currency, amount_home, recurring_amount, deal_type, created_at, close_date, is_deleted, updated_at, mirror_of_crm_id, owner_assigned_at, loss_reason, won_reason, lead_source
FROM (
SELECT
  'hs' AS source,
  0 AS src_order,
  "src"."id" AS crm_id,
  "company"."to_id" AS account_crm_id,
  "src"."hubspot_owner_id" AS owner_crm_id,
  CAST(NULL AS TEXT) AS owner_email,
  "src"."dealname" AS name,
  "src"."dealstage" AS stage,
  CASE LOWER(NULLIF(TRIM(CAST("src"."hs_is_closed" AS TEXT)), '')) WHEN 'true' THEN TRUE WHEN '1' THEN TRUE WHEN 'yes' THEN TRUE WHEN 'false' THEN FALSE WHEN '0' THEN FALSE WHEN 'no' THEN FALSE END AS is_closed,
  CASE LOWER(NULLIF(TRIM(CAST("src"."hs_is_closed_won" AS TEXT)), '')) WHEN 'true' THEN TRUE WHEN '1' THEN TRUE WHEN 'yes' THEN TRUE WHEN 'false' THEN FALSE WHEN '0' THEN FALSE WHEN 'no' THEN FALSE END AS is_won,
  TRY_CAST(NULLIF(TRIM(CAST("src"."amount" AS TEXT)), '') AS DOUBLE) AS amount,
  "src"."deal_currency_code" AS currency,
  TRY_CAST(NULLIF(TRIM(CAST("src"."amount_in_home_currency" AS TEXT)), '') AS DOUBLE) AS amount_home,
  COALESCE(TRY_CAST(NULLIF(TRIM(CAST("src"."hs_arr" AS TEXT)), '') AS DOUBLE), TRY_CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS DOUBLE)) AS recurring_amount,
  CASE CAST((LOWER("src"."dealtype")) AS TEXT) WHEN 'newbusiness' THEN 'new' WHEN 'existingbusiness' THEN 'expansion' WHEN 'renewal' THEN 'renewal' WHEN 'expansion' THEN 'expansion' ELSE NULL END AS deal_type,
  CASE WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(COALESCE("src"."createdate", "src"."created_at") AS TEXT)), ''), '^-{0,1}[0-9]+$') THEN EPOCH_MS(CAST(NULLIF(TRIM(CAST(COALESCE("src"."createdate", "src"."created_at") AS TEXT)), '') AS BIGINT)) WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(COALESCE("src"."createdate", "src"."created_at") AS TEXT)), ''), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TIMEZONE('UTC', TRY_CAST(NULLIF(TRIM(CAST(COALESCE("src"."createdate", "src"."created_at") AS TEXT)), '') AS TIMESTAMPTZ)) END AS created_at,
  CAST(CASE WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST("src"."closedate" AS TEXT)), ''), '^-{0,1}[0-9]+$') THEN EPOCH_MS(CAST(NULLIF(TRIM(CAST("src"."closedate" AS TEXT)), '') AS BIGINT)) WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST("src"."closedate" AS TEXT)), ''), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TIMEZONE('UTC', TRY_CAST(NULLIF(TRIM(CAST("src"."closedate" AS TEXT)), '') AS TIMESTAMPTZ)) END AS DATE) AS close_date,
  COALESCE("src"."archived", FALSE) OR COALESCE(NULL, FALSE) AS is_deleted,
  CASE WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(COALESCE("src"."hs_lastmodifieddate", "src"."updated_at") AS TEXT)), ''), '^-{0,1}[0-9]+$') THEN EPOCH_MS(CAST(NULLIF(TRIM(CAST(COALESCE("src"."hs_lastmodifieddate", "src"."updated_at") AS TEXT)), '') AS BIGINT)) WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(COALESCE("src"."hs_lastmodifieddate", "src"."updated_at") AS TEXT)), ''), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TIMEZONE('UTC', TRY_CAST(NULLIF(TRIM(CAST(COALESCE("src"."hs_lastmodifieddate", "src"."updated_at") AS TEXT)), '') AS TIMESTAMPTZ)) END AS updated_at,
  CAST(NULLIF(NULL, '') AS TEXT) AS mirror_of_crm_id,
  CASE WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^-{0,1}[0-9]+$') THEN EPOCH_MS(CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS BIGINT)) WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TIMEZONE('UTC', TRY_CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS TIMESTAMPTZ)) END AS owner_assigned_at,
  CAST(NULL AS TEXT) AS loss_reason,
  CAST(NULL AS TEXT) AS won_reason,
  CAST(NULL AS TEXT) AS lead_source
FROM raw_hs.deals AS src
LEFT JOIN raw_hs.associations AS company ON "company"."from_object" = 'deals' AND "company"."from_id" = "src"."id" AND "company"."to_object" = 'companies' AND "company"."association_type_id" = 5
) AS p
WHERE crm_id IS NOT NULL
) AS j
) AS d
WHERE rn = 1
