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
            "unknown_owner",
            "quota",
            """SELECT source, COALESCE(owner_given, 'unknown') || ' ' || CAST(period_start AS VARCHAR),
  'quota owner ' || COALESCE(owner_given, 'missing') || ' is not a known rep or team'
FROM _out_quotas WHERE owner IS NULL""",
        ),
        Check(
            "no_rate",
            "quota",
            f"""SELECT source, owner || ' ' || CAST(period_start AS VARCHAR),
  'no rate from ' || COALESCE(currency, 'unknown') || ' to ' || {sql_literal(reporting)}
FROM _out_quotas WHERE owner IS NOT NULL AND amount IS NOT NULL AND amount_rc IS NULL""",
        ),
        Check(
            "unknown_owner",
            "activity_target",
            """SELECT source, COALESCE(owner_given, 'unknown') || ' ' || CAST(period_start AS VARCHAR),
  'activity target owner ' || COALESCE(owner_given, 'missing') || ' is not a known rep or team'
FROM _out_activity_targets WHERE owner IS NULL""",
        ),
        Check(
            "no_fiscal_year",
            "fiscal_period",
            """SELECT source, crm_id, grain || ' period from ' || CAST(period_start AS VARCHAR)
  || ' lies in no year period of its source'
FROM _out_fiscal_periods_imported WHERE period IS NULL""",
        ),
    )


def insert(check: Check, run_id: str) -> str:
    """INSERT of one check's rows; `?` is the found_at timestamp."""
    return (
        "INSERT INTO spm_state.quality (run_id, source, check_name, object, record_id, detail, found_at)\n"
        f"SELECT {sql_literal(run_id)}, q.source, {sql_literal(check.name)}, {sql_literal(check.object)}, q.record_id, "
        f"q.detail, ?\nFROM (\n{check.select}\n) AS q(source, record_id, detail)"
    )
