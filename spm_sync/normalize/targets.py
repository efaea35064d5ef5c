"""The inputs a mapping may fill: per target, the columns (name -> SQL type) a mapping part produces.

Why a separate vocabulary from `spm.*`: a mapping speaks in the CRM's own ids (`owner_crm_id`,
`account_crm_id`); the build step (build.py) turns them into prefixed ids, resolves owners through
rep identities, converts money and checks quality, the same way for every CRM.
"""

from __future__ import annotations

from dataclasses import dataclass

# Categories every built-in mapping and metric understands; a mapping may declare more (`categories:`).
STAGE_CATEGORIES = (
    "prospecting",
    "qualification",
    "needs_analysis",
    "proposal",
    "negotiation",
    "closed_won",
    "closed_lost",
)
DEAL_TYPES = ("new", "renewal", "expansion")
ACTIVITY_KINDS = ("call", "email", "meeting", "task")
FEEDBACK_KINDS = ("nps", "csat", "ces", "rep")
FISCAL_GRAINS = ("month", "quarter", "year")


@dataclass(frozen=True)
class Target:
    """One input of the build step: its columns and which of them a mapping part must give."""

    name: str
    columns: dict[str, str]
    required: tuple[str, ...]
    key: tuple[str, ...] = ()  # rows are made unique on (source, *key), the newest kept
    enums: dict[str, tuple[str, ...]] | None = None


def _t(name: str, columns: str, required: str, key: str = "", **enums: tuple[str, ...]) -> Target:
    parsed = dict(part.split(":") for part in columns.split())
    return Target(name, parsed, tuple(required.split()), tuple(key.split()), enums or None)


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        _t(
            "reps",
            "crm_id:VARCHAR crm_user_id:VARCHAR name:VARCHAR email:VARCHAR team_crm_id:VARCHAR "
            "manager_crm_id:VARCHAR is_active:BOOLEAN",
            "crm_id",
            "crm_id",
        ),
        _t("teams", "crm_id:VARCHAR name:VARCHAR parent_crm_id:VARCHAR", "crm_id", "crm_id"),
        # valid_from inclusive, valid_to exclusive (NULL = open); rows without dates are current membership
        _t(
            "team_members",
            "team_crm_id:VARCHAR email:VARCHAR valid_from:DATE valid_to:DATE",
            "team_crm_id email",
            "email valid_from",
        ),
        _t(
            "accounts",
            "crm_id:VARCHAR name:VARCHAR owner_crm_id:VARCHAR owner_email:VARCHAR created_at:TIMESTAMP "
            "is_deleted:BOOLEAN updated_at:TIMESTAMP mirror_of_crm_id:VARCHAR",
            "crm_id",
            "crm_id",
        ),
        _t(
            "opportunities",
            "crm_id:VARCHAR account_crm_id:VARCHAR owner_crm_id:VARCHAR owner_email:VARCHAR name:VARCHAR stage:VARCHAR "
            "is_closed:BOOLEAN is_won:BOOLEAN amount:DOUBLE currency:VARCHAR amount_home:DOUBLE "
            "recurring_amount:DOUBLE deal_type:VARCHAR created_at:TIMESTAMP close_date:DATE "
            "is_deleted:BOOLEAN updated_at:TIMESTAMP mirror_of_crm_id:VARCHAR owner_assigned_at:TIMESTAMP "
            "loss_reason:VARCHAR won_reason:VARCHAR lead_source:VARCHAR",
            "crm_id",
            "crm_id",
            deal_type=DEAL_TYPES,
        ),
        _t(
            "stage_events",
            "opportunity_crm_id:VARCHAR stage:VARCHAR entered_at:TIMESTAMP is_deleted:BOOLEAN",
            "opportunity_crm_id stage entered_at",
        ),
        _t(
            "leads",
            "crm_id:VARCHAR owner_crm_id:VARCHAR created_at:TIMESTAMP status:VARCHAR is_converted:BOOLEAN "
            "converted_at:TIMESTAMP is_deleted:BOOLEAN updated_at:TIMESTAMP mirror_of_crm_id:VARCHAR",
            "crm_id created_at",
            "crm_id",
        ),
        _t(
            "activities",
            "crm_id:VARCHAR owner_crm_id:VARCHAR kind:VARCHAR occurred_at:TIMESTAMP is_completed:BOOLEAN "
            "account_crm_id:VARCHAR opportunity_crm_id:VARCHAR is_deleted:BOOLEAN updated_at:TIMESTAMP "
            "lead_crm_id:VARCHAR",
            "crm_id kind occurred_at",
            "crm_id",
            kind=ACTIVITY_KINDS,
        ),
        _t(
            "feedback",
            "crm_id:VARCHAR kind:VARCHAR score:DOUBLE comment:VARCHAR submitted_at:TIMESTAMP "
            "account_crm_id:VARCHAR rep_crm_id:VARCHAR is_deleted:BOOLEAN updated_at:TIMESTAMP topic:VARCHAR "
            "rep_email:VARCHAR",
            "crm_id kind score submitted_at",
            "crm_id",
            kind=FEEDBACK_KINDS,
        ),
        _t(
            "quotas",
            "owner_crm_id:VARCHAR owner_user_id:VARCHAR owner_email:VARCHAR owner_team_crm_id:VARCHAR "
            "period_start:DATE period_end:DATE measure:VARCHAR amount:DOUBLE currency:VARCHAR "
            "amount_home:DOUBLE is_deleted:BOOLEAN origin:VARCHAR",
            "period_start period_end amount",
        ),
        _t(
            "activity_targets",
            "owner_crm_id:VARCHAR owner_user_id:VARCHAR owner_email:VARCHAR owner_team_crm_id:VARCHAR "
            "period_start:DATE period_end:DATE kind:VARCHAR target:DOUBLE origin:VARCHAR",
            "period_start period_end kind target",
            kind=ACTIVITY_KINDS,
        ),
        # Rows a connector refused (files: `rejected_<kind>`): reported, and the KPIs of the owner x period
        # they were meant for are marked. `input` is the target they were meant for; `origin` says where
        # the row is (`quotas.csv: line 7`), `column_name` / `value` the cell, `check_name` the rule.
        _t(
            "rejected_inputs",
            "input:VARCHAR origin:VARCHAR column_name:VARCHAR value:VARCHAR check_name:VARCHAR reason:VARCHAR "
            "owner_email:VARCHAR owner_team_crm_id:VARCHAR period_start:DATE period_end:DATE",
            "input check_name",
            input=("quotas", "activity_targets", "teams", "team_members", "accounts", "opportunities", "feedback"),
        ),
        # One row per change of an opportunity's owner (new owner from changed_at on); the owner at a
        # date is the new owner of the last change at or before it, else the old owner of the first after.
        _t(
            "owner_changes",
            "opportunity_crm_id:VARCHAR old_owner_crm_id:VARCHAR new_owner_crm_id:VARCHAR changed_at:TIMESTAMP "
            "is_deleted:BOOLEAN",
            "opportunity_crm_id changed_at",
        ),
        # Revenue/overlay splits: percentage 0-100 of the opportunity credited to owner_crm_id.
        _t(
            "opportunity_splits",
            "crm_id:VARCHAR opportunity_crm_id:VARCHAR owner_crm_id:VARCHAR percentage:DOUBLE split_type:VARCHAR "
            "is_deleted:BOOLEAN updated_at:TIMESTAMP",
            "opportunity_crm_id owner_crm_id percentage",
            "crm_id",
        ),
        _t(
            "currency_rates",
            "currency:VARCHAR rate:DOUBLE is_corporate:BOOLEAN",
            "currency rate",
            "currency",
        ),
        # The CRM's own fiscal calendar; period_end exclusive, fiscal_year (named by its ending year)
        # may be left out: the build takes it from the year row that contains the period.
        _t(
            "fiscal_periods",
            "crm_id:VARCHAR grain:VARCHAR period_start:DATE period_end:DATE number:INTEGER fiscal_year:INTEGER "
            "is_deleted:BOOLEAN",
            "crm_id grain period_start period_end",
            "crm_id",
            grain=FISCAL_GRAINS,
        ),
    )
}
