CREATE TEMP TABLE kpi_target_facts AS
WITH m_quotas AS (
  SELECT owner AS owner_id, CAST(NULL AS TEXT) AS team_id, CAST(1 AS DOUBLE) AS credit_share, TRUE AS in_totals, period_start AS "period_start", period_end AS "period_end", coalesce(measure, 'revenue') AS "measure", amount_rc AS "amount_rc"
  FROM spm.quotas
),
m_activity_targets AS (
  SELECT owner AS owner_id, CAST(NULL AS TEXT) AS team_id, CAST(1 AS DOUBLE) AS credit_share, TRUE AS in_totals, period_start AS "period_start", period_end AS "period_end", kind AS "kind", target AS "target"
  FROM spm.activity_targets
),
target_rows AS (
  SELECT 'quota' AS target, owner_id, period_start, period_end, amount_rc AS amount FROM m_quotas WHERE measure = 'revenue'
  UNION ALL
  SELECT 'calls_vs_target__target' AS target, owner_id, period_start, period_end, target AS amount FROM m_activity_targets WHERE kind = 'call'
  UNION ALL
  SELECT 'emails_vs_target__target' AS target, owner_id, period_start, period_end, target AS amount FROM m_activity_targets WHERE kind = 'email'
  UNION ALL
  SELECT 'meetings_vs_target__target' AS target, owner_id, period_start, period_end, target AS amount FROM m_activity_targets WHERE kind = 'meeting'
),
monthly AS (
  SELECT r.target, r.owner_id, m.period_start AS month,
    greatest(r.period_start, m.period_start) AS lo, least(r.period_end, m.period_end) AS hi,
    CAST(r.amount AS DOUBLE)
      * (least(r.period_end, m.period_end) - greatest(r.period_start, m.period_start))
      / (r.period_end - r.period_start) AS amount
  FROM target_rows AS r JOIN kpi_periods AS m
    ON m.grain = 'month' AND m.period_start < r.period_end AND r.period_start < m.period_end
  WHERE r.period_end > r.period_start AND r.amount IS NOT NULL
),
nodes AS (SELECT DISTINCT team_id FROM kpi_team_tree),
team_rows AS (
  SELECT target, owner_id AS team_id, month, sum(amount) AS amount
  FROM monthly
  WHERE owner_id IN (SELECT team_id FROM nodes) GROUP BY target, owner_id, month
),
rep_monthly AS (
  SELECT mo.target, r.rep_id, mo.month, mo.lo, mo.hi, mo.amount
  FROM monthly AS mo LEFT JOIN spm.reps AS r ON r.rep_id = mo.owner_id
  WHERE mo.owner_id IS NULL OR mo.owner_id NOT IN (SELECT team_id FROM nodes)
),
placed AS (
  SELECT p.target, p.rep_id, m.team_id, p.month,
    p.amount * (least(p.hi, coalesce(m.valid_to, p.hi)) - greatest(p.lo, coalesce(m.valid_from, p.lo)))
      / (p.hi - p.lo) AS amount
  FROM rep_monthly AS p JOIN spm.credit_membership AS m ON m.rep_id = p.rep_id
    AND (m.valid_from IS NULL OR m.valid_from < p.hi) AND (m.valid_to IS NULL OR p.lo < m.valid_to)
),
unplaced AS (
  SELECT a.target, a.rep_id, CAST(NULL AS TEXT) AS team_id, a.month,
    a.amount - coalesce(b.amount, 0) AS amount
  FROM (SELECT target, rep_id, month, sum(amount) AS amount FROM rep_monthly GROUP BY target, rep_id, month) AS a
  LEFT JOIN (SELECT target, rep_id, month, sum(amount) AS amount FROM placed GROUP BY target, rep_id, month) AS b
    ON b.target = a.target AND b.rep_id = a.rep_id AND b.month = a.month
),
rep_rows AS (
  SELECT target, rep_id, team_id, month, sum(amount) AS amount FROM (
    SELECT * FROM placed UNION ALL SELECT * FROM unplaced WHERE abs(amount) > 1e-9
  ) AS x GROUP BY target, rep_id, team_id, month
),
nearest AS (
  SELECT c.team_id, e.target, e.month, min(c.distance) AS distance
  FROM kpi_team_tree AS c JOIN team_rows AS e ON e.team_id = c.ancestor_id
  GROUP BY c.team_id, e.target, e.month
),
nearest_above AS (
  SELECT c.team_id, e.target, e.month, min(c.distance) AS distance
  FROM kpi_team_tree AS c JOIN team_rows AS e ON e.team_id = c.ancestor_id
  WHERE c.distance > 0 GROUP BY c.team_id, e.target, e.month
),
target_contributions AS (
  SELECT 'rep' AS entity_type, rep_id AS entity_id, target, month, amount, FALSE AS team_row, team_id AS from_team, CAST(NULL AS INTEGER) AS replaced_at FROM rep_rows WHERE rep_id IS NOT NULL
  UNION ALL
  SELECT 'team', c.ancestor_id, r.target, r.month, r.amount, FALSE, r.team_id,
    CASE WHEN c.distance >= n.distance THEN n.distance END
  FROM rep_rows AS r JOIN kpi_team_tree AS c ON c.team_id = r.team_id
  LEFT JOIN nearest AS n ON n.team_id = r.team_id AND n.target = r.target AND n.month = r.month
  UNION ALL
  SELECT 'team', c.ancestor_id, t.target, t.month, t.amount, TRUE, t.team_id,
    CASE WHEN c.distance >= n.distance THEN n.distance END
  FROM team_rows AS t JOIN kpi_team_tree AS c ON c.team_id = t.team_id
  LEFT JOIN nearest_above AS n ON n.team_id = t.team_id AND n.target = t.target AND n.month = t.month
  UNION ALL
  SELECT 'company', 'company', r.target, r.month, r.amount, FALSE, r.team_id, n.distance
  FROM rep_rows AS r LEFT JOIN nearest AS n ON n.team_id = r.team_id AND n.target = r.target AND n.month = r.month
  UNION ALL
  SELECT 'company', 'company', t.target, t.month, t.amount, TRUE, t.team_id, n.distance
  FROM team_rows AS t LEFT JOIN nearest_above AS n ON n.team_id = t.team_id AND n.target = t.target AND n.month = t.month
)
SELECT c.entity_type, c.entity_id, p.period, CAST(round(CAST(sum(CASE WHEN c.target = 'quota' THEN c.amount END) AS DECIMAL(38, 9)), 6) AS DOUBLE) AS "quota", CAST(round(CAST(sum(CASE WHEN c.target = 'calls_vs_target__target' THEN c.amount END) AS DECIMAL(38, 9)), 6) AS DOUBLE) AS "calls_vs_target__target", CAST(round(CAST(sum(CASE WHEN c.target = 'emails_vs_target__target' THEN c.amount END) AS DECIMAL(38, 9)), 6) AS DOUBLE) AS "emails_vs_target__target", CAST(round(CAST(sum(CASE WHEN c.target = 'meetings_vs_target__target' THEN c.amount END) AS DECIMAL(38, 9)), 6) AS DOUBLE) AS "meetings_vs_target__target"
FROM target_contributions AS c JOIN kpi_month_map AS p ON p.month = c.month
WHERE c.replaced_at IS NULL
GROUP BY c.entity_type, c.entity_id, p.period
