"""Data-quality checks over the built rows: what would otherwise be lost silently is counted and listed.

Each check is one SELECT over `_out_<table>` yielding (source, record_id, detail); run.py inserts the
rows into `spm_state.quality` in the same transaction as the swap.
"""

from __future__ import annotations

from dataclasses import dataclass

from spm_sync.normalize.helpers import sql_literal


@dataclass(frozen=True)
class Check:
    name: str
    object: str
    select: str  # -> source, record_id, detail


def checks(reporting: str) -> tuple[Check, ...]:
    return (
        Check(
            "unknown_owner",
            "opportunity",
            """SELECT source, opportunity_id, CASE WHEN owner_given IS NULL THEN 'no owner'
  ELSE 'owner ' || owner_given || ' is not a known user' END
FROM _out_opportunities WHERE owner_rep_id IS NULL AND NOT is_deleted""",
        ),
        Check(
            "unknown_stage",
            "opportunity",
            """SELECT source, opportunity_id, 'stage ' || COALESCE('''' || stage || '''', 'NULL')
  || ' is not in the mapping''s stages'
FROM _out_opportunities WHERE stage_category IS NULL AND NOT is_deleted""",
        ),
        Check(
            "no_rate",
            "opportunity",
            f"""SELECT source, opportunity_id,
  'no rate from ' || COALESCE(currency, 'unknown') || ' to ' || {sql_literal(reporting)}
FROM _out_opportunities WHERE amount IS NOT NULL AND amount_rc IS NULL AND NOT is_deleted""",
        ),
        Check(
            "no_owner",
            "activity",
            """SELECT source, activity_id, CASE WHEN owner_crm_id IS NULL THEN 'no owner'
  ELSE 'owner ' || owner_crm_id || ' is not a known user' END
FROM _out_activities WHERE owner_rep_id IS NULL""",
        ),
        Check(
            "no_fiscal_year",
            "fiscal_period",
            """SELECT source, crm_id, grain || ' period from ' || CAST(period_start AS VARCHAR)
  || ' lies in no year period of its source'
FROM _out_fiscal_periods_imported WHERE period IS NULL""",
        ),
    )


def _round2(value: str) -> str:
    """Rounded to cents/hundredths, portably (PostgreSQL rounds only NUMERIC to digits)."""
    return f"round(CAST({value} AS DECIMAL(38, 9)), 2)"


def credit_checks(split_types: list[str]) -> tuple[Check, ...]:
    """Checks over the swapped-in tables and the credits (run after the crediting statements)."""
    types = ", ".join(sql_literal(t) for t in split_types) or "NULL"
    key = f"lower(trim(a.name)) AS account_key, {_round2('o.amount_rc')} AS amount_key, o.close_date, o.owner_rep_id"
    return (
        Check(
            "owner_history_missing",
            "opportunity",
            """SELECT source, source, 'no owner history in this source: ' || CAST(count(*) AS VARCHAR)
  || ' closed opportunity(ies) credited to the current owner, not the owner at close'
FROM spm.opportunity_credits WHERE rule = 'owner_fallback_current' GROUP BY source""",
        ),
        Check(
            "split_total",
            "opportunity",
            f"""SELECT s.source, s.opportunity_id,
  'revenue splits total ' || CAST({_round2("sum(s.percentage)")} AS VARCHAR) || ' %, not 100 %: shares scaled to 100 %'
FROM spm.opportunity_splits AS s
WHERE s.split_type IN ({types}) AND s.percentage > 0
  AND s.opportunity_id IN (SELECT opportunity_id FROM spm.opportunity_credits WHERE rule LIKE 'split:%')
GROUP BY s.source, s.opportunity_id HAVING abs(sum(s.percentage) - 100) > 0.01""",
        ),
        # One deal in two CRMs that no link property ties: same account name, amount, close date, owner.
        Check(
            "probable_duplicate",
            "opportunity",
            f"""WITH keyed AS (
  SELECT o.source, o.opportunity_id, {key}
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
  AND s.close_date = k.close_date AND s.owner_rep_id = k.owner_rep_id""",
        ),
    )


def rejected(objects: dict[str, str]) -> Check:
    """Refused input rows (`_out_rejected_inputs`), named by their rule: `origin` says where the row is
    (`quotas.csv: line 7`, `ForecastingQuota 0QR...`), the detail which cell and why."""
    object_sql = " ".join(f"WHEN {sql_literal(k)} THEN {sql_literal(v)}" for k, v in objects.items())
    quoted_value = "COALESCE(' ' || " + sql_literal("'") + " || value || " + sql_literal("'") + ", '')"
    return Check(
        "",  # the rule is in the row
        "",
        f"""SELECT source, origin, column_name || ': ' || reason || {quoted_value}, check_name,
  CASE input {object_sql} ELSE input END
FROM _out_rejected_inputs""",
    )


def insert(check: Check, run_id: str) -> str:
    """INSERT of one check's rows; `?` is the found_at timestamp. A check without a name yields the check
    name and object per row (source, record_id, detail, check_name, object)."""
    if not check.name:
        return (
            "INSERT INTO spm_state.quality (run_id, source, check_name, object, record_id, detail, found_at)\n"
            f"SELECT {sql_literal(run_id)}, q.source, q.check_name, q.object, q.record_id, q.detail, ?\n"
            f"FROM (\n{check.select}\n) AS q(source, record_id, detail, check_name, object)"
        )
    return (
        "INSERT INTO spm_state.quality (run_id, source, check_name, object, record_id, detail, found_at)\n"
        f"SELECT {sql_literal(run_id)}, q.source, {sql_literal(check.name)}, {sql_literal(check.object)}, q.record_id, "
        f"q.detail, ?\nFROM (\n{check.select}\n) AS q(source, record_id, detail)"
    )
