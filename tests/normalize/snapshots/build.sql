CREATE TEMP TABLE _fx AS
WITH rates AS (
  SELECT source, src_order, currency, rate FROM _in_currency_rates WHERE rate > 0
), pair AS (
  SELECT c.source, c.src_order, c.currency, rc.rate / c.rate AS to_rc
  FROM rates AS c JOIN rates AS rc ON rc.source = c.source AND rc.currency = 'USD'
), best AS (
  SELECT currency, to_rc, ROW_NUMBER() OVER (PARTITION BY currency ORDER BY src_order) AS rn FROM pair
), currencies AS (
  SELECT currency FROM rates UNION SELECT home FROM _sources UNION SELECT 'USD'
)
SELECT s.source, c.currency,
  CASE WHEN c.currency = 'USD' THEN 1.0 ELSE COALESCE(own.to_rc, b.to_rc) END AS to_rc
FROM _sources AS s
CROSS JOIN currencies AS c
LEFT JOIN pair AS own ON own.source = s.source AND own.currency = c.currency
LEFT JOIN best AS b ON b.currency = c.currency AND b.rn = 1;

CREATE TEMP TABLE _identities AS
SELECT
  CASE WHEN email_key IS NULL THEN source || ':' || crm_id
       ELSE FIRST_VALUE(source || ':' || crm_id) OVER (PARTITION BY email_key ORDER BY src_order, crm_id) END AS rep_id,
  source, src_order, crm_id, crm_user_id, email, email_key
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY source, crm_id ORDER BY src_order) AS rn,
    NULLIF(LOWER(TRIM(email)), '') AS email_key
  FROM _in_reps
) AS r
WHERE rn = 1;

CREATE TEMP TABLE _team_canon AS
WITH named AS (
  SELECT DISTINCT t.source || ':' || t.crm_id AS team_id, t.src_order, COALESCE(t.name, t.crm_id) AS name,
    CASE WHEN t.parent_crm_id IS NOT NULL THEN t.source || ':' || t.parent_crm_id END AS parent_id, CASE LOWER(TRIM(COALESCE(t.name, t.crm_id))) WHEN 'boston' THEN 'boston sales' ELSE LOWER(TRIM(COALESCE(t.name, t.crm_id))) END AS name_key
  FROM _in_teams AS t WHERE t.crm_id IS NOT NULL
)
SELECT team_id, src_order, name, parent_id,
  FIRST_VALUE(team_id) OVER (PARTITION BY name_key ORDER BY src_order, team_id) AS canonical_id
FROM named;

CREATE TEMP TABLE _team_override AS
SELECT email_key, team_id FROM (
  SELECT NULLIF(LOWER(TRIM(t.email)), '') AS email_key, COALESCE((SELECT MIN(c.canonical_id) FROM _team_canon AS c WHERE c.team_id = t.source || ':' || t.team_crm_id), t.source || ':' || t.team_crm_id) AS team_id,
    ROW_NUMBER() OVER (PARTITION BY LOWER(TRIM(t.email)) ORDER BY t.src_order, t.valid_from DESC) AS rn
  FROM _in_team_members AS t WHERE (t.valid_from IS NULL OR t.valid_from <= CAST('2026-03-15' AS DATE)) AND (t.valid_to IS NULL OR CAST('2026-03-15' AS DATE) < t.valid_to)
) AS m
WHERE rn = 1 AND email_key IS NOT NULL;

CREATE TEMP TABLE _mirror_opportunities AS
SELECT source, crm_id, MIN(original) AS mirror_of FROM (
  SELECT c.source, c.crm_id, o.source || ':' || o.crm_id AS original
  FROM _in_opportunities AS c JOIN _in_opportunities AS o ON o.crm_id = c.mirror_of_crm_id AND o.source = 'sf'
  WHERE c.source <> 'sf'
  UNION ALL
  SELECT o.source, o.crm_id, c.source || ':' || c.crm_id
  FROM _in_opportunities AS c JOIN _in_opportunities AS o ON o.crm_id = c.mirror_of_crm_id AND o.source <> 'sf'
  WHERE c.source = 'sf'
) AS m
GROUP BY source, crm_id;

CREATE TEMP VIEW _out_rep_identities AS
SELECT rep_id, source, crm_id, crm_user_id, email FROM _identities;

CREATE TEMP VIEW _out_reps AS
WITH rows AS (
  SELECT i.rep_id, i.src_order, i.email_key, r.source, r.crm_id, r.name, r.email, r.is_active,
    CASE WHEN r.team_crm_id IS NOT NULL THEN COALESCE((SELECT MIN(c.canonical_id) FROM _team_canon AS c WHERE c.team_id = r.source || ':' || r.team_crm_id), r.source || ':' || r.team_crm_id) END AS team_id,
    m.rep_id AS manager_rep_id
  FROM _identities AS i
  JOIN _in_reps AS r ON r.source = i.source AND r.crm_id = i.crm_id
  LEFT JOIN _identities AS m ON m.source = r.source AND m.crm_id = r.manager_crm_id
), team AS (
  SELECT rep_id, team_id, ROW_NUMBER() OVER (PARTITION BY rep_id ORDER BY src_order) AS rn
  FROM rows WHERE team_id IS NOT NULL
), manager AS (
  SELECT rep_id, manager_rep_id, ROW_NUMBER() OVER (PARTITION BY rep_id ORDER BY src_order) AS rn
  FROM rows WHERE manager_rep_id IS NOT NULL AND manager_rep_id <> rep_id
), active AS (
  SELECT rep_id, BOOL_OR(COALESCE(is_active, TRUE)) AS is_active FROM rows GROUP BY rep_id
)
SELECT p.rep_id, p.source, p.crm_id, p.name, p.email, COALESCE(o.team_id, t.team_id) AS team_id,
  m.manager_rep_id, a.is_active
FROM rows AS p
LEFT JOIN team AS t ON t.rep_id = p.rep_id AND t.rn = 1
LEFT JOIN manager AS m ON m.rep_id = p.rep_id AND m.rn = 1
LEFT JOIN active AS a ON a.rep_id = p.rep_id
LEFT JOIN _team_override AS o ON o.email_key = p.email_key
WHERE p.rep_id = p.source || ':' || p.crm_id;

CREATE TEMP VIEW _out_teams AS
WITH own AS (
  SELECT canonical_id, name, ROW_NUMBER() OVER (PARTITION BY canonical_id ORDER BY src_order, team_id, name) AS rn
  FROM _team_canon
), parents AS (
  SELECT t.canonical_id, COALESCE((SELECT MIN(c.canonical_id) FROM _team_canon AS c WHERE c.team_id = t.parent_id), t.parent_id) AS parent_id,
    ROW_NUMBER() OVER (PARTITION BY t.canonical_id ORDER BY t.src_order, t.team_id, t.parent_id) AS rn
  FROM _team_canon AS t WHERE t.parent_id IS NOT NULL
)
SELECT o.canonical_id AS team_id, o.name,
  CASE WHEN p.parent_id <> o.canonical_id THEN p.parent_id END AS parent_team_id
FROM own AS o LEFT JOIN parents AS p ON p.canonical_id = o.canonical_id AND p.rn = 1
WHERE o.rn = 1;

CREATE TEMP VIEW _out_accounts AS
SELECT a.source || ':' || a.crm_id AS account_id, a.source, a.crm_id, a.name,
  COALESCE(i.rep_id, ie.rep_id) AS owner_rep_id, a.created_at, ml.mirror_of
FROM _in_accounts AS a
LEFT JOIN _mirror_accounts AS ml ON ml.source = a.source AND ml.crm_id = a.crm_id
LEFT JOIN _identities AS i ON i.source = a.source AND i.crm_id = a.owner_crm_id
LEFT JOIN _email_reps AS ie ON ie.email_key = LOWER(TRIM(a.owner_email))
WHERE NOT COALESCE(a.is_deleted, FALSE);

CREATE TEMP VIEW _out_opportunities AS
SELECT
  o.source || ':' || o.crm_id AS opportunity_id, o.source, o.crm_id, CASE WHEN o.account_crm_id IS NOT NULL THEN o.source || ':' || o.account_crm_id END AS account_id,
  COALESCE(i.rep_id, ie.rep_id) AS owner_rep_id, o.name, o.stage, sm.category AS stage_category,
  COALESCE(o.is_closed, sm.category IN ('closed_won', 'closed_lost')) AS is_closed,
  COALESCE(o.is_won, sm.category = 'closed_won') AS is_won,
  o.amount, COALESCE(o.currency, s.home) AS currency,
  COALESCE(o.amount_home * hx.to_rc, o.amount * fx.to_rc) AS amount_rc,
  o.recurring_amount * COALESCE(
    CASE WHEN o.amount_home IS NOT NULL AND o.amount <> 0 THEN o.amount_home * hx.to_rc / o.amount END, fx.to_rc
  ) AS recurring_amount_rc,
  o.deal_type, o.created_at, o.close_date, COALESCE(o.is_deleted, FALSE) AS is_deleted, o.updated_at,
  ml.mirror_of, o.owner_assigned_at, NULLIF(TRIM(o.loss_reason), '') AS loss_reason,
  NULLIF(TRIM(o.won_reason), '') AS won_reason, NULLIF(TRIM(o.lead_source), '') AS lead_source,
  COALESCE(o.owner_crm_id, o.owner_email) AS owner_given
FROM _in_opportunities AS o
JOIN _sources AS s ON s.source = o.source
LEFT JOIN _mirror_opportunities AS ml ON ml.source = o.source AND ml.crm_id = o.crm_id
LEFT JOIN _identities AS i ON i.source = o.source AND i.crm_id = o.owner_crm_id
LEFT JOIN _email_reps AS ie ON ie.email_key = LOWER(TRIM(o.owner_email))
LEFT JOIN _stage_map AS sm ON sm.source = o.source AND sm.stage = o.stage
LEFT JOIN _fx AS fx ON fx.source = o.source AND fx.currency = COALESCE(o.currency, s.home)
LEFT JOIN _fx AS hx ON hx.source = o.source AND hx.currency = s.home;

CREATE TEMP VIEW _out_stage_events AS
SELECT opportunity_id, stage, stage_category, entered_at FROM (
  SELECT e.source || ':' || e.opportunity_crm_id AS opportunity_id, e.stage, sm.category AS stage_category,
    e.entered_at,
    LAG(e.stage) OVER (PARTITION BY e.source, e.opportunity_crm_id ORDER BY e.entered_at) AS previous_stage
  FROM _in_stage_events AS e
  JOIN _in_opportunities AS o ON o.source = e.source AND o.crm_id = e.opportunity_crm_id
    AND NOT COALESCE(o.is_deleted, FALSE)
  LEFT JOIN _stage_map AS sm ON sm.source = e.source AND sm.stage = e.stage
  WHERE NOT COALESCE(e.is_deleted, FALSE)
) AS x
WHERE previous_stage IS NULL OR previous_stage <> stage;

CREATE TEMP VIEW _out_leads AS
SELECT l.source || ':' || l.crm_id AS lead_id, l.source, i.rep_id AS owner_rep_id, l.created_at, l.status,
  COALESCE(l.is_converted, l.converted_at IS NOT NULL) AS is_converted, l.converted_at, ml.mirror_of
FROM _in_leads AS l
LEFT JOIN _mirror_leads AS ml ON ml.source = l.source AND ml.crm_id = l.crm_id
LEFT JOIN _identities AS i ON i.source = l.source AND i.crm_id = l.owner_crm_id
WHERE NOT COALESCE(l.is_deleted, FALSE);

CREATE TEMP VIEW _out_activities AS
SELECT a.source || ':' || a.crm_id AS activity_id, a.source, i.rep_id AS owner_rep_id, a.kind, a.occurred_at,
  a.is_completed, CASE WHEN a.account_crm_id IS NOT NULL THEN a.source || ':' || a.account_crm_id END AS account_id, CASE WHEN a.opportunity_crm_id IS NOT NULL THEN a.source || ':' || a.opportunity_crm_id END AS opportunity_id,
  CASE WHEN a.lead_crm_id IS NOT NULL THEN a.source || ':' || a.lead_crm_id END AS lead_id, a.owner_crm_id
FROM _in_activities AS a
LEFT JOIN _identities AS i ON i.source = a.source AND i.crm_id = a.owner_crm_id
WHERE NOT COALESCE(a.is_deleted, FALSE);

CREATE TEMP VIEW _out_feedback AS
SELECT f.source || ':' || f.crm_id AS feedback_id, f.source, f.kind, f.score, f.comment, f.submitted_at,
  CASE WHEN f.account_crm_id IS NOT NULL THEN f.source || ':' || f.account_crm_id END AS account_id, COALESCE(i.rep_id, ie.rep_id) AS rep_id,
  NULLIF(TRIM(f.topic), '') AS topic
FROM _in_feedback AS f
LEFT JOIN _identities AS i ON i.source = f.source AND i.crm_id = f.rep_crm_id
LEFT JOIN _email_reps AS ie ON ie.email_key = LOWER(TRIM(f.rep_email))
WHERE NOT COALESCE(f.is_deleted, FALSE);

CREATE TEMP VIEW _out_quotas AS
WITH rows AS (
  SELECT
    COALESCE(ic.rep_id, iu.rep_id, ie.rep_id, COALESCE((SELECT MIN(c.canonical_id) FROM _team_canon AS c WHERE c.team_id = CASE WHEN q.owner_team_crm_id IS NOT NULL THEN q.source || ':' || q.owner_team_crm_id END), CASE WHEN q.owner_team_crm_id IS NOT NULL THEN q.source || ':' || q.owner_team_crm_id END)) AS owner,
    q.source, q.period_start, q.period_end, COALESCE(q.measure, 'revenue') AS measure, COALESCE(q.currency, s.home) AS currency, CASE WHEN COALESCE(q.measure, 'revenue') <> 'revenue' THEN q.amount ELSE COALESCE(q.amount_home * hx.to_rc, q.amount * fx.to_rc) END AS amount_rc, q.amount AS given,
    COALESCE(q.owner_crm_id, q.owner_user_id, q.owner_email, q.owner_team_crm_id) AS owner_given, q.origin
  FROM _in_quotas AS q
  JOIN _sources AS s ON s.source = q.source
  LEFT JOIN _identities AS ic ON ic.source = q.source AND ic.crm_id = q.owner_crm_id
  LEFT JOIN _identities AS iu ON iu.source = q.source AND iu.crm_user_id = q.owner_user_id
  LEFT JOIN _email_reps AS ie ON ie.email_key = LOWER(TRIM(q.owner_email))
  LEFT JOIN _fx AS fx ON fx.source = q.source AND fx.currency = COALESCE(q.currency, s.home)
  LEFT JOIN _fx AS hx ON hx.source = q.source AND hx.currency = s.home
  WHERE NOT COALESCE(q.is_deleted, FALSE)
), judged AS (
  SELECT *, CASE
      WHEN owner IS NULL THEN 'unknown_owner'
      WHEN given IN (CAST('Infinity' AS DOUBLE), CAST('-Infinity' AS DOUBLE), CAST('NaN' AS DOUBLE)) THEN 'not_finite'
      WHEN given < 0 THEN 'negative'
      WHEN amount_rc IS NULL THEN 'no_rate'
    END AS rule
  FROM rows
), compared AS (
  SELECT *,
    MIN(CASE WHEN rule IS NULL THEN amount_rc END) OVER (PARTITION BY owner, period_start, period_end, measure) AS lowest,
    MAX(CASE WHEN rule IS NULL THEN amount_rc END) OVER (PARTITION BY owner, period_start, period_end, measure) AS highest,
    ROW_NUMBER() OVER (PARTITION BY owner, period_start, period_end, measure, amount_rc ORDER BY source, origin) AS copy_no
  FROM judged
)
SELECT *,
  COALESCE(rule, CASE WHEN lowest <> highest THEN 'conflicting_duplicate' END) AS rejected_check,
  CASE COALESCE(rule, CASE WHEN lowest <> highest THEN 'conflict' END)
    WHEN 'unknown_owner' THEN 'owner' WHEN 'no_rate' THEN 'currency' ELSE 'amount' END AS rejected_column,
  CASE WHEN rule = 'unknown_owner' THEN owner_given WHEN rule = 'no_rate' THEN currency
    ELSE CAST(given AS VARCHAR) END AS rejected_value
FROM compared;

CREATE TEMP VIEW _out_activity_targets AS
WITH rows AS (
  SELECT
    COALESCE(ic.rep_id, iu.rep_id, ie.rep_id, COALESCE((SELECT MIN(c.canonical_id) FROM _team_canon AS c WHERE c.team_id = CASE WHEN q.owner_team_crm_id IS NOT NULL THEN q.source || ':' || q.owner_team_crm_id END), CASE WHEN q.owner_team_crm_id IS NOT NULL THEN q.source || ':' || q.owner_team_crm_id END)) AS owner,
    q.source, q.period_start, q.period_end, q.kind, CAST(NULL AS VARCHAR) AS currency, q.target AS target, q.target AS given,
    COALESCE(q.owner_crm_id, q.owner_user_id, q.owner_email, q.owner_team_crm_id) AS owner_given, q.origin
  FROM _in_activity_targets AS q
  JOIN _sources AS s ON s.source = q.source
  LEFT JOIN _identities AS ic ON ic.source = q.source AND ic.crm_id = q.owner_crm_id
  LEFT JOIN _identities AS iu ON iu.source = q.source AND iu.crm_user_id = q.owner_user_id
  LEFT JOIN _email_reps AS ie ON ie.email_key = LOWER(TRIM(q.owner_email))
), judged AS (
  SELECT *, CASE
      WHEN owner IS NULL THEN 'unknown_owner'
      WHEN given IN (CAST('Infinity' AS DOUBLE), CAST('-Infinity' AS DOUBLE), CAST('NaN' AS DOUBLE)) THEN 'not_finite'
      WHEN given < 0 THEN 'negative'
      WHEN target IS NULL THEN 'no_rate'
    END AS rule
  FROM rows
), compared AS (
  SELECT *,
    MIN(CASE WHEN rule IS NULL THEN target END) OVER (PARTITION BY owner, period_start, period_end, kind) AS lowest,
    MAX(CASE WHEN rule IS NULL THEN target END) OVER (PARTITION BY owner, period_start, period_end, kind) AS highest,
    ROW_NUMBER() OVER (PARTITION BY owner, period_start, period_end, kind, target ORDER BY source, origin) AS copy_no
  FROM judged
)
SELECT *,
  COALESCE(rule, CASE WHEN lowest <> highest THEN 'conflicting_duplicate' END) AS rejected_check,
  CASE COALESCE(rule, CASE WHEN lowest <> highest THEN 'conflict' END)
    WHEN 'unknown_owner' THEN 'owner' WHEN 'no_rate' THEN 'currency' ELSE 'target' END AS rejected_column,
  CASE WHEN rule = 'unknown_owner' THEN owner_given WHEN rule = 'no_rate' THEN currency
    ELSE CAST(given AS VARCHAR) END AS rejected_value
FROM compared;

CREATE TEMP VIEW _out_currency_rates AS
SELECT DISTINCT source, currency, rate FROM _in_currency_rates;

CREATE TEMP VIEW _out_fiscal_periods_imported AS
WITH rows AS (
  SELECT * FROM _in_fiscal_periods WHERE NOT COALESCE(is_deleted, FALSE) AND period_end > period_start
), years AS (
  SELECT source, period_start, period_end,
    COALESCE(fiscal_year, CAST(EXTRACT(YEAR FROM period_end - INTERVAL 1 DAY) AS INTEGER)) AS fiscal_year
  FROM rows WHERE grain = 'year'
), placed AS (
  SELECT r.source, r.crm_id, r.grain, r.period_start, r.period_end, r.number,
    COALESCE(r.fiscal_year, MIN(y.fiscal_year)) AS fiscal_year
  FROM rows AS r
  LEFT JOIN years AS y ON y.source = r.source AND y.period_start <= r.period_start AND r.period_end <= y.period_end
  GROUP BY r.source, r.crm_id, r.grain, r.period_start, r.period_end, r.number, r.fiscal_year
), named AS (
  SELECT source, crm_id, grain, period_start, period_end, fiscal_year,
    CASE grain
      WHEN 'month' THEN STRFTIME(period_start, '%Y-%m')
      WHEN 'year' THEN 'FY' || CAST(fiscal_year AS VARCHAR)
      ELSE 'FY' || CAST(fiscal_year AS VARCHAR) || '-Q' || CAST(COALESCE(number, ROW_NUMBER() OVER (
        PARTITION BY source, grain, fiscal_year ORDER BY period_start)) AS VARCHAR)
    END AS period
  FROM placed
)
SELECT CASE WHEN fiscal_year IS NOT NULL THEN period END AS period, source, crm_id, grain, period_start,
  period_end, fiscal_year
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY source, period ORDER BY period_start, crm_id) AS rn FROM named
) AS d
WHERE rn = 1 OR fiscal_year IS NULL;

CREATE TEMP VIEW _out_owner_changes AS
SELECT c.source || ':' || c.opportunity_crm_id AS opportunity_id, c.source, io.rep_id AS old_owner_rep_id,
  inew.rep_id AS new_owner_rep_id, c.changed_at
FROM _in_owner_changes AS c
LEFT JOIN _identities AS io ON io.source = c.source AND io.crm_id = c.old_owner_crm_id
LEFT JOIN _identities AS inew ON inew.source = c.source AND inew.crm_id = c.new_owner_crm_id
WHERE NOT COALESCE(c.is_deleted, FALSE);

CREATE TEMP VIEW _out_opportunity_splits AS
SELECT COALESCE(CASE WHEN s.crm_id IS NOT NULL THEN s.source || ':' || s.crm_id END, s.source || ':' || s.opportunity_crm_id || '/' || s.owner_crm_id) AS split_id,
  s.source, s.source || ':' || s.opportunity_crm_id AS opportunity_id, i.rep_id AS owner_rep_id, s.percentage,
  COALESCE(s.split_type, 'Revenue') AS split_type, s.updated_at
FROM _in_opportunity_splits AS s
LEFT JOIN _identities AS i ON i.source = s.source AND i.crm_id = s.owner_crm_id
WHERE NOT COALESCE(s.is_deleted, FALSE);

CREATE TEMP VIEW _out_rep_team_history AS
WITH dated AS (
  SELECT DISTINCT e.rep_id, COALESCE((SELECT MIN(c.canonical_id) FROM _team_canon AS c WHERE c.team_id = m.source || ':' || m.team_crm_id), m.source || ':' || m.team_crm_id) AS team_id, m.valid_from, m.valid_to
  FROM _in_team_members AS m JOIN _email_reps AS e ON e.email_key = LOWER(TRIM(m.email))
  WHERE m.valid_from IS NOT NULL OR m.valid_to IS NOT NULL
)
SELECT rep_id, team_id, valid_from, valid_to, 'file' AS origin FROM dated
UNION ALL
SELECT o.rep_id, COALESCE((SELECT MIN(c.canonical_id) FROM _team_canon AS c WHERE c.team_id = o.team_id), o.team_id), o.valid_from, o.valid_to, 'observed'
FROM spm_state.team_observations AS o
WHERE o.rep_id IN (SELECT rep_id FROM _out_reps) AND o.rep_id NOT IN (SELECT rep_id FROM dated);

UPDATE spm_state.team_observations SET valid_to = CAST('2026-03-15' AS DATE)
WHERE valid_to IS NULL AND rep_id IN (SELECT rep_id FROM _out_reps) AND NOT EXISTS (
  SELECT 1 FROM _out_reps AS r WHERE r.rep_id = team_observations.rep_id AND r.team_id = team_observations.team_id
);

INSERT INTO spm_state.team_observations (rep_id, team_id, valid_from, valid_to)
SELECT r.rep_id, r.team_id,
  CASE WHEN EXISTS (SELECT 1 FROM spm_state.team_observations AS o WHERE o.rep_id = r.rep_id) THEN CAST('2026-03-15' AS DATE) END,
  CAST(NULL AS DATE)
FROM _out_reps AS r
WHERE r.team_id IS NOT NULL AND NOT EXISTS (
  SELECT 1 FROM spm_state.team_observations AS o WHERE o.rep_id = r.rep_id AND o.valid_to IS NULL
);

DELETE FROM spm_state.team_observations WHERE valid_from = valid_to;

INSERT INTO spm_state.quality (run_id, source, check_name, object, record_id, detail, found_at)
SELECT 'RUN', q.source, 'unknown_owner', 'opportunity', q.record_id, q.detail, ?
FROM (
SELECT source, opportunity_id, CASE WHEN owner_given IS NULL THEN 'no owner'
  ELSE 'owner ' || owner_given || ' is not a known user' END
FROM _out_opportunities WHERE owner_rep_id IS NULL AND NOT is_deleted
) AS q(source, record_id, detail);

INSERT INTO spm_state.quality (run_id, source, check_name, object, record_id, detail, found_at)
SELECT 'RUN', q.source, 'unknown_stage', 'opportunity', q.record_id, q.detail, ?
FROM (
SELECT source, opportunity_id, 'stage ' || COALESCE('''' || stage || '''', 'NULL')
  || ' is not in the mapping''s stages'
FROM _out_opportunities WHERE stage_category IS NULL AND NOT is_deleted
) AS q(source, record_id, detail);

INSERT INTO spm_state.quality (run_id, source, check_name, object, record_id, detail, found_at)
SELECT 'RUN', q.source, 'no_rate', 'opportunity', q.record_id, q.detail, ?
FROM (
SELECT source, opportunity_id,
  'no rate from ' || COALESCE(currency, 'unknown') || ' to ' || 'USD'
FROM _out_opportunities WHERE amount IS NOT NULL AND amount_rc IS NULL AND NOT is_deleted
) AS q(source, record_id, detail);

INSERT INTO spm_state.quality (run_id, source, check_name, object, record_id, detail, found_at)
SELECT 'RUN', q.source, 'no_owner', 'activity', q.record_id, q.detail, ?
FROM (
SELECT source, activity_id, CASE WHEN owner_crm_id IS NULL THEN 'no owner'
  ELSE 'owner ' || owner_crm_id || ' is not a known user' END
FROM _out_activities WHERE owner_rep_id IS NULL
) AS q(source, record_id, detail);

INSERT INTO spm_state.quality (run_id, source, check_name, object, record_id, detail, found_at)
SELECT 'RUN', q.source, 'no_fiscal_year', 'fiscal_period', q.record_id, q.detail, ?
FROM (
SELECT source, crm_id, grain || ' period from ' || CAST(period_start AS VARCHAR)
  || ' lies in no year period of its source'
FROM _out_fiscal_periods_imported WHERE period IS NULL
) AS q(source, record_id, detail);

INSERT INTO spm_state.quality (run_id, source, check_name, object, record_id, detail, found_at)
SELECT 'RUN', q.source, 'owner_history_missing', 'opportunity', q.record_id, q.detail, ?
FROM (
SELECT source, source, 'no owner history in this source: ' || CAST(count(*) AS VARCHAR)
  || ' closed opportunity(ies) credited to the current owner, not the owner at close'
FROM spm.opportunity_credits WHERE rule = 'owner_fallback_current' GROUP BY source
) AS q(source, record_id, detail);

INSERT INTO spm_state.quality (run_id, source, check_name, object, record_id, detail, found_at)
SELECT 'RUN', q.source, 'split_total', 'opportunity', q.record_id, q.detail, ?
FROM (
SELECT s.source, s.opportunity_id,
  'revenue splits total ' || CAST(round(CAST(sum(s.percentage) AS DECIMAL(38, 9)), 2) AS VARCHAR) || ' %, not 100 %: shares scaled to 100 %'
FROM spm.opportunity_splits AS s
WHERE s.split_type IN ('Revenue') AND s.percentage > 0
  AND s.opportunity_id IN (SELECT opportunity_id FROM spm.opportunity_credits WHERE rule LIKE 'split:%')
GROUP BY s.source, s.opportunity_id HAVING abs(sum(s.percentage) - 100) > 0.01
) AS q(source, record_id, detail);

INSERT INTO spm_state.quality (run_id, source, check_name, object, record_id, detail, found_at)
SELECT 'RUN', q.source, 'probable_duplicate', 'opportunity', q.record_id, q.detail, ?
FROM (
WITH keyed AS (
  SELECT o.source, o.opportunity_id, lower(trim(a.name)) AS account_key, round(CAST(o.amount_rc AS DECIMAL(38, 9)), 2) AS amount_key, o.close_date, o.owner_rep_id
  FROM spm.opportunities AS o JOIN spm.accounts AS a ON a.account_id = o.account_id
  WHERE NOT o.is_deleted AND o.mirror_of IS NULL AND a.name IS NOT NULL AND o.amount_rc IS NOT NULL
    AND o.close_date IS NOT NULL AND o.owner_rep_id IS NOT NULL
), same AS (
  SELECT account_key, amount_key, close_date, owner_rep_id, count(*) AS n FROM keyed
  GROUP BY account_key, amount_key, close_date, owner_rep_id HAVING count(DISTINCT source) > 1
)
SELECT k.source, k.opportunity_id, 'probably the same deal as ' || CAST(s.n - 1 AS VARCHAR)
  || ' other opportunity(ies) in other sources (same account name, amount, close date and owner); '
  || 'link them (mirror_of_crm_id, e.g. hs_salesforceopportunityid) to count it once'
FROM keyed AS k JOIN same AS s ON s.account_key = k.account_key AND s.amount_key = k.amount_key
  AND s.close_date = k.close_date AND s.owner_rep_id = k.owner_rep_id
) AS q(source, record_id, detail);
