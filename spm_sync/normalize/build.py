"""The build step: mapping output (`_in_<target>` views) -> final rows (`_out_<table>` views), as SQL text.

Why one place for this: whatever CRM a row came from, ids are prefixed the same way, owners resolve
through one identity table (a person in two CRMs is one rep), money converts with one rate table and
quality is judged by one set of rules. Pure functions returning SQL; run.py executes them.
"""

from __future__ import annotations

from datetime import date

from spm_sync.normalize.helpers import sql_literal
from spm_sync.normalize.targets import TARGETS

# spm.<table> columns in layout order; the swap copies exactly these from _out_<table>.
OUTPUT_COLUMNS: dict[str, tuple[str, ...]] = {
    "reps": ("rep_id", "source", "crm_id", "name", "email", "team_id", "manager_rep_id", "is_active"),
    "rep_identities": ("rep_id", "source", "crm_id", "crm_user_id", "email"),
    "teams": ("team_id", "name", "parent_team_id"),
    "accounts": ("account_id", "source", "crm_id", "name", "owner_rep_id", "created_at", "mirror_of"),
    "opportunities": (
        "opportunity_id", "source", "crm_id", "account_id", "owner_rep_id", "name", "stage", "stage_category",
        "is_closed", "is_won", "amount", "currency", "amount_rc", "recurring_amount_rc", "deal_type",
        "created_at", "close_date", "is_deleted", "updated_at", "mirror_of", "owner_assigned_at",
        "loss_reason", "won_reason", "lead_source",
    ),
    "stage_events": ("opportunity_id", "stage", "stage_category", "entered_at"),
    "leads": ("lead_id", "source", "owner_rep_id", "created_at", "status", "is_converted", "converted_at", "mirror_of"),
    "activities": (
        "activity_id", "source", "owner_rep_id", "kind", "occurred_at", "is_completed", "account_id",
        "opportunity_id", "lead_id",
    ),
    "feedback": (
        "feedback_id", "source", "kind", "score", "comment", "submitted_at", "account_id", "rep_id", "topic",
    ),
    "quotas": ("owner", "source", "period_start", "period_end", "measure", "amount_rc"),
    "activity_targets": ("owner", "source", "period_start", "period_end", "kind", "target"),
    "rejected_inputs": (
        "source", "input", "origin", "column_name", "value", "check_name", "reason", "owner", "period_start",
        "period_end",
    ),
    "currency_rates": ("source", "currency", "rate"),
    "fiscal_periods_imported": ("period", "source", "crm_id", "grain", "period_start", "period_end", "fiscal_year"),
    "owner_changes": ("opportunity_id", "source", "old_owner_rep_id", "new_owner_rep_id", "changed_at"),
    "opportunity_splits": (
        "split_id", "source", "opportunity_id", "owner_rep_id", "percentage", "split_type", "updated_at",
    ),
    "rep_team_history": ("rep_id", "team_id", "valid_from", "valid_to", "origin"),
}


def _id(alias: str, column: str) -> str:
    """`<source>:<crm id>`, NULL when the CRM id is NULL."""
    return f"CASE WHEN {alias}.{column} IS NOT NULL THEN {alias}.source || ':' || {alias}.{column} END"


def input_view(target: str, selects: list[str]) -> str:
    """`_in_<target>`: the mapping parts of every source stacked; a view, so raw rows stream through once."""
    if not selects:
        columns = ", ".join(
            f"CAST(NULL AS {sql_type}) AS {name}" for name, sql_type in TARGETS[target].columns.items()
        )
        selects = [f"SELECT CAST(NULL AS VARCHAR) AS source, CAST(NULL AS INTEGER) AS src_order, {columns} WHERE FALSE"]
    return f"CREATE TEMP VIEW _in_{target} AS\n" + "\nUNION ALL\n".join(selects)


CREATE_SOURCES = "CREATE TEMP TABLE _sources (source VARCHAR, src_order INTEGER, source_type VARCHAR, home VARCHAR)"
CREATE_STAGE_MAP = "CREATE TEMP TABLE _stage_map (source VARCHAR, stage VARCHAR, category VARCHAR)"


def home_currencies() -> str:
    """A source's home currency: its corporate currency when it has a rate table, else the declared one."""
    return """UPDATE _sources SET home = COALESCE((
  SELECT MIN(r.currency) FROM _in_currency_rates AS r WHERE r.source = _sources.source AND r.is_corporate
), home)"""


def fx(reporting: str) -> str:
    """Per source and currency, the factor to the reporting currency (own rates first, else the first
    source in config order that knows both currencies)."""
    rc = sql_literal(reporting)
    return f"""CREATE TEMP TABLE _fx AS
WITH rates AS (
  SELECT source, src_order, currency, rate FROM _in_currency_rates WHERE rate > 0
), pair AS (
  SELECT c.source, c.src_order, c.currency, rc.rate / c.rate AS to_rc
  FROM rates AS c JOIN rates AS rc ON rc.source = c.source AND rc.currency = {rc}
), best AS (
  SELECT currency, to_rc, ROW_NUMBER() OVER (PARTITION BY currency ORDER BY src_order) AS rn FROM pair
), currencies AS (
  SELECT currency FROM rates UNION SELECT home FROM _sources UNION SELECT {rc}
)
SELECT s.source, c.currency,
  CASE WHEN c.currency = {rc} THEN 1.0 ELSE COALESCE(own.to_rc, b.to_rc) END AS to_rc
FROM _sources AS s
CROSS JOIN currencies AS c
LEFT JOIN pair AS own ON own.source = s.source AND own.currency = c.currency
LEFT JOIN best AS b ON b.currency = c.currency AND b.rn = 1"""


IDENTITIES = """CREATE TEMP TABLE _identities AS
SELECT
  CASE WHEN email_key IS NULL THEN source || ':' || crm_id
       ELSE FIRST_VALUE(source || ':' || crm_id) OVER (PARTITION BY email_key ORDER BY src_order, crm_id) END AS rep_id,
  source, src_order, crm_id, crm_user_id, email, email_key
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY source, crm_id ORDER BY src_order) AS rn,
    NULLIF(LOWER(TRIM(email)), '') AS email_key
  FROM _in_reps
) AS r
WHERE rn = 1"""

# A person named by email (files exports, quotas) -> their rep.
EMAIL_REPS = """CREATE TEMP TABLE _email_reps AS
SELECT DISTINCT email_key, rep_id FROM _identities WHERE email_key IS NOT NULL"""


def team_canon(aliases: dict[str, str]) -> str:
    """`_team_canon`: every team id -> the id of its unified team.

    Teams of several CRMs with one normalized name (or named as one by `crediting.teams`) are one
    team, whose id is that of the first source in config order.
    """
    key = "LOWER(TRIM(COALESCE(t.name, t.crm_id)))"
    if aliases:
        whens = " ".join(
            f"WHEN {sql_literal(alias.strip().lower())} THEN {sql_literal(name.strip().lower())}"
            for alias, name in aliases.items()
        )
        key = f"CASE {key} {whens} ELSE {key} END"
    return f"""CREATE TEMP TABLE _team_canon AS
WITH named AS (
  SELECT DISTINCT t.source || ':' || t.crm_id AS team_id, t.src_order, COALESCE(t.name, t.crm_id) AS name,
    {_id("t", "parent_crm_id")} AS parent_id, {key} AS name_key
  FROM _in_teams AS t WHERE t.crm_id IS NOT NULL
)
SELECT team_id, src_order, name, parent_id,
  FIRST_VALUE(team_id) OVER (PARTITION BY name_key ORDER BY src_order, team_id) AS canonical_id
FROM named"""


def _team(team_id: str) -> str:
    """A team id as its unified team's id (ids no team row names stay as they are)."""
    return f"COALESCE((SELECT MIN(c.canonical_id) FROM _team_canon AS c WHERE c.team_id = {team_id}), {team_id})"


def valid_on(day: str, alias: str = "") -> str:
    """An interval [valid_from, valid_to) with open ends contains `day`."""
    a = f"{alias}." if alias else ""
    return f"({a}valid_from IS NULL OR {a}valid_from <= {day}) AND ({a}valid_to IS NULL OR {day} < {a}valid_to)"


def date_literal(day: date) -> str:
    return f"CAST({sql_literal(day.isoformat())} AS DATE)"


def team_override(as_of: date) -> str:
    """Membership given explicitly (files `teams`) wins over the CRM's own team: the row valid on
    `as_of` (undated rows are current), first source in order."""
    team = _team("t.source || ':' || t.team_crm_id")
    return f"""CREATE TEMP TABLE _team_override AS
SELECT email_key, team_id FROM (
  SELECT NULLIF(LOWER(TRIM(t.email)), '') AS email_key, {team} AS team_id,
    ROW_NUMBER() OVER (PARTITION BY LOWER(TRIM(t.email)) ORDER BY t.src_order, t.valid_from DESC) AS rn
  FROM _in_team_members AS t WHERE {valid_on(date_literal(as_of), "t")}
) AS m
WHERE rn = 1 AND email_key IS NOT NULL"""

# Per rep, the first non-null team / manager across its identities (config order).
REPS = f"""CREATE TEMP VIEW _out_reps AS
WITH rows AS (
  SELECT i.rep_id, i.src_order, i.email_key, r.source, r.crm_id, r.name, r.email, r.is_active,
    CASE WHEN r.team_crm_id IS NOT NULL THEN {_team("r.source || ':' || r.team_crm_id")} END AS team_id,
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
WHERE p.rep_id = p.source || ':' || p.crm_id"""

REP_IDENTITIES = """CREATE TEMP VIEW _out_rep_identities AS
SELECT rep_id, source, crm_id, crm_user_id, email FROM _identities"""

# A unified team: its first source's row, and the first parent any of its rows names (unified too).
TEAMS = f"""CREATE TEMP VIEW _out_teams AS
WITH own AS (
  SELECT canonical_id, name, ROW_NUMBER() OVER (PARTITION BY canonical_id ORDER BY src_order, team_id, name) AS rn
  FROM _team_canon
), parents AS (
  SELECT t.canonical_id, {_team("t.parent_id")} AS parent_id,
    ROW_NUMBER() OVER (PARTITION BY t.canonical_id ORDER BY t.src_order, t.team_id, t.parent_id) AS rn
  FROM _team_canon AS t WHERE t.parent_id IS NOT NULL
)
SELECT o.canonical_id AS team_id, o.name,
  CASE WHEN p.parent_id <> o.canonical_id THEN p.parent_id END AS parent_team_id
FROM own AS o LEFT JOIN parents AS p ON p.canonical_id = o.canonical_id AND p.rn = 1
WHERE o.rn = 1"""

ACCOUNTS = """CREATE TEMP VIEW _out_accounts AS
SELECT a.source || ':' || a.crm_id AS account_id, a.source, a.crm_id, a.name,
  COALESCE(i.rep_id, ie.rep_id) AS owner_rep_id, a.created_at, ml.mirror_of
FROM _in_accounts AS a
LEFT JOIN _mirror_accounts AS ml ON ml.source = a.source AND ml.crm_id = a.crm_id
LEFT JOIN _identities AS i ON i.source = a.source AND i.crm_id = a.owner_crm_id
LEFT JOIN _email_reps AS ie ON ie.email_key = LOWER(TRIM(a.owner_email))
WHERE NOT COALESCE(a.is_deleted, FALSE)"""

OPPORTUNITIES = f"""CREATE TEMP VIEW _out_opportunities AS
SELECT
  o.source || ':' || o.crm_id AS opportunity_id, o.source, o.crm_id, {_id("o", "account_crm_id")} AS account_id,
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
LEFT JOIN _fx AS hx ON hx.source = o.source AND hx.currency = s.home"""

# An entry is a change of stage: OpportunityHistory also records amount and date edits.
STAGE_EVENTS = """CREATE TEMP VIEW _out_stage_events AS
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
WHERE previous_stage IS NULL OR previous_stage <> stage"""

LEADS = """CREATE TEMP VIEW _out_leads AS
SELECT l.source || ':' || l.crm_id AS lead_id, l.source, i.rep_id AS owner_rep_id, l.created_at, l.status,
  COALESCE(l.is_converted, l.converted_at IS NOT NULL) AS is_converted, l.converted_at, ml.mirror_of
FROM _in_leads AS l
LEFT JOIN _mirror_leads AS ml ON ml.source = l.source AND ml.crm_id = l.crm_id
LEFT JOIN _identities AS i ON i.source = l.source AND i.crm_id = l.owner_crm_id
WHERE NOT COALESCE(l.is_deleted, FALSE)"""

ACTIVITIES = f"""CREATE TEMP VIEW _out_activities AS
SELECT a.source || ':' || a.crm_id AS activity_id, a.source, i.rep_id AS owner_rep_id, a.kind, a.occurred_at,
  a.is_completed, {_id("a", "account_crm_id")} AS account_id, {_id("a", "opportunity_crm_id")} AS opportunity_id,
  {_id("a", "lead_crm_id")} AS lead_id, a.owner_crm_id
FROM _in_activities AS a
LEFT JOIN _identities AS i ON i.source = a.source AND i.crm_id = a.owner_crm_id
WHERE NOT COALESCE(a.is_deleted, FALSE)"""

FEEDBACK = f"""CREATE TEMP VIEW _out_feedback AS
SELECT f.source || ':' || f.crm_id AS feedback_id, f.source, f.kind, f.score, f.comment, f.submitted_at,
  {_id("f", "account_crm_id")} AS account_id, COALESCE(i.rep_id, ie.rep_id) AS rep_id,
  NULLIF(TRIM(f.topic), '') AS topic
FROM _in_feedback AS f
LEFT JOIN _identities AS i ON i.source = f.source AND i.crm_id = f.rep_crm_id
LEFT JOIN _email_reps AS ie ON ie.email_key = LOWER(TRIM(f.rep_email))
WHERE NOT COALESCE(f.is_deleted, FALSE)"""


def _owned(target: str, value: str, raw_value: str, value_name: str, extra: str, same: str, joins: str = "") -> str:
    """Quotas and activity targets: owner = a rep (by CRM id, CRM user id or email) or a team, and the
    row rules: a row without a known owner, with a non-finite or negative value, or (money) without a
    rate to the reporting currency is rejected (`rejected_check`, `rejected_column`, `rejected_value`);
    exact copies are one row (`copy_no` > 1 are dropped), and rows of one owner x period x `same` that
    disagree are all rejected: which one is right is not ours to guess, and summing them is wrong."""
    nonfinite = ", ".join(f"CAST('{v}' AS DOUBLE)" for v in ("Infinity", "-Infinity", "NaN"))
    partition = f"owner, period_start, period_end, {same}"
    return f"""CREATE TEMP VIEW _out_{target} AS
WITH rows AS (
  SELECT
    COALESCE(ic.rep_id, iu.rep_id, ie.rep_id, {_team(_id("q", "owner_team_crm_id"))}) AS owner,
    q.source, q.period_start, q.period_end, {extra}, {value} AS {value_name}, q.{raw_value} AS given,
    COALESCE(q.owner_crm_id, q.owner_user_id, q.owner_email, q.owner_team_crm_id) AS owner_given, q.origin
  FROM _in_{target} AS q
  JOIN _sources AS s ON s.source = q.source
  LEFT JOIN _identities AS ic ON ic.source = q.source AND ic.crm_id = q.owner_crm_id
  LEFT JOIN _identities AS iu ON iu.source = q.source AND iu.crm_user_id = q.owner_user_id
  LEFT JOIN _email_reps AS ie ON ie.email_key = LOWER(TRIM(q.owner_email)){joins}
), judged AS (
  SELECT *, CASE
      WHEN owner IS NULL THEN 'unknown_owner'
      WHEN given IN ({nonfinite}) THEN 'not_finite'
      WHEN given < 0 THEN 'negative'
      WHEN {value_name} IS NULL THEN 'no_rate'
    END AS rule
  FROM rows
), compared AS (
  SELECT *,
    MIN(CASE WHEN rule IS NULL THEN {value_name} END) OVER (PARTITION BY {partition}) AS lowest,
    MAX(CASE WHEN rule IS NULL THEN {value_name} END) OVER (PARTITION BY {partition}) AS highest,
    ROW_NUMBER() OVER (PARTITION BY {partition}, {value_name} ORDER BY source, origin) AS copy_no
  FROM judged
)
SELECT *,
  COALESCE(rule, CASE WHEN lowest <> highest THEN 'conflicting_duplicate' END) AS rejected_check,
  CASE COALESCE(rule, CASE WHEN lowest <> highest THEN 'conflict' END)
    WHEN 'unknown_owner' THEN 'owner' WHEN 'no_rate' THEN 'currency' ELSE '{raw_value}' END AS rejected_column,
  CASE WHEN rule = 'unknown_owner' THEN owner_given WHEN rule = 'no_rate' THEN currency
    ELSE CAST(given AS VARCHAR) END AS rejected_value
FROM compared"""


QUOTAS = _owned(
    "quotas",
    "CASE WHEN COALESCE(q.measure, 'revenue') <> 'revenue' THEN q.amount "
    "ELSE COALESCE(q.amount_home * hx.to_rc, q.amount * fx.to_rc) END",
    "amount",
    "amount_rc",
    "COALESCE(q.measure, 'revenue') AS measure, COALESCE(q.currency, s.home) AS currency",
    "measure",
    """
  LEFT JOIN _fx AS fx ON fx.source = q.source AND fx.currency = COALESCE(q.currency, s.home)
  LEFT JOIN _fx AS hx ON hx.source = q.source AND hx.currency = s.home
  WHERE NOT COALESCE(q.is_deleted, FALSE)""",
)

ACTIVITY_TARGETS = _owned(
    "activity_targets", "q.target", "target", "target", "q.kind, CAST(NULL AS VARCHAR) AS currency", "kind"
)

# What a rejected row of each input is, in the quality report.
INPUT_OBJECTS = {
    "quotas": "quota", "activity_targets": "activity_target", "teams": "team", "team_members": "team_member",
    "accounts": "account", "opportunities": "opportunity",
}
_REASONS = {
    "unknown_owner": "not a known rep or team of any source",
    "not_finite": "not a finite number",
    "negative": "negative",
    "conflicting_duplicate": "another row gives a different value for the same owner and period",
}


def rejected_inputs(reporting: str) -> str:
    """Every refused input row, from the connectors (`_in_rejected_inputs`, owner resolved here) and from
    the row rules above, with where it is (`origin`), the cell, the rule and the owner x period it was for."""
    reasons = " ".join(f"WHEN {sql_literal(k)} THEN {sql_literal(v)}" for k, v in _REASONS.items())
    no_rate = sql_literal(f"unknown currency or no rate to {reporting}")
    judged = " UNION ALL ".join(
        f"""SELECT source, '{target}' AS input,
  COALESCE(origin, COALESCE(owner_given, 'unknown') || ' ' || CAST(period_start AS VARCHAR)) AS origin,
  rejected_column AS column_name, rejected_value AS value, rejected_check AS check_name,
  CASE rejected_check {reasons} ELSE {no_rate} END AS reason, owner, period_start, period_end
FROM _out_{target} WHERE rejected_check IS NOT NULL"""
        for target in ("quotas", "activity_targets")
    )
    return f"""CREATE TEMP VIEW _out_rejected_inputs AS
SELECT r.source, r.input, r.origin, r.column_name, r.value, r.check_name, COALESCE(r.reason, r.check_name) AS reason,
  COALESCE(ie.rep_id, {_team(_id("r", "owner_team_crm_id"))}) AS owner, r.period_start, r.period_end
FROM _in_rejected_inputs AS r
LEFT JOIN _email_reps AS ie ON ie.email_key = LOWER(TRIM(r.owner_email))
UNION ALL
{judged}"""


CURRENCY_RATES = """CREATE TEMP VIEW _out_currency_rates AS
SELECT DISTINCT source, currency, rate FROM _in_currency_rates"""

# Our period ids (`2026-03`, `FY2026-Q1`, `FY2026`) for the CRM's calendar rows. The fiscal year is
# the calendar year in which the containing year row ends (whatever the CRM calls it); a quarter's
# number is the CRM's, else its place in the year. A period id given twice keeps the first row.
FISCAL_PERIODS = """CREATE TEMP VIEW _out_fiscal_periods_imported AS
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
WHERE rn = 1 OR fiscal_year IS NULL"""

MIRRORED = ("accounts", "opportunities", "leads")


def mirror_links(target: str, system_of_record: str | None) -> str:
    """`_mirror_<target>`: (source, crm_id) of each mirrored copy -> the system of record's row id.

    A row's `mirror_of_crm_id` names the same record in another CRM; whichever side holds the link,
    the copy is the row outside the system of record. Without a system of record nothing is a copy.
    """
    if system_of_record is None:
        return (
            f"CREATE TEMP TABLE _mirror_{target} AS SELECT CAST(NULL AS VARCHAR) AS source, "
            "CAST(NULL AS VARCHAR) AS crm_id, CAST(NULL AS VARCHAR) AS mirror_of WHERE FALSE"
        )
    sor = sql_literal(system_of_record)
    return f"""CREATE TEMP TABLE _mirror_{target} AS
SELECT source, crm_id, MIN(original) AS mirror_of FROM (
  SELECT c.source, c.crm_id, o.source || ':' || o.crm_id AS original
  FROM _in_{target} AS c JOIN _in_{target} AS o ON o.crm_id = c.mirror_of_crm_id AND o.source = {sor}
  WHERE c.source <> {sor}
  UNION ALL
  SELECT o.source, o.crm_id, c.source || ':' || c.crm_id
  FROM _in_{target} AS c JOIN _in_{target} AS o ON o.crm_id = c.mirror_of_crm_id AND o.source <> {sor}
  WHERE c.source = {sor}
) AS m
GROUP BY source, crm_id"""


OWNER_CHANGES = """CREATE TEMP VIEW _out_owner_changes AS
SELECT c.source || ':' || c.opportunity_crm_id AS opportunity_id, c.source, io.rep_id AS old_owner_rep_id,
  inew.rep_id AS new_owner_rep_id, c.changed_at
FROM _in_owner_changes AS c
LEFT JOIN _identities AS io ON io.source = c.source AND io.crm_id = c.old_owner_crm_id
LEFT JOIN _identities AS inew ON inew.source = c.source AND inew.crm_id = c.new_owner_crm_id
WHERE NOT COALESCE(c.is_deleted, FALSE)"""

OPPORTUNITY_SPLITS = f"""CREATE TEMP VIEW _out_opportunity_splits AS
SELECT COALESCE({_id("s", "crm_id")}, s.source || ':' || s.opportunity_crm_id || '/' || s.owner_crm_id) AS split_id,
  s.source, s.source || ':' || s.opportunity_crm_id AS opportunity_id, i.rep_id AS owner_rep_id, s.percentage,
  COALESCE(s.split_type, 'Revenue') AS split_type, s.updated_at
FROM _in_opportunity_splits AS s
LEFT JOIN _identities AS i ON i.source = s.source AND i.crm_id = s.owner_crm_id
WHERE NOT COALESCE(s.is_deleted, FALSE)"""

# Dated membership rows (files `teams` with valid_from/valid_to) are a rep's whole history; other reps
# have the history observed between syncs (spm_state.team_observations, kept across rebuilds).
REP_TEAM_HISTORY = f"""CREATE TEMP VIEW _out_rep_team_history AS
WITH dated AS (
  SELECT DISTINCT e.rep_id, {_team("m.source || ':' || m.team_crm_id")} AS team_id, m.valid_from, m.valid_to
  FROM _in_team_members AS m JOIN _email_reps AS e ON e.email_key = LOWER(TRIM(m.email))
  WHERE m.valid_from IS NOT NULL OR m.valid_to IS NOT NULL
)
SELECT rep_id, team_id, valid_from, valid_to, 'file' AS origin FROM dated
UNION ALL
SELECT o.rep_id, {_team("o.team_id")}, o.valid_from, o.valid_to, 'observed'
FROM spm_state.team_observations AS o
WHERE o.rep_id IN (SELECT rep_id FROM _out_reps) AND o.rep_id NOT IN (SELECT rep_id FROM dated)"""


def observe_teams(as_of: date) -> tuple[str, ...]:
    """Record team changes seen since the last normalize: a rep whose team differs from its open
    observation has that one closed on `as_of` and a new one opened (a rep's first is open-ended)."""
    today = date_literal(as_of)
    return (
        f"""UPDATE spm_state.team_observations SET valid_to = {today}
WHERE valid_to IS NULL AND rep_id IN (SELECT rep_id FROM _out_reps) AND NOT EXISTS (
  SELECT 1 FROM _out_reps AS r WHERE r.rep_id = team_observations.rep_id AND r.team_id = team_observations.team_id
)""",
        f"""INSERT INTO spm_state.team_observations (rep_id, team_id, valid_from, valid_to)
SELECT r.rep_id, r.team_id,
  CASE WHEN EXISTS (SELECT 1 FROM spm_state.team_observations AS o WHERE o.rep_id = r.rep_id) THEN {today} END,
  CAST(NULL AS DATE)
FROM _out_reps AS r
WHERE r.team_id IS NOT NULL AND NOT EXISTS (
  SELECT 1 FROM spm_state.team_observations AS o WHERE o.rep_id = r.rep_id AND o.valid_to IS NULL
)""",
        "DELETE FROM spm_state.team_observations WHERE valid_from = valid_to",
    )


# Order matters: identities first, then everything that resolves through them.
BUILD_ORDER: tuple[tuple[str, str], ...] = (
    ("rep_identities", REP_IDENTITIES),
    ("reps", REPS),
    ("teams", TEAMS),
    ("accounts", ACCOUNTS),
    ("opportunities", OPPORTUNITIES),
    ("stage_events", STAGE_EVENTS),
    ("leads", LEADS),
    ("activities", ACTIVITIES),
    ("feedback", FEEDBACK),
    ("quotas", QUOTAS),
    ("activity_targets", ACTIVITY_TARGETS),
    ("currency_rates", CURRENCY_RATES),
    ("fiscal_periods_imported", FISCAL_PERIODS),
    ("owner_changes", OWNER_CHANGES),
    ("opportunity_splits", OPPORTUNITY_SPLITS),
    ("rep_team_history", REP_TEAM_HISTORY),
)


def swap(table: str, layout: list[tuple[str, str]], where: str = "", recreate: bool = False) -> tuple[str, str]:
    """Replace spm.<table> by _out_<table> (run inside one transaction).

    `layout` is the table's current (column, type) list, so a column added by a later migration
    survives (as NULL). `recreate` (DuckDB) drops and re-creates the table: writing a new table
    skips the per-row delete markers and costs about half of DELETE + INSERT at 5M rows.
    """
    if not recreate:
        columns = ", ".join(OUTPUT_COLUMNS[table])
        insert = f"INSERT INTO spm.{table} ({columns}) SELECT {columns} FROM _out_{table}{where}"
        return (f"DELETE FROM spm.{table}", insert)
    ours = set(OUTPUT_COLUMNS[table])
    select = ", ".join(
        f"CAST({name if name in ours else 'NULL'} AS {sql_type}) AS {name}" for name, sql_type in layout
    )
    return (f"DROP TABLE spm.{table}", f"CREATE TABLE spm.{table} AS SELECT {select} FROM _out_{table}{where}")
