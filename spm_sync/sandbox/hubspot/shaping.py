"""Canonical data set -> HubSpot objects (owners, users, companies, deals, contacts, engagements,
goal targets, feedback submissions) and their associations.

Why vectorised column builders: the large scale seeds a million records; each object type is a
handful of Arrow/numpy operations producing columns the table adopts without per-record Python.
Ids are offset per object type so they look like HubSpot's and never collide across types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spm_sync.sandbox.dataset.model import Dataset
from spm_sync.sandbox.hubspot.columns import Column, NumberColumn, TextColumn, TimeColumn
from spm_sync.sandbox.hubspot.portal import DealSplit, Owner, Portal, Team
from spm_sync.sandbox.hubspot.schema import CANONICAL_SOURCE, CANONICAL_STAGE, DEAL_STAGES
from spm_sync.sandbox.hubspot.table import SeedHistory
from spm_sync.sandbox.hubspot.values import NULL_MS, ms_from_date

OWNER_BASE = 41_000_000
USER_ID_BASE = 9_000_000
USER_RECORD_BASE = 301_000_000
COMPANY_BASE = 5_000_000_000
DEAL_BASE = 9_000_000_000
CONTACT_BASE = 100_000
ENGAGEMENT_BASE = 40_000_000_000
GOAL_BASE = 200_000_000
FEEDBACK_BASE = 3_000_000_000
SPLIT_BASE = 60_000_000_000
LEGACY_STAGE_DATES_EVERY = 10  # every 10th deal predates hs_v2_date_entered_*: only the old property
_LEAD_STATUS = {"new": "NEW", "working": "IN_PROGRESS", "nurturing": "OPEN", "unqualified": "UNQUALIFIED",
                "converted": "CONNECTED"}
_SURVEY = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}
_MEETING_MS = 30 * 60_000


@dataclass(frozen=True)
class MirrorLinks:
    """Salesforce Ids of the records a mirrored portal copies, row-aligned with the data set's
    accounts, opportunities and leads (what the integration writes into the link properties)."""

    accounts: Sequence[str]
    opportunities: Sequence[str]
    leads: Sequence[str]


@dataclass(frozen=True)
class Seed:
    """One object type's records, ready for `ObjectTable.load`."""

    ids: np.ndarray
    created: np.ndarray
    updated: np.ndarray
    columns: dict[str, Column]
    archived: np.ndarray | None = None


# -- column helpers ---------------------------------------------------------------------------
def ints(column: pa.ChunkedArray | pa.Array, null: int = 0) -> np.ndarray:
    return pc.fill_null(column, null).to_numpy().astype(np.int64, copy=False)


def valid(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.is_valid(column).to_numpy(zero_copy_only=False)


def millis(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Timestamp or date column -> int64 epoch ms, nulls -> NULL_MS."""
    kind = pa.date64() if pa.types.is_date(column.type) else pa.timestamp("ms", tz="UTC")
    out = column.cast(kind).to_numpy(zero_copy_only=False).astype("datetime64[ms]").astype(np.int64)
    return np.where(valid(column), out, NULL_MS)


def floats(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)


def text(values: pa.ChunkedArray | pa.Array | list[str | None] | np.ndarray) -> TextColumn:
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return TextColumn.from_arrow(values)
    return TextColumn.from_values(values)


def coded(codes: np.ndarray, categories: list[str]) -> TextColumn:
    """A text column from precomputed codes into a small category list (enum-like values)."""
    column = TextColumn()
    column.codes = np.asarray(codes, dtype=np.int32)
    column.categories = list(categories)
    column._index = {value: i for i, value in enumerate(categories)}
    return column


def flag(values: np.ndarray) -> TextColumn:
    """Booleans as HubSpot's "true"/"false" strings."""
    return coded(np.asarray(values, bool).astype(np.int32), ["false", "true"])


def owner_ids(rep_ids: np.ndarray, present: np.ndarray | None = None) -> TextColumn:
    """`hubspot_owner_id` values (owner id strings), null where there is no rep."""
    uniq = np.unique(rep_ids)
    codes = np.searchsorted(uniq, rep_ids).astype(np.int32)
    if present is not None:
        codes = np.where(present, codes, -1).astype(np.int32)
    return coded(codes, [str(OWNER_BASE + int(r)) for r in uniq])


def mapped(values: pa.ChunkedArray | pa.Array, mapping: dict[str, str]) -> TextColumn:
    """Canonical enum strings -> HubSpot's values (unknown ones pass through upper-cased)."""
    column = TextColumn.from_arrow(values)
    column.categories = [mapping.get(c, c.upper()) for c in column.categories]
    column._index = {value: i for i, value in enumerate(column.categories)}
    return column


# -- object types ------------------------------------------------------------------------------
def owners(ds: Dataset, stamp_ms: int) -> list[Owner]:
    teams = dict(zip(ints(ds.teams["team_id"]).tolist(), ds.teams["name"].to_pylist(), strict=True))
    rows = ds.reps.to_pylist()
    return [
        Owner(
            id=OWNER_BASE + rep["rep_id"], email=rep["email"], first_name=rep["first_name"],
            last_name=rep["last_name"], user_id=USER_ID_BASE + rep["rep_id"],
            teams=[Team(str(rep["team_id"]), teams.get(rep["team_id"], ""), True)],
            archived=not rep["is_active"], created_ms=stamp_ms, updated_ms=stamp_ms,
        )
        for rep in rows
    ]


def users(ds: Dataset, stamp_ms: int) -> Seed:
    rep_ids = ints(ds.reps["rep_id"])
    n = len(rep_ids)
    stamps = np.full(n, stamp_ms, dtype=np.int64)
    return Seed(USER_RECORD_BASE + rep_ids, stamps, stamps, {
        "hs_internal_user_id": NumberColumn((USER_ID_BASE + rep_ids).astype(np.float64)),
        "hs_email": text(ds.reps["email"]),
        "hs_given_name": text(ds.reps["first_name"]),
        "hs_family_name": text(ds.reps["last_name"]),
        "spm_rep_key": text(pc.utf8_lower(ds.reps["email"])),
    })


def companies(ds: Dataset) -> Seed:
    accounts = ds.accounts
    created = millis(accounts["created_at"])
    slug = pc.replace_substring_regex(pc.utf8_lower(accounts["name"]), r"[^a-z0-9]+", "")
    industry = pc.replace_substring_regex(pc.utf8_upper(accounts["industry"]), r"[^A-Z0-9]+", "_")
    return Seed(COMPANY_BASE + ints(accounts["account_id"]), created, created.copy(), {
        "name": text(accounts["name"]),
        "domain": text(pc.binary_join_element_wise(slug, pa.scalar("com"), ".")),
        "industry": text(industry),
        "hubspot_owner_id": owner_ids(ints(accounts["owner_rep_id"])),
    })


def _stage_columns(ds: Dataset, deal_ids: np.ndarray) -> tuple[dict[str, Column], SeedHistory]:
    """`hs_v2_date_entered_<stage>` / `hs_date_entered_<stage>` and the dealstage history."""
    events = ds.stage_events
    rows = np.searchsorted(deal_ids, DEAL_BASE + ints(events["opportunity_id"]))
    stamps = millis(events["entered_at"])
    stage_col = mapped(events["stage"], CANONICAL_STAGE)
    columns: dict[str, Column] = {}
    legacy = (deal_ids - DEAL_BASE) % LEGACY_STAGE_DATES_EVERY == 0
    for stage_id, *_rest in DEAL_STAGES:
        code = stage_col.code_of(stage_id)
        entered = np.full(len(deal_ids), np.iinfo(np.int64).max, dtype=np.int64)
        if code >= 0:
            hit = stage_col.codes == code
            np.minimum.at(entered, rows[hit], stamps[hit])
        entered[entered == np.iinfo(np.int64).max] = NULL_MS
        columns[f"hs_date_entered_{stage_id}"] = TimeColumn(entered)
        columns[f"hs_v2_date_entered_{stage_id}"] = TimeColumn(np.where(legacy, NULL_MS, entered))
    order = np.lexsort((stamps, rows))
    history = SeedHistory(rows[order], stamps[order],
                          [stage_col.categories[c] for c in stage_col.codes[order]])
    return columns, history


def _owner_columns(ds: Dataset, deal_ids: np.ndarray) -> tuple[TimeColumn, SeedHistory]:
    """`hubspot_owner_assigneddate` and the `hubspot_owner_id` versions (first owner at creation,
    then each change), from the data set's owner changes."""
    opps, changes = ds.opportunities, ds.owner_changes
    created, current = millis(opps["created_at"]), ints(opps["owner_rep_id"])
    rows = np.searchsorted(deal_ids, DEAL_BASE + ints(changes["opportunity_id"]))
    changed_at = millis(changes["changed_at"])
    first_owner = current.copy()
    first_owner[rows] = ints(changes["old_rep_id"])
    assigned = created.copy()
    assigned[rows] = changed_at
    all_rows = np.concatenate([np.arange(len(deal_ids)), rows])
    stamps = np.concatenate([created, changed_at])
    owners = OWNER_BASE + np.concatenate([first_owner, ints(changes["new_rep_id"])])
    order = np.lexsort((stamps, all_rows))
    history = SeedHistory(all_rows[order], stamps[order], [str(o) for o in owners[order].tolist()])
    return TimeColumn(assigned), history


def deal_splits(ds: Dataset, stamp_ms: int) -> dict[int, list[DealSplit]]:
    """The data set's splits by HubSpot deal id (shares as fractions, as HubSpot keeps them)."""
    splits = ds.opportunity_splits
    out: dict[int, list[DealSplit]] = {}
    for split_id, opp, rep, pct in zip(ints(splits["split_id"]).tolist(), ints(splits["opportunity_id"]).tolist(),
                                       ints(splits["rep_id"]).tolist(), floats(splits["percentage"]).tolist(),
                                       strict=True):
        out.setdefault(DEAL_BASE + opp, []).append(
            DealSplit(SPLIT_BASE + split_id, str(OWNER_BASE + rep), pct / 100.0, stamp_ms, stamp_ms))
    return out


def deals(ds: Dataset) -> tuple[Seed, SeedHistory, SeedHistory]:
    """Deals, their dealstage history and their hubspot_owner_id history."""
    opps = ds.opportunities
    ids = DEAL_BASE + ints(opps["opportunity_id"])
    rates = dict(zip(ds.currencies["iso_code"].to_pylist(), floats(ds.currencies["conversion_rate"]).tolist(),
                     strict=True))
    currency = text(opps["currency"])
    rate = np.array([rates.get(c, 1.0) for c in currency.categories] or [1.0])[np.maximum(currency.codes, 0)]
    amount = floats(opps["amount"])
    stage = mapped(opps["stage"], CANONICAL_STAGE)
    stage_ids = np.array(stage.categories, dtype=object)[stage.codes] if len(stage.codes) else np.empty(0, dtype=object)
    probability = {s: float(p) for s, _label, p, _closed in DEAL_STAGES}
    closed = np.isin(stage_ids, ["closedwon", "closedlost"])
    is_new = pc.equal(opps["deal_type"], "new").to_numpy(zero_copy_only=False)
    stage_columns, history = _stage_columns(ds, ids)
    assigned, owner_history = _owner_columns(ds, ids)
    columns: dict[str, Column] = {
        "dealname": text(opps["name"]),
        "amount": NumberColumn(amount),
        "deal_currency_code": currency,
        "amount_in_home_currency": NumberColumn(np.round(amount / rate, 2)),
        "dealstage": stage,
        "pipeline": coded(np.zeros(len(ids), np.int32), ["default"]),
        "closedate": TimeColumn(millis(opps["close_date"])),
        "hubspot_owner_id": owner_ids(ints(opps["owner_rep_id"])),
        "hubspot_owner_assigneddate": assigned,
        "hs_is_closed": flag(closed),
        "hs_is_closed_won": flag(stage_ids == "closedwon"),
        "hs_deal_stage_probability": NumberColumn(np.array([probability.get(s, 0.0) for s in stage_ids.tolist()])),
        "hs_arr": NumberColumn(floats(opps["recurring_amount"])),
        "arr": NumberColumn(floats(opps["recurring_amount"])),
        "dealtype": coded((~is_new).astype(np.int32), ["newbusiness", "existingbusiness"]),
        "closed_lost_reason": text(opps["loss_reason"]),
        "closed_won_reason": text(opps["won_reason"]),
        "hs_analytics_source": mapped(opps["lead_source"], CANONICAL_SOURCE),
        **stage_columns,
    }
    seed = Seed(ids, millis(opps["created_at"]), millis(opps["updated_at"]), columns,
                archived=opps["is_deleted"].to_numpy(zero_copy_only=False).astype(bool))
    return seed, history, owner_history


def contacts(ds: Dataset) -> Seed:
    leads = ds.leads
    created = millis(leads["created_at"])
    converted = millis(leads["converted_at"])
    is_converted = leads["is_converted"].to_numpy(zero_copy_only=False).astype(bool) & (converted != NULL_MS)
    # Half the conversions went straight to customer: no opportunity date, only the customer date.
    via_opportunity = is_converted & (ints(leads["lead_id"]) % 2 == 0)
    as_customer = is_converted & ~via_opportunity
    lifecycle = np.where(via_opportunity, 1, np.where(as_customer, 2, 0)).astype(np.int32)
    return Seed(CONTACT_BASE + ints(leads["lead_id"]), created, np.where(is_converted, converted, created), {
        "email": text(leads["email"]),
        "firstname": text(leads["first_name"]),
        "lastname": text(leads["last_name"]),
        "company": text(leads["company"]),
        "hs_lead_status": mapped(leads["status"], _LEAD_STATUS),
        "lifecyclestage": coded(lifecycle, ["lead", "opportunity", "customer"]),
        "hubspot_owner_id": owner_ids(ints(leads["owner_rep_id"])),
        "hs_lifecyclestage_lead_date": TimeColumn(created.copy()),
        "hs_lifecyclestage_opportunity_date": TimeColumn(np.where(via_opportunity, converted, NULL_MS)),
        "hs_lifecyclestage_customer_date": TimeColumn(np.where(as_customer, converted, NULL_MS)),
    })


_ENGAGEMENTS = {
    # kind -> (object type, title property, status property, (open, done) statuses)
    "call": ("calls", "hs_call_title", "hs_call_status", ("QUEUED", "COMPLETED")),
    "email": ("emails", "hs_email_subject", "hs_email_status", ("SCHEDULED", "SENT")),
    "meeting": ("meetings", "hs_meeting_title", "hs_meeting_outcome", ("SCHEDULED", "COMPLETED")),
    "task": ("tasks", "hs_task_subject", "hs_task_status", ("NOT_STARTED", "COMPLETED")),
}


def engagements(ds: Dataset, kind: str) -> tuple[str, Seed, pa.Table]:
    """One engagement object type from the activities of `kind` (and those activities)."""
    object_type, title, status, (open_status, done_status) = _ENGAGEMENTS[kind]
    acts = ds.activities.filter(pc.equal(ds.activities["kind"], kind))
    occurred = millis(acts["occurred_at"])
    done = acts["is_completed"].to_numpy(zero_copy_only=False).astype(bool)
    columns: dict[str, Column] = {
        "hs_timestamp": TimeColumn(occurred.copy()),
        "hubspot_owner_id": owner_ids(ints(acts["owner_rep_id"]), valid(acts["owner_rep_id"])),
        title: text(acts["subject"]),
        status: coded(done.astype(np.int32), [open_status, done_status]),
    }
    n = len(occurred)
    if kind == "call":
        columns["hs_call_direction"] = coded(np.zeros(n, np.int32), ["OUTBOUND"])
        columns["hs_call_duration"] = NumberColumn(np.where(done, 900_000.0, np.nan))
    elif kind == "email":
        columns["hs_email_direction"] = coded(np.zeros(n, np.int32), ["EMAIL"])
    elif kind == "meeting":
        columns["hs_meeting_start_time"] = TimeColumn(occurred.copy())
        columns["hs_meeting_end_time"] = TimeColumn(occurred + _MEETING_MS)
    else:
        columns["hs_task_type"] = coded(np.zeros(n, np.int32), ["TODO"])
        columns["hs_task_priority"] = coded(np.zeros(n, np.int32), ["NONE"])
    ids = ENGAGEMENT_BASE + ints(acts["activity_id"])
    return object_type, Seed(ids, occurred, occurred.copy(), columns), acts


def goal_targets(ds: Dataset, stamp_ms: int) -> Seed:
    quotas = ds.quotas
    reps = {r["rep_id"]: r for r in ds.reps.select(["rep_id", "first_name", "last_name"]).to_pylist()}
    rep_ids = ints(quotas["rep_id"])
    starts = millis(quotas["period_start"])
    # HubSpot goals end on the period's last millisecond (inclusive), not at the next period's start.
    ends = millis(quotas["period_end"]) - 1
    months = pc.strftime(quotas["period_start"].cast(pa.timestamp("s")), format="%Y-%m").to_pylist()
    names = [f"Revenue goal - {reps[r]['first_name']} {reps[r]['last_name']} - {m}"
             for r, m in zip(rep_ids.tolist(), months, strict=True)]
    n = len(rep_ids)
    stamps = np.full(n, stamp_ms, dtype=np.int64)
    return Seed(GOAL_BASE + np.arange(1, n + 1, dtype=np.int64), stamps, stamps.copy(), {
        "hs_goal_name": text(names),
        "hs_target_amount": NumberColumn(floats(quotas["amount"])),
        "hs_start_datetime": TimeColumn(starts),
        "hs_end_datetime": TimeColumn(ends),
        "hs_assignee_user_id": NumberColumn((USER_ID_BASE + rep_ids).astype(np.float64)),
        "hs_kpi_display_unit": coded(np.zeros(n, np.int32), ["currency"]),
        "hs_goal_type": coded(np.zeros(n, np.int32), ["revenue"]),
    })


def _sentiment(kind: np.ndarray, score: np.ndarray) -> TextColumn:
    nps = np.where(score >= 9, 0, np.where(score >= 7, 1, 2))
    scaled = np.where(kind == "csat", score, np.where(kind == "ces", score, 0))
    other = np.where(scaled >= np.where(kind == "ces", 6, 4), 3, np.where(scaled >= 3, 4, 5))
    codes = np.where(kind == "nps", nps, other).astype(np.int32)
    return coded(codes, ["Promoter", "Passive", "Detractor", "Positive", "Neutral", "Negative"])


def feedback(ds: Dataset) -> Seed:
    fb = ds.feedback
    submitted = millis(fb["submitted_at"])
    score = ints(fb["score"])
    kind = np.array(fb["kind"].to_pylist(), dtype=object)
    return Seed(FEEDBACK_BASE + ints(fb["feedback_id"]), submitted, submitted.copy(), {
        "hs_survey_type": mapped(fb["kind"], _SURVEY),
        "hs_survey_name": mapped(fb["kind"], {k: f"Customer {v} survey" for k, v in _SURVEY.items()}),
        "hs_survey_channel": coded(np.zeros(len(score), np.int32), ["EMAIL"]),
        "hs_value": NumberColumn(score.astype(np.float64)),
        "hs_response_value": text([str(s) for s in score.tolist()]),
        "hs_sentiment": _sentiment(kind, score),
        "hs_content": text(fb["comment"]),
        "hs_submission_timestamp": TimeColumn(submitted.copy()),
        "hubspot_owner_id": owner_ids(ints(fb["rep_id"]), valid(fb["rep_id"])),
    })


# -- loading -----------------------------------------------------------------------------------
def _load(portal: Portal, object_type: str, seed: Seed) -> None:
    order = np.argsort(seed.ids, kind="stable")
    columns = {name: _reordered(column, order) for name, column in seed.columns.items()}
    archived = None if seed.archived is None else seed.archived[order]
    portal.table(object_type).load(seed.ids[order], seed.created[order], seed.updated[order], columns, archived)


def _reordered(column: Column, order: np.ndarray) -> Column:
    if isinstance(column, TextColumn):
        column.codes = column.codes[order]
    else:
        column.data = column.data[order]
    return column


def _associate(portal: Portal, from_type: str, from_ids: np.ndarray, to_type: str, to_ids: np.ndarray,
               present: np.ndarray, primary: bool = False) -> None:
    portal.associations.add_many(from_type, from_ids[present], to_type, to_ids[present], primary)


def _linked(seed: Seed, prop: str, salesforce_ids: Sequence[str] | None) -> Seed:
    """The seed with the integration's link property (the Salesforce Id of the same record)."""
    if salesforce_ids is not None:
        seed.columns[prop] = text(list(salesforce_ids))
    return seed


def seed_portal(portal: Portal, ds: Dataset, mirror: MirrorLinks | None = None) -> Portal:
    """Fill an empty portal from the HubSpot part of the canonical data set.

    With `mirror` the portal holds only what HubSpot's Salesforce integration copies from the org
    (owners and users, companies, deals, contacts, each with its link property): no splits, goals,
    engagements or feedback, which then live in Salesforce alone.
    """
    stamp = ms_from_date(date(ds.as_of.year - 1, 1, 1))
    portal.currency_rates = dict(zip(ds.currencies["iso_code"].to_pylist(),
                                     floats(ds.currencies["conversion_rate"]).tolist(), strict=True))
    portal.owners = owners(ds, stamp)
    _load(portal, "users", users(ds, stamp))
    _load(portal, "companies", _linked(companies(ds), "salesforceaccountid", mirror.accounts if mirror else None))
    deal_seed, stage_history, owner_history = deals(ds)
    _load(portal, "deals", _linked(deal_seed, "hs_salesforceopportunityid", mirror.opportunities if mirror else None))
    portal.table("deals").seed_history["dealstage"] = stage_history
    portal.table("deals").seed_history["hubspot_owner_id"] = owner_history
    opps = ds.opportunities
    _associate(portal, "deals", DEAL_BASE + ints(opps["opportunity_id"]), "companies",
               COMPANY_BASE + ints(opps["account_id"]), valid(opps["account_id"]), primary=True)
    _load(portal, "contacts", _linked(contacts(ds), "salesforceleadid", mirror.leads if mirror else None))
    if mirror is not None:
        return portal
    portal.deal_splits = deal_splits(ds, stamp)
    for kind in _ENGAGEMENTS:
        object_type, seed, acts = engagements(ds, kind)
        _load(portal, object_type, seed)
        _associate(portal, object_type, seed.ids, "deals", DEAL_BASE + ints(acts["opportunity_id"]),
                   valid(acts["opportunity_id"]))
        _associate(portal, object_type, seed.ids, "companies", COMPANY_BASE + ints(acts["account_id"]),
                   valid(acts["account_id"]))
    _load(portal, "goal_targets", goal_targets(ds, stamp))
    fb_seed = feedback(ds)
    _load(portal, "feedback_submissions", fb_seed)
    _associate(portal, "feedback_submissions", fb_seed.ids, "companies",
               COMPANY_BASE + ints(ds.feedback["account_id"]), valid(ds.feedback["account_id"]))
    return portal
