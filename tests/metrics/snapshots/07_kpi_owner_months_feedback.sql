INSERT INTO kpi_owner_months (owner_id, team_id, in_totals, month, "nps__n", "nps__d", "csat__n", "csat__d", "feedback_count", "enps__n", "enps__d", "rep_feedback_count")
WITH m_feedback AS (
  SELECT coalesce(f.rep_id, a.owner_rep_id) AS owner_id, CAST(NULL AS TEXT) AS team_id, CAST(1 AS DOUBLE) AS credit_share, TRUE AS in_totals, f.kind AS "kind", f.score AS "score", f.submitted_at AS "submitted_at"
  FROM spm.feedback AS f LEFT JOIN spm.accounts AS a ON a.account_id = f.account_id
)
SELECT owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE) AS month,
    sum("nps__n") AS "nps__n",
    sum("nps__d") AS "nps__d",
    sum("csat__n") AS "csat__n",
    sum("csat__d") AS "csat__d",
    sum("feedback_count") AS "feedback_count",
    sum("enps__n") AS "enps__n",
    sum("enps__d") AS "enps__d",
    sum("rep_feedback_count") AS "rep_feedback_count"
  FROM (SELECT d.owner_id, m.team_id, d.in_totals, d.day, d."nps__n", d."nps__d", d."csat__n", d."csat__d", d."feedback_count", d."enps__n", d."enps__d", d."rep_feedback_count"
  FROM (SELECT owner_id, team_id, in_totals, CAST("submitted_at" AS DATE) AS day, sum(CASE WHEN kind = 'nps' THEN credit_share * (CASE WHEN score BETWEEN 9 AND 10 THEN 100 WHEN score BETWEEN 0 AND 6 THEN -100 WHEN NOT score IS NULL THEN 0 END) END) AS "nps__n", sum(CASE WHEN kind = 'nps' AND NOT (CASE WHEN score BETWEEN 9 AND 10 THEN 100 WHEN score BETWEEN 0 AND 6 THEN -100 WHEN NOT score IS NULL THEN 0 END) IS NULL THEN credit_share ELSE 0 END) AS "nps__d", sum(CASE WHEN kind = 'csat' THEN credit_share * (CASE WHEN score BETWEEN 4 AND 5 THEN 100 WHEN NOT score IS NULL THEN 0 END) END) AS "csat__n", sum(CASE WHEN kind = 'csat' AND NOT (CASE WHEN score BETWEEN 4 AND 5 THEN 100 WHEN NOT score IS NULL THEN 0 END) IS NULL THEN credit_share ELSE 0 END) AS "csat__d", sum(credit_share) AS "feedback_count", sum(CASE WHEN kind = 'rep' THEN credit_share * (CASE WHEN score BETWEEN 9 AND 10 THEN 100 WHEN score BETWEEN 0 AND 6 THEN -100 WHEN NOT score IS NULL THEN 0 END) END) AS "enps__n", sum(CASE WHEN kind = 'rep' AND NOT (CASE WHEN score BETWEEN 9 AND 10 THEN 100 WHEN score BETWEEN 0 AND 6 THEN -100 WHEN NOT score IS NULL THEN 0 END) IS NULL THEN credit_share ELSE 0 END) AS "enps__d", sum(CASE WHEN kind = 'rep' THEN credit_share ELSE 0 END) AS "rep_feedback_count"
  FROM m_feedback WHERE "submitted_at" IS NOT NULL
  GROUP BY owner_id, team_id, in_totals, CAST("submitted_at" AS DATE)) AS d
  LEFT JOIN spm.credit_membership AS m ON m.rep_id = d.owner_id
    AND (m.valid_from IS NULL OR m.valid_from <= d.day)
    AND (m.valid_to IS NULL OR d.day < m.valid_to)) AS k
  GROUP BY owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE)
