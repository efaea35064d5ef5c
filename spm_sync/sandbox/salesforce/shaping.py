"""Canonical data set -> Salesforce records (pure, vectorised).

Why a separate pure step: the mapping from CRM-neutral rows to Salesforce's objects, field names,
picklist values and Ids is the part of the emulator that most needs review; it takes pyarrow tables
and returns plain column arrays, with no server or org in sight.

Mappings worth knowing when reading KPIs off the emulated org:
- stage -> StageName (Prospecting ... Closed Won/Closed Lost); IsClosed/IsWon/Probability derived.
- deal_type new/expansion/renewal -> Type New Business / Existing Customer - Upgrade / - Replacement.
- activity kind call/email/task -> Task (TaskSubtype Call/Email/Task, dated by ActivityDate);
  meeting -> Event (ActivityDateTime); an activity about a lead names it in WhoId. A Task must have an
  owner: a canonical activity without owner is owned by its account's owner.
- lead status new/working/nurturing/unqualified/converted -> the four default Lead statuses.
- timestamps are cut to whole seconds, as Salesforce stores them.
- owner changes -> OpportunityFieldHistory, two rows each (Field Owner: user Ids with DataType
  EntityId, then names with DataType Text), as an org with Owner history tracking records them.
- splits are on: every opportunity has its splits of type Revenue; one without a split in the data
  set has the single 100 % split to its owner that Salesforce adds (and moves with the owner).

Text comes out dictionary-encoded (store.Strings) straight from pyarrow's dictionary_encode, and
every array is made once in its storage dtype, so Table.append adopts it without a second copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import ids
from .schema import STAGE_INFO
from .store import Strings, ref_code

STAGE_NAMES_BY_CANONICAL: dict[str, str] = {
    "prospecting": "Prospecting",
    "qualification": "Qualification",
    "needs_analysis": "Needs Analysis",
    "proposal": "Proposal/Price Quote",
    "negotiation": "Negotiation/Review",
    "closed_won": "Closed Won",
    "closed_lost": "Closed Lost",
}
DEAL_TYPE_NAMES: dict[str, str] = {
    "new": "New Business",
    "expansion": "Existing Customer - Upgrade",
    "renewal": "Existing Customer - Replacement",
}
LEAD_STATUS_NAMES: dict[str, str] = {
    "new": "Open - Not Contacted",
    "working": "Working - Contacted",
    "nurturing": "Working - Contacted",
    "unqualified": "Closed - Not Converted",
    "converted": "Closed - Converted",
}
TASK_SUBTYPES: dict[str, str] = {"call": "Call", "email": "Email", "task": "Task"}
TASK_STATUS_ROWS: tuple[tuple[str, int, bool, bool], ...] = (
    ("Not Started", 1, True, False),
    ("In Progress", 2, False, False),
    ("Completed", 3, False, True),
    ("Waiting on someone else", 4, False, False),
    ("Deferred", 5, False, True),
)
FORECASTING_TYPE_ID = "0DbHs0000000001AAA"
PROFILES = ("System Administrator", "Standard User")  # the API user (User row 0) is the administrator
CITIES = ("San Francisco", "New York", "Chicago", "Austin", "Boston", "Seattle", "Denver", "Atlanta")


@dataclass(frozen=True)
class Shaped:
    """Columns of one object, ready for Table.append."""

    count: int
    columns: dict[str, Any]


# ---- conversion helpers --------------------------------------------------------------------------

def _np(col: pa.ChunkedArray) -> np.ndarray:
    return col.to_numpy(zero_copy_only=False)


def _const(n: int, value: str) -> Strings:
    """The same text in all n rows."""
    return Strings(np.ones(n, dtype=np.int32), np.array([None, value], dtype=object))


def _full_names(first: pa.ChunkedArray, last: pa.ChunkedArray) -> Strings:
    return Strings.of(pc.binary_join_element_wise(first, last, " "))


def _stamps(col: pa.ChunkedArray) -> np.ndarray:
    """Timestamps -> datetime64[ms] cut to whole seconds (NaT for null)."""
    values = pc.cast(col, pa.timestamp("ms", tz="UTC")) if pa.types.is_timestamp(col.type) else col
    stamps = _np(values).astype("datetime64[ms]", copy=False)
    fraction = (stamps.view(np.int64) % 1000).astype("timedelta64[ms]")
    return np.where(np.isnat(stamps), stamps, stamps - fraction)


def _days(col: pa.ChunkedArray) -> np.ndarray:
    return _np(col).astype("datetime64[D]")


def _floats(col: pa.ChunkedArray) -> np.ndarray:
    return _np(pc.cast(col, pa.float64())).astype(np.float64)


def _bools(col: pa.ChunkedArray) -> np.ndarray:
    return _np(pc.fill_null(col, False)).astype(bool)


class _Rows:
    """canonical int id -> row number in the Salesforce table (-1 when absent)."""

    def __init__(self, ids_col: pa.ChunkedArray) -> None:
        ids = _np(ids_col).astype(np.int64)
        self.lookup = np.full(int(ids.max(initial=0)) + 2, -1, dtype=np.int64)
        self.lookup[ids] = np.arange(len(ids))

    def of(self, col: pa.ChunkedArray) -> np.ndarray:
        keys = _np(pc.fill_null(col, -1)).astype(np.int64)
        inside = (keys >= 0) & (keys < len(self.lookup))
        out = np.full(len(keys), -1, dtype=np.int64)
        out[inside] = self.lookup[keys[inside]]
        return out


def refs(target: str, rows: np.ndarray) -> np.ndarray:
    """Row numbers -> ref codes of `target`, -1 staying null."""
    return np.where(rows >= 0, ref_code(target, np.maximum(rows, 0)), -1)


def _stage_columns(col: pa.ChunkedArray) -> dict[str, Any]:
    """StageName plus the fields a real org derives from the stage."""
    stage = Strings.of(col, STAGE_NAMES_BY_CANONICAL)
    info = [STAGE_INFO.get(c or "", (c, 0.0, "Omitted", False, False)) for c in stage.pool.tolist()]
    return {
        "StageName": stage,
        "Probability": np.array([i[1] for i in info], dtype=np.float64)[stage.codes],
        "ForecastCategoryName": Strings(stage.codes, np.array([None, *(i[2] for i in info[1:])], dtype=object)),
        "IsClosed": np.array([i[3] for i in info], dtype=bool)[stage.codes],
        "IsWon": np.array([i[4] for i in info], dtype=bool)[stage.codes],
    }


def _audit(created: np.ndarray, modified: np.ndarray, by: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "CreatedDate": created, "LastModifiedDate": modified, "SystemModstamp": modified,
        "CreatedById": by, "LastModifiedById": by,
    }


# ---- objects -----------------------------------------------------------------------------------

def shape(ds: Any) -> dict[str, Shaped]:
    """All objects of the org for one canonical `Dataset` (or its Salesforce part)."""
    setup = np.datetime64(date(ds.as_of.year - 1, 1, 1), "ms") + np.timedelta64(9 * 3600_000, "ms")
    teams, reps, accounts = _Rows(ds.teams["team_id"]), _Rows(ds.reps["rep_id"]), _Rows(ds.accounts["account_id"])
    opps = _Rows(ds.opportunities["opportunity_id"])
    admin = ref_code("User", 0)
    out: dict[str, Shaped] = {}

    n = ds.teams.num_rows
    names = Strings.of(ds.teams["name"])
    out["UserRole"] = Shaped(n, {
        "Name": names,
        "ParentRoleId": refs("UserRole", teams.of(ds.teams["parent_team_id"])),
        "DeveloperName": Strings(names.codes, np.array([None, *map(_dev_name, names.pool[1:].tolist())])),
        "RollupDescription": names,
        "OpportunityAccessForAccountOwner": _const(n, "None"),
        "LastModifiedDate": np.full(n, setup), "SystemModstamp": np.full(n, setup),
        "LastModifiedById": np.full(n, admin),
    })

    out["Profile"] = Shaped(len(PROFILES), {
        "Name": Strings.of(list(PROFILES)),
        **_audit(np.full(len(PROFILES), setup), np.full(len(PROFILES), setup), np.full(len(PROFILES), admin)),
    })
    n = ds.reps.num_rows
    email = Strings.of(ds.reps["email"])
    profile = np.where(np.arange(n) == 0, ref_code("Profile", 0), ref_code("Profile", 1))  # the API user: admin
    out["User"] = Shaped(n, {
        "ProfileId": profile,
        "Username": email, "FirstName": Strings.of(ds.reps["first_name"]), "LastName": Strings.of(ds.reps["last_name"]),
        "Name": _full_names(ds.reps["first_name"], ds.reps["last_name"]),
        "Email": email, "Title": Strings.of(ds.reps["title"]), "IsActive": _bools(ds.reps["is_active"]),
        "UserRoleId": refs("UserRole", teams.of(ds.reps["team_id"])),
        "ManagerId": refs("User", reps.of(ds.reps["manager_rep_id"])),
        "CurrencyIsoCode": _const(n, "USD"), "DefaultCurrencyIsoCode": _const(n, "USD"),
        **_audit(np.full(n, setup), np.full(n, setup), np.full(n, admin)),
    })

    n = ds.accounts.num_rows
    owner = refs("User", reps.of(ds.accounts["owner_rep_id"]))
    created = _stamps(ds.accounts["created_at"])
    account_ids = _np(ds.accounts["account_id"]).astype(np.int64)
    out["Account"] = Shaped(n, {
        "Name": Strings.of(ds.accounts["name"]), "Industry": Strings.of(ds.accounts["industry"]),
        "Type": _const(n, "Customer - Direct"), "OwnerId": owner,
        "BillingCity": Strings((account_ids % len(CITIES) + 1).astype(np.int32), np.array([None, *CITIES])),
        "BillingCountry": _const(n, "United States"),
        "CurrencyIsoCode": _const(n, "USD"),
        "IsDeleted": np.zeros(n, dtype=bool), **_audit(created, created, owner),
    })

    out["Opportunity"] = _opportunities(ds, reps, accounts)
    out["OpportunityHistory"] = _history(ds, opps, out["Opportunity"])
    out["OpportunityFieldHistory"] = _owner_history(ds, reps, opps, out["User"], admin)
    out["OpportunitySplitType"] = _split_types(setup, admin)
    out["OpportunitySplit"] = _splits(ds, reps, opps, out["Opportunity"])
    out["Lead"] = _leads(ds, reps)
    out["Task"], out["Event"] = _activities(ds, reps, accounts, opps, _Rows(ds.leads["lead_id"]), out["Account"])
    out["NPS_Response__c"] = _feedback(ds, reps, accounts, out["Account"])
    out["Rep_Survey__c"] = _rep_surveys(ds, reps)

    n = ds.quotas.num_rows
    owner = refs("User", reps.of(ds.quotas["rep_id"]))
    out["ForecastingQuota"] = Shaped(n, {
        "QuotaOwnerId": owner, "QuotaAmount": _floats(ds.quotas["amount"]),
        "StartDate": _days(ds.quotas["period_start"]), "IsAmount": np.ones(n, dtype=bool),
        "IsQuantity": np.zeros(n, dtype=bool), "ForecastingTypeId": _const(n, FORECASTING_TYPE_ID),
        "CurrencyIsoCode": _const(n, "USD"),
        **_audit(np.full(n, setup), np.full(n, setup), np.full(n, admin)),
    })

    n = ds.currencies.num_rows
    codes = ds.currencies["iso_code"].to_pylist()
    out["CurrencyType"] = Shaped(n, {
        "IsoCode": codes, "ConversionRate": _floats(ds.currencies["conversion_rate"]),
        "DecimalPlaces": np.array([0.0 if c == "JPY" else 2.0 for c in codes]),
        "IsActive": np.ones(n, dtype=bool), "IsCorporate": np.array([c == "USD" for c in codes]),
        **_audit(np.full(n, setup), np.full(n, setup), np.full(n, admin)),
    })

    n = len(TASK_STATUS_ROWS)
    out["TaskStatus"] = Shaped(n, {
        "MasterLabel": [r[0] for r in TASK_STATUS_ROWS],
        "ApiName": [r[0] for r in TASK_STATUS_ROWS],
        "SortOrder": np.array([float(r[1]) for r in TASK_STATUS_ROWS]),
        "IsDefault": np.array([r[2] for r in TASK_STATUS_ROWS]),
        "IsClosed": np.array([r[3] for r in TASK_STATUS_ROWS]),
        **_audit(np.full(n, setup), np.full(n, setup), np.full(n, admin)),
    })
    return out


def _dev_name(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name).strip("_")


def _opportunities(ds: Any, reps: _Rows, accounts: _Rows) -> Shaped:
    t = ds.opportunities
    n = t.num_rows
    owner = refs("User", reps.of(t["owner_rep_id"]))
    created, modified = _stamps(t["created_at"]), _stamps(t["updated_at"])
    return Shaped(n, {
        "Name": Strings.of(t["name"]), "AccountId": refs("Account", accounts.of(t["account_id"])),
        "OwnerId": owner, **_stage_columns(t["stage"]),
        "Amount": _floats(t["amount"]), "CurrencyIsoCode": Strings.of(t["currency"]),
        "ARR__c": _floats(t["recurring_amount"]), "Type": Strings.of(t["deal_type"], DEAL_TYPE_NAMES),
        "LeadSource": Strings.of(t["lead_source"]), "Loss_Reason__c": Strings.of(t["loss_reason"]),
        "Won_Reason__c": Strings.of(t["won_reason"]),
        "CloseDate": _days(t["close_date"]), "IsDeleted": _bools(t["is_deleted"]),
        **_audit(created, np.maximum(modified, created), owner),
    })


def _history(ds: Any, opps: _Rows, opp: Shaped) -> Shaped:
    t = ds.stage_events
    n = t.num_rows
    rows = opps.of(t["opportunity_id"])
    rows_safe = np.maximum(rows, 0)
    flags = _stage_columns(t["stage"])
    amount = opp.columns["Amount"][rows_safe]
    entered = _stamps(t["entered_at"])
    return Shaped(n, {
        "OpportunityId": refs("Opportunity", rows), "StageName": flags["StageName"], "Amount": amount,
        "ExpectedRevenue": amount * flags["Probability"] / 100.0,
        "CloseDate": opp.columns["CloseDate"][rows_safe], "Probability": flags["Probability"],
        "ForecastCategory": flags["ForecastCategoryName"], "CreatedDate": entered, "SystemModstamp": entered,
        "CreatedById": opp.columns["OwnerId"][rows_safe], "IsDeleted": opp.columns["IsDeleted"][rows_safe],
        "CurrencyIsoCode": opp.columns["CurrencyIsoCode"][rows_safe],
    })


def _owner_history(ds: Any, reps: _Rows, opps: _Rows, user: Shaped, admin: int) -> Shaped:
    """Two rows per owner change: user Ids (DataType EntityId), then names (DataType Text)."""
    t = ds.owner_changes
    n = t.num_rows
    old_rows, new_rows = reps.of(t["old_rep_id"]), reps.of(t["new_rep_id"])
    names = user.columns["Name"].values()
    user_id = [ids.make_id("005", int(r)) for r in range(len(names))]
    changed = _stamps(t["changed_at"])

    def pair(id_values: list[str], name_values: list[str]) -> Strings:
        return Strings.of([v for pair in zip(id_values, name_values, strict=True) for v in pair])

    old = pair([user_id[r] for r in old_rows], [names[r] for r in old_rows])
    new = pair([user_id[r] for r in new_rows], [names[r] for r in new_rows])
    return Shaped(2 * n, {
        "OpportunityId": np.repeat(refs("Opportunity", opps.of(t["opportunity_id"])), 2),
        "Field": _const(2 * n, "Owner"),
        "DataType": Strings(np.tile(np.array([1, 2], dtype=np.int32), n), np.array([None, "EntityId", "Text"])),
        "OldValue": old, "NewValue": new, "CreatedDate": np.repeat(changed, 2),
        "CreatedById": np.full(2 * n, admin), "IsDeleted": np.zeros(2 * n, dtype=bool),
    })


SPLIT_TYPES: tuple[tuple[str, bool, str], ...] = (
    # DeveloperName, IsTotalValidated, Description: the two types an org has once splits are enabled
    ("Revenue", True, "Credit for the opportunity amount; totals validated to 100%"),
    ("Overlay", False, "Credit for overlay and support roles; not validated to 100%"),
)


def _split_types(setup: np.datetime64, admin: int) -> Shaped:
    n = len(SPLIT_TYPES)
    names = [t[0] for t in SPLIT_TYPES]
    return Shaped(n, {
        "DeveloperName": Strings.of(names), "MasterLabel": Strings.of(names), "Language": _const(n, "en_US"),
        "Description": Strings.of([t[2] for t in SPLIT_TYPES]), "IsActive": np.ones(n, dtype=bool),
        "IsTotalValidated": np.array([t[1] for t in SPLIT_TYPES]), "SplitEntity": _const(n, "Opportunity"),
        "SplitField": _const(n, "Amount"), "SplitDataStatus": _const(n, "Completed"),
        "IsDeleted": np.zeros(n, dtype=bool), **_audit(np.full(n, setup), np.full(n, setup), np.full(n, admin)),
    })


def _splits(ds: Any, reps: _Rows, opps: _Rows, opp: Shaped) -> Shaped:
    """The data set's splits, plus the lone 100 % owner split of every opportunity without one."""
    t = ds.opportunity_splits
    split_rows = opps.of(t["opportunity_id"])
    lone = np.ones(opp.count, dtype=bool)
    lone[split_rows[split_rows >= 0]] = False
    lone_rows = np.flatnonzero(lone)
    rows = np.concatenate([split_rows, lone_rows])
    owner = np.concatenate([refs("User", reps.of(t["rep_id"])), opp.columns["OwnerId"][lone_rows]])
    pct = np.concatenate([_floats(t["percentage"]), np.full(len(lone_rows), 100.0)])
    kinds = [name for name, *_ in SPLIT_TYPES]
    type_rows = np.concatenate([
        np.array([kinds.index(k) for k in t["split_type"].to_pylist()], dtype=np.int64),
        np.zeros(len(lone_rows), dtype=np.int64),
    ])
    order = np.lexsort((np.arange(len(rows)), rows))
    rows, owner, pct, type_rows = rows[order], owner[order], pct[order], type_rows[order]
    n = len(rows)
    safe = np.maximum(rows, 0)
    created, modified = opp.columns["CreatedDate"][safe], opp.columns["SystemModstamp"][safe]
    return Shaped(n, {
        "OpportunityId": refs("Opportunity", rows), "SplitOwnerId": owner, "SplitPercentage": pct,
        "SplitTypeId": refs("OpportunitySplitType", type_rows),
        "SplitAmount": np.round(opp.columns["Amount"][safe] * pct / 100.0, 2),
        "Split": Strings.of([f"S-{i:07d}" for i in range(1, n + 1)]),
        "CurrencyIsoCode": opp.columns["CurrencyIsoCode"][safe], "IsDeleted": opp.columns["IsDeleted"][safe],
        **_audit(created, modified, owner),
    })


def _leads(ds: Any, reps: _Rows) -> Shaped:
    t = ds.leads
    n = t.num_rows
    owner = refs("User", reps.of(t["owner_rep_id"]))
    created, converted = _stamps(t["created_at"]), _stamps(t["converted_at"])
    modified = np.where(np.isnat(converted), created, np.maximum(converted, created))
    return Shaped(n, {
        "FirstName": Strings.of(t["first_name"]), "LastName": Strings.of(t["last_name"]),
        "Name": _full_names(t["first_name"], t["last_name"]),
        "Company": Strings.of(t["company"]), "Email": Strings.of(t["email"]),
        "Status": Strings.of(t["status"], LEAD_STATUS_NAMES), "LeadSource": Strings.of(t["lead_source"]),
        "IsConverted": _bools(t["is_converted"]), "ConvertedDate": converted.astype("datetime64[D]"),
        "OwnerId": owner, "CurrencyIsoCode": _const(n, "USD"),
        "IsDeleted": np.zeros(n, dtype=bool), **_audit(created, modified, owner),
    })


def _all_activities(ds: Any) -> pa.Table:
    """The activities, then the calls and e-mails about leads (completed; no account, no opportunity)."""
    base = ds.activities.append_column("lead_id", pa.nulls(ds.activities.num_rows, pa.int64()))
    lead = ds.lead_activities
    n = lead.num_rows
    about_leads = (lead.append_column("is_completed", pa.array(np.ones(n, dtype=bool)))
                   .append_column("account_id", pa.nulls(n, pa.int64()))
                   .append_column("opportunity_id", pa.nulls(n, pa.int64())))
    return pa.concat_tables([base, about_leads.select(base.column_names).cast(base.schema)])


def _activities(ds: Any, reps: _Rows, accounts: _Rows, opps: _Rows, leads: _Rows,
                account: Shaped) -> tuple[Shaped, Shaped]:
    t = _all_activities(ds)
    who = refs("Lead", leads.of(t["lead_id"]))  # a call or e-mail about a lead names it in WhoId
    kind = Strings.of(t["kind"])
    kinds = kind.pool.tolist()
    account_rows = accounts.of(t["account_id"])
    opp_rows = opps.of(t["opportunity_id"])
    owner_rows = reps.of(t["owner_rep_id"])
    account_owner = account.columns["OwnerId"][np.maximum(account_rows, 0)]
    owner = np.where(owner_rows >= 0, refs("User", owner_rows), np.where(account_rows >= 0, account_owner, -1))
    account_ref = refs("Account", account_rows)
    what = np.where(opp_rows >= 0, refs("Opportunity", opp_rows), account_ref)
    occurred = _stamps(t["occurred_at"])
    completed = _bools(t["is_completed"])
    subject = Strings.of(t["subject"])
    is_meeting = kind.codes == (kinds.index("meeting") if "meeting" in kinds else -1)
    task, event = np.flatnonzero(~is_meeting), np.flatnonzero(is_meeting)
    nt, ne = len(task), len(event)
    done, when, owned_by = completed[task], occurred[task], owner[task]
    tasks = Shaped(nt, {
        "Subject": subject[task], "ActivityDate": when.astype("datetime64[D]"),
        "Status": Strings(np.where(done, 1, 2).astype(np.int32), np.array([None, "Completed", "Not Started"])),
        "Priority": _const(nt, "Normal"), "IsClosed": done,
        "OwnerId": owned_by, "WhoId": who[task], "WhatId": what[task], "AccountId": account_ref[task],
        "TaskSubtype": Strings(kind.codes[task], np.array([None, *(TASK_SUBTYPES.get(k, k) for k in kinds[1:])])),
        "CompletedDateTime": np.where(done, when, np.datetime64("NaT", "ms")),
        "IsDeleted": np.zeros(nt, dtype=bool), **_audit(when, when, owned_by),
    })
    ids = _np(t["activity_id"]).astype(np.int64)[event]
    minutes = np.where(ids % 3 == 0, 60.0, 30.0)
    start, owned_by = occurred[event], owner[event]
    events = Shaped(ne, {
        "Subject": subject[event], "ActivityDateTime": start, "ActivityDate": start.astype("datetime64[D]"),
        "DurationInMinutes": minutes, "EndDateTime": start + (minutes * 60_000).astype("timedelta64[ms]"),
        "OwnerId": owned_by, "WhoId": who[event], "WhatId": what[event], "AccountId": account_ref[event],
        "IsDeleted": np.zeros(ne, dtype=bool), **_audit(start, start, owned_by),
    })
    return tasks, events


def _feedback(ds: Any, reps: _Rows, accounts: _Rows, account: Shaped) -> Shaped:
    t = ds.feedback
    n = t.num_rows
    account_rows = accounts.of(t["account_id"])
    rep = refs("User", reps.of(t["rep_id"]))
    owner = np.where(rep >= 0, rep, account.columns["OwnerId"][np.maximum(account_rows, 0)])
    owner = np.where(owner >= 0, owner, ref_code("User", 0))
    submitted = _stamps(t["submitted_at"])
    numbers = _np(t["feedback_id"]).astype(np.int64)
    return Shaped(n, {
        "Name": Strings.of([f"NPS-{i:06d}" for i in numbers.tolist()]),
        "Score__c": _floats(t["score"]), "Kind__c": Strings.of(t["kind"]), "Comment__c": Strings.of(t["comment"]),
        "Account__c": refs("Account", account_rows), "Rep__c": rep, "SubmittedAt__c": submitted,
        "OwnerId": owner, "IsDeleted": np.zeros(n, dtype=bool), **_audit(submitted, submitted, owner),
    })


def _rep_surveys(ds: Any, reps: _Rows) -> Shaped:
    """Each answer owned by the rep who gave it (a survey app's integration user would do too)."""
    t = ds.rep_surveys
    n = t.num_rows
    rep = refs("User", reps.of(t["rep_id"]))
    submitted = _stamps(t["submitted_at"])
    numbers = _np(t["survey_id"]).astype(np.int64)
    return Shaped(n, {
        "Name": Strings.of([f"RS-{i:06d}" for i in numbers.tolist()]), "Rep__c": rep,
        "Score__c": _floats(t["score"]), "Topic__c": Strings.of(t["topic"]), "Comment__c": Strings.of(t["comment"]),
        "SubmittedAt__c": submitted, "OwnerId": rep, "IsDeleted": np.zeros(n, dtype=bool),
        **_audit(submitted, submitted, rep),
    })
