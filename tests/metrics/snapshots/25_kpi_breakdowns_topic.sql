INSERT INTO kpi_breakdowns (entity_type, entity_id, period, metric, value, numerator, denominator, dimension, dimension_value)
WITH m_feedback AS (
  SELECT coalesce(f.rep_id, a.owner_rep_id) AS owner_id, CAST(NULL AS TEXT) AS team_id, CAST(1 AS DOUBLE) AS credit_share, TRUE AS in_totals, f.kind AS "kind", f.score AS "score", f.topic AS "topic", f.submitted_at AS "submitted_at"
  FROM spm.feedback AS f LEFT JOIN spm.accounts AS a ON a.account_id = f.account_id
),
rows_ AS (
  SELECT k.owner_id, k.team_id, k.in_totals, CAST(k."topic" AS TEXT) AS dimension_value, k.day, k."enps__n", k."enps__d", k."rep_feedback_count"
  FROM (SELECT d.owner_id, m.team_id, d.in_totals, d.day, d."topic", d."enps__n", d."enps__d", d."rep_feedback_count"
  FROM (SELECT owner_id, team_id, in_totals, "topic", CAST("submitted_at" AS DATE) AS day, sum(CASE WHEN kind = 'rep' THEN credit_share * (CASE WHEN score BETWEEN 9 AND 10 THEN 100 WHEN score BETWEEN 0 AND 6 THEN -100 WHEN NOT score IS NULL THEN 0 END) END) AS "enps__n", sum(CASE WHEN kind = 'rep' AND NOT (CASE WHEN score BETWEEN 9 AND 10 THEN 100 WHEN score BETWEEN 0 AND 6 THEN -100 WHEN NOT score IS NULL THEN 0 END) IS NULL THEN credit_share ELSE 0 END) AS "enps__d", sum(CASE WHEN kind = 'rep' THEN credit_share ELSE 0 END) AS "rep_feedback_count"
  FROM m_feedback WHERE "submitted_at" IS NOT NULL
  GROUP BY owner_id, team_id, in_totals, "topic", CAST("submitted_at" AS DATE)) AS d
  LEFT JOIN spm.credit_membership AS m ON m.rep_id = d.owner_id
    AND (m.valid_from IS NULL OR m.valid_from <= d.day)
    AND (m.valid_to IS NULL OR d.day < m.valid_to)) AS k
),
owner_periods AS (
  SELECT r.owner_id, r.team_id, r.in_totals, r.dimension_value, p.period, sum(r."enps__n") AS "enps__n", sum(r."enps__d") AS "enps__d", sum(r."rep_feedback_count") AS "rep_feedback_count"
  FROM rows_ AS r
  JOIN kpi_month_map AS p ON p.month = CAST(date_trunc('month', r.day) AS DATE)
  GROUP BY r.owner_id, r.team_id, r.in_totals, r.dimension_value, p.period
),
facts AS (
  SELECT 'rep' AS entity_type, f.owner_id AS entity_id, f.period, f.dimension_value, sum(f."enps__n") AS "enps__n", sum(f."enps__d") AS "enps__d", sum(f."rep_feedback_count") AS "rep_feedback_count"
  FROM owner_periods AS f WHERE f.owner_id IS NOT NULL GROUP BY f.owner_id, f.period, f.dimension_value
  UNION ALL
  SELECT 'team', t.ancestor_id, f.period, f.dimension_value, sum(f."enps__n") AS "enps__n", sum(f."enps__d") AS "enps__d", sum(f."rep_feedback_count") AS "rep_feedback_count"
  FROM owner_periods AS f JOIN kpi_team_tree AS t ON t.team_id = f.team_id WHERE f.in_totals GROUP BY t.ancestor_id, f.period, f.dimension_value
  UNION ALL
  SELECT 'company', 'company', f.period, f.dimension_value, sum(f."enps__n") AS "enps__n", sum(f."enps__d") AS "enps__d", sum(f."rep_feedback_count") AS "rep_feedback_count"
  FROM owner_periods AS f WHERE f.in_totals GROUP BY f.period, f.dimension_value
),
l0 AS (
  SELECT entity_type, entity_id, period, dimension_value,
    CAST(coalesce("enps__n", 0) AS DOUBLE) AS "enps__n",
    CAST(coalesce("enps__d", 0) AS DOUBLE) AS "enps__d",
    CASE WHEN coalesce("enps__d", 0) = 0 THEN NULL ELSE CAST("enps__n" AS DOUBLE) / "enps__d" END AS "enps",
    CAST(coalesce("rep_feedback_count", 0) AS DOUBLE) AS "rep_feedback_count"
  FROM facts
)
SELECT entity_type, entity_id, period, metric, value, numerator, denominator, dimension, dimension_value FROM (
  SELECT entity_type, entity_id, period, 'enps' AS metric, "enps" AS value, "enps__n" AS numerator, "enps__d" AS denominator, 'topic' AS dimension, dimension_value FROM l0
  UNION ALL
  SELECT entity_type, entity_id, period, 'rep_feedback_count' AS metric, "rep_feedback_count" AS value, "rep_feedback_count" AS numerator, CAST(NULL AS DOUBLE) AS denominator, 'topic' AS dimension, dimension_value FROM l0
) AS u
WHERE coalesce(u.numerator, 0) <> 0 OR coalesce(u.denominator, 0) <> 0
