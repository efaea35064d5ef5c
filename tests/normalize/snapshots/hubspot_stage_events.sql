SELECT source, src_order, opportunity_crm_id, stage, entered_at, is_deleted
FROM (
SELECT
  'hs' AS source,
  0 AS src_order,
  "src"."id" AS opportunity_crm_id,
  'appointmentscheduled' AS stage,
  COALESCE(CASE WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST("src"."hs_v2_date_entered_appointmentscheduled" AS TEXT)), ''), '^-{0,1}[0-9]+$') THEN EPOCH_MS(CAST(NULLIF(TRIM(CAST("src"."hs_v2_date_entered_appointmentscheduled" AS TEXT)), '') AS BIGINT)) WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST("src"."hs_v2_date_entered_appointmentscheduled" AS TEXT)), ''), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TIMEZONE('UTC', TRY_CAST(NULLIF(TRIM(CAST("src"."hs_v2_date_entered_appointmentscheduled" AS TEXT)), '') AS TIMESTAMPTZ)) END, CASE WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST("src"."hs_date_entered_appointmentscheduled" AS TEXT)), ''), '^-{0,1}[0-9]+$') THEN EPOCH_MS(CAST(NULLIF(TRIM(CAST("src"."hs_date_entered_appointmentscheduled" AS TEXT)), '') AS BIGINT)) WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST("src"."hs_date_entered_appointmentscheduled" AS TEXT)), ''), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TIMEZONE('UTC', TRY_CAST(NULLIF(TRIM(CAST("src"."hs_date_entered_appointmentscheduled" AS TEXT)), '') AS TIMESTAMPTZ)) END) AS entered_at,
  COALESCE("src"."archived", FALSE) OR COALESCE(NULL, FALSE) AS is_deleted
FROM raw_hs.deals AS src
UNION ALL
SELECT
  'hs' AS source,
  0 AS src_order,
  "src"."id" AS opportunity_crm_id,
  'qualifiedtobuy' AS stage,
  COALESCE(CASE WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^-{0,1}[0-9]+$') THEN EPOCH_MS(CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS BIGINT)) WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TIMEZONE('UTC', TRY_CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS TIMESTAMPTZ)) END, CASE WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^-{0,1}[0-9]+$') THEN EPOCH_MS(CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS BIGINT)) WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TIMEZONE('UTC', TRY_CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS TIMESTAMPTZ)) END) AS entered_at,
  COALESCE("src"."archived", FALSE) OR COALESCE(NULL, FALSE) AS is_deleted
FROM raw_hs.deals AS src
UNION ALL
SELECT
  'hs' AS source,
  0 AS src_order,
  "src"."id" AS opportunity_crm_id,
  'presentationscheduled' AS stage,
  COALESCE(CASE WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^-{0,1}[0-9]+$') THEN EPOCH_MS(CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS BIGINT)) WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TIMEZONE('UTC', TRY_CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS TIMESTAMPTZ)) END, CASE WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^-{0,1}[0-9]+$') THEN EPOCH_MS(CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS BIGINT)) WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TIMEZONE('UTC', TRY_CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS TIMESTAMPTZ)) END) AS entered_at,
  COALESCE("src"."archived", FALSE) OR COALESCE(NULL, FALSE) AS is_deleted
FROM raw_hs.deals AS src
UNION ALL
SELECT
  'hs' AS source,
  0 AS src_order,
  "src"."id" AS opportunity_crm_id,
  'decisionmakerboughtin' AS stage,
  COALESCE(CASE WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^-{0,1}[0-9]+$') THEN EPOCH_MS(CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS BIGINT)) WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TIMEZONE('UTC', TRY_CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS TIMESTAMPTZ)) END, CASE WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^-{0,1}[0-9]+$') THEN EPOCH_MS(CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS BIGINT)) WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TIMEZONE('UTC', TRY_CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS TIMESTAMPTZ)) END) AS entered_at,
  COALESCE("src"."archived", FALSE) OR COALESCE(NULL, FALSE) AS is_deleted
FROM raw_hs.deals AS src
UNION ALL
SELECT
  'hs' AS source,
  0 AS src_order,
  "src"."id" AS opportunity_crm_id,
  'contractsent' AS stage,
  COALESCE(CASE WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST("src"."hs_v2_date_entered_contractsent" AS TEXT)), ''), '^-{0,1}[0-9]+$') THEN EPOCH_MS(CAST(NULLIF(TRIM(CAST("src"."hs_v2_date_entered_contractsent" AS TEXT)), '') AS BIGINT)) WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST("src"."hs_v2_date_entered_contractsent" AS TEXT)), ''), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TIMEZONE('UTC', TRY_CAST(NULLIF(TRIM(CAST("src"."hs_v2_date_entered_contractsent" AS TEXT)), '') AS TIMESTAMPTZ)) END, CASE WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST("src"."hs_date_entered_contractsent" AS TEXT)), ''), '^-{0,1}[0-9]+$') THEN EPOCH_MS(CAST(NULLIF(TRIM(CAST("src"."hs_date_entered_contractsent" AS TEXT)), '') AS BIGINT)) WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST("src"."hs_date_entered_contractsent" AS TEXT)), ''), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TIMEZONE('UTC', TRY_CAST(NULLIF(TRIM(CAST("src"."hs_date_entered_contractsent" AS TEXT)), '') AS TIMESTAMPTZ)) END) AS entered_at,
  COALESCE("src"."archived", FALSE) OR COALESCE(NULL, FALSE) AS is_deleted
FROM raw_hs.deals AS src
UNION ALL
SELECT
  'hs' AS source,
  0 AS src_order,
  "src"."id" AS opportunity_crm_id,
  'closedwon' AS stage,
  COALESCE(CASE WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^-{0,1}[0-9]+$') THEN EPOCH_MS(CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS BIGINT)) WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TIMEZONE('UTC', TRY_CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS TIMESTAMPTZ)) END, CASE WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST("src"."hs_date_entered_closedwon" AS TEXT)), ''), '^-{0,1}[0-9]+$') THEN EPOCH_MS(CAST(NULLIF(TRIM(CAST("src"."hs_date_entered_closedwon" AS TEXT)), '') AS BIGINT)) WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST("src"."hs_date_entered_closedwon" AS TEXT)), ''), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TIMEZONE('UTC', TRY_CAST(NULLIF(TRIM(CAST("src"."hs_date_entered_closedwon" AS TEXT)), '') AS TIMESTAMPTZ)) END) AS entered_at,
  COALESCE("src"."archived", FALSE) OR COALESCE(NULL, FALSE) AS is_deleted
FROM raw_hs.deals AS src
UNION ALL
SELECT
  'hs' AS source,
  0 AS src_order,
  "src"."id" AS opportunity_crm_id,
  'closedlost' AS stage,
  COALESCE(CASE WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^-{0,1}[0-9]+$') THEN EPOCH_MS(CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS BIGINT)) WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TIMEZONE('UTC', TRY_CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS TIMESTAMPTZ)) END, CASE WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^-{0,1}[0-9]+$') THEN EPOCH_MS(CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS BIGINT)) WHEN REGEXP_MATCHES(NULLIF(TRIM(CAST(NULL AS TEXT)), ''), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TIMEZONE('UTC', TRY_CAST(NULLIF(TRIM(CAST(NULL AS TEXT)), '') AS TIMESTAMPTZ)) END) AS entered_at,
  COALESCE("src"."archived", FALSE) OR COALESCE(NULL, FALSE) AS is_deleted
FROM raw_hs.deals AS src
) AS p
WHERE opportunity_crm_id IS NOT NULL AND stage IS NOT NULL AND entered_at IS NOT NULL
