INSERT INTO kpi_owner_months (owner_id, month, "nps__n", "nps__d", "csat__n", "csat__d", "feedback_count")
WITH m_feedback AS (
  SELECT coalesce(f.rep_id, a.owner_rep_id) AS owner_id, f.kind AS "kind", f.score AS "score", f.submitted_at AS "submitted_at"
  FROM spm.feedback AS f LEFT JOIN spm.accounts AS a ON a.account_id = f.account_id
)
SELECT owner_id, CAST(date_trunc('month', "submitted_at") AS DATE) AS month,
    sum(CASE WHEN kind = 'nps' THEN (CASE WHEN score BETWEEN 9 AND 10 THEN 100 WHEN score BETWEEN 0 AND 6 THEN -100 WHEN score IS NOT NULL THEN 0 END) END) AS "nps__n",
    sum(CASE WHEN kind = 'nps' AND (CASE WHEN score BETWEEN 9 AND 10 THEN 100 WHEN score BETWEEN 0 AND 6 THEN -100 WHEN score IS NOT NULL THEN 0 END) IS NOT NULL THEN 1 ELSE 0 END) AS "nps__d",
    sum(CASE WHEN kind = 'csat' THEN (CASE WHEN score BETWEEN 4 AND 5 THEN 100 WHEN score IS NOT NULL THEN 0 END) END) AS "csat__n",
    sum(CASE WHEN kind = 'csat' AND (CASE WHEN score BETWEEN 4 AND 5 THEN 100 WHEN score IS NOT NULL THEN 0 END) IS NOT NULL THEN 1 ELSE 0 END) AS "csat__d",
    sum(1) AS "feedback_count"
  FROM m_feedback WHERE "submitted_at" IS NOT NULL
  GROUP BY owner_id, CAST(date_trunc('month', "submitted_at") AS DATE)
